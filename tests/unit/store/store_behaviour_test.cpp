// What the store promises, the same for SQLite and PostgreSQL: each test runs against both (the
// instantiations live in store_sqlite_test.cpp and, labelled integration, store_postgres_test.cpp).

#include "tests/unit/store/store_fixture.h"

#include "schema.h"
#include "sql_connection.h"
#include "store_writer.h"

#include <gmock/gmock.h>

#include <Poco/Data/Session.h>

#include <future>
#include <map>
#include <set>
#include <thread>

namespace switchboard::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using namespace Poco::Data::Keywords;

std::vector<std::string> ids(const std::vector<StoredWorkItem>& items) {
  std::vector<std::string> out;
  for (const auto& stored : items) {
    out.push_back(stored.item.id.value_or("?"));
  }
  return out;
}

WorkItemChange change(const std::string& id, WorkItemState state, const std::string& cause,
                      int second) {
  WorkItemChange step;
  step.workItemId = id;
  step.state = state;
  step.entry.time = at(second);
  step.entry.cause = cause;
  return step;
}

TEST_P(StoreTest, ArrivalsGetIdsAndSurviveReopening) {
  std::string first;
  std::string second;
  {
    auto store = open();
    ArrivalOutcome a = store->commitArrival(email("<a@example.com>", at(1)));
    ArrivalOutcome b = store->commitArrival(email("<b@example.com>", at(2)));
    EXPECT_FALSE(a.duplicate);
    EXPECT_FALSE(b.duplicate);
    EXPECT_EQ(a.workItemId, "wi-000001");
    EXPECT_EQ(b.workItemId, "wi-000002");
    first = a.workItemId;
    second = b.workItemId;
  }
  auto store = open();
  auto stored = store->workItem(first, true);
  ASSERT_TRUE(stored.has_value());
  NewWorkItem expected = email("<a@example.com>", at(1));
  const WorkItem& item = stored->item;
  EXPECT_EQ(item.id, first);
  EXPECT_EQ(item.medium, "email");
  EXPECT_EQ(item.state, WorkItemState::New);
  EXPECT_EQ(item.priority, 50);
  EXPECT_EQ(item.created, at(1));
  EXPECT_EQ(item.sourceKey, "<a@example.com>");
  EXPECT_EQ(item.subject, expected.item.subject);
  EXPECT_EQ(item.body, expected.item.body);
  EXPECT_EQ(item.customer, expected.item.customer);
  EXPECT_EQ(item.contactPoint, expected.item.contactPoint);
  EXPECT_EQ(item.attributes, expected.item.attributes);
  EXPECT_EQ(stored->source, "mail");
  ASSERT_EQ(item.history.size(), 1u);
  EXPECT_EQ(item.history[0].cause, "arrived");
  EXPECT_EQ(item.history[0].actorId, "mail");
  EXPECT_EQ(item.history[0].time, at(1));

  // Numbers go on after a restart; they are never handed out twice.
  EXPECT_EQ(store->commitArrival(email("<c@example.com>")).workItemId, "wi-000003");
  EXPECT_TRUE(store->workItem(second, false).has_value());
  EXPECT_FALSE(store->workItem("wi-000099", false).has_value());
}

TEST_P(StoreTest, SameSourceAndKeyIsADuplicateOfTheFirst) {
  auto store = open();
  ArrivalOutcome first = store->commitArrival(email("<same@example.com>"));
  ArrivalOutcome again = store->commitArrival(email("<same@example.com>"));
  EXPECT_FALSE(first.duplicate);
  EXPECT_TRUE(again.duplicate);
  EXPECT_EQ(again.workItemId, first.workItemId);

  NewWorkItem otherSource = email("<same@example.com>");
  otherSource.source = "imap";
  EXPECT_FALSE(store->commitArrival(otherSource).duplicate);

  NewWorkItem noKey = email("");
  noKey.item.sourceKey.reset();
  EXPECT_NE(store->commitArrival(noKey).workItemId, store->commitArrival(noKey).workItemId);
  EXPECT_EQ(store->workItems({}).size(), 4u);
}

TEST_P(StoreTest, AnAsyncArrivalReportsItsOutcomeOnceCommittedAndDuplicatesToo) {
  auto store = open();
  std::promise<std::pair<std::optional<ArrivalOutcome>, std::string>> first;
  std::promise<std::pair<std::optional<ArrivalOutcome>, std::string>> again;
  store->commitArrivalAsync(email("<async@example.com>"),
                            [&](std::optional<ArrivalOutcome> outcome, const std::string& failure) {
                              first.set_value({std::move(outcome), failure});
                            });
  store->commitArrivalAsync(email("<async@example.com>"),
                            [&](std::optional<ArrivalOutcome> outcome, const std::string& failure) {
                              again.set_value({std::move(outcome), failure});
                            });
  auto [outcome, failure] = first.get_future().get();
  ASSERT_TRUE(outcome.has_value()) << failure;
  EXPECT_FALSE(outcome->duplicate);
  // Reported only once committed: a reader sees the item.
  EXPECT_TRUE(store->workItem(outcome->workItemId, false).has_value());
  auto [repeated, repeatedFailure] = again.get_future().get();
  ASSERT_TRUE(repeated.has_value()) << repeatedFailure;
  EXPECT_TRUE(repeated->duplicate);
  EXPECT_EQ(repeated->workItemId, outcome->workItemId);
}

// SQLite, which one server owns, numbers items before their commit, so that an item can be
// routed first and stored once with its routing steps; PostgreSQL, which several servers may
// share, numbers them only in the committing transaction.
TEST_P(StoreTest, AReservedIdIsCommittedWithTheStepsTakenBeforeTheCommit) {
  auto store = open();
  std::optional<std::string> id = store->reserveWorkItemId();
  if (GetParam() == Backend::Postgresql) {
    EXPECT_FALSE(id.has_value());
    return;
  }
  ASSERT_TRUE(id.has_value());
  NewWorkItem arrival = email("<routed@example.com>", at(10));
  arrival.item.sourceKey.reset();
  arrival.reservedId = id;
  arrival.item.state = WorkItemState::Offered;
  arrival.item.queueId = "billing";
  arrival.item.agentId = "a-ana";
  arrival.steps = {{at(10), WorkItemState::Queued, "queued in billing", "router"},
                   {at(10), WorkItemState::Offered, "offered to a-ana", "a-ana"}};
  arrival.offerExpires = at(40);
  ArrivalOutcome outcome = store->commitArrival(arrival);
  EXPECT_EQ(outcome.workItemId, *id);
  EXPECT_FALSE(outcome.duplicate);

  auto stored = store->workItem(*id, true);
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->item.state, WorkItemState::Offered);
  EXPECT_EQ(stored->item.queueId, "billing");
  EXPECT_EQ(stored->item.agentId, "a-ana");
  EXPECT_EQ(stored->offerExpires, at(40));
  ASSERT_EQ(stored->item.history.size(), 3u);
  EXPECT_EQ(stored->item.history[0].cause, "arrived");
  EXPECT_EQ(stored->item.history[0].state, WorkItemState::New);
  EXPECT_EQ(stored->item.history[1].cause, "queued in billing");
  EXPECT_EQ(stored->item.history[2].state, WorkItemState::Offered);
  EXPECT_EQ(stored->item.history[2].actorId, "a-ana");
  // Recovery finds it in the state it was committed in.
  auto open_items = store->openWorkItems();
  ASSERT_EQ(open_items.size(), 1u);
  EXPECT_EQ(open_items[0].item.state, WorkItemState::Offered);
}

TEST_P(StoreTest, ReservedIdsAreNeverHandedOutTwiceNorReusedAfterARestart) {
  if (GetParam() == Backend::Postgresql) {
    GTEST_SKIP() << "PostgreSQL reserves no ids";
  }
  std::set<std::string> ids;
  std::string highest;
  {
    auto store = open();
    std::vector<std::vector<std::string>> reserved(4);
    std::vector<std::thread> threads;
    for (auto& mine : reserved) {
      threads.emplace_back([&store, &mine] {
        for (int i = 0; i < 250; ++i) {
          mine.push_back(store->reserveWorkItemId().value());
        }
      });
    }
    for (auto& thread : threads) {
      thread.join();
    }
    for (const auto& mine : reserved) {
      ids.insert(mine.begin(), mine.end());
    }
    EXPECT_EQ(ids.size(), 1000u);
    // The highest reserved id commits before a lower one, and nothing else follows: the
    // next server must still number above it.
    highest = *ids.rbegin();
    NewWorkItem last = email("<last@example.com>");
    last.item.sourceKey.reset();
    last.reservedId = highest;
    store->commitArrival(last);
    NewWorkItem lower = email("<lower@example.com>");
    lower.item.sourceKey.reset();
    lower.reservedId = *ids.begin();
    store->commitArrival(lower);
  }
  auto store = open();
  std::string next = store->commitArrival(email("<next@example.com>")).workItemId;
  EXPECT_GT(next, highest);
  EXPECT_EQ(ids.count(store->reserveWorkItemId().value()), 0u);
}

TEST_P(StoreTest, ADuplicateTakesNoNumber) {
  auto store = open();
  std::string first = store->commitArrival(email("<one@example.com>")).workItemId;
  EXPECT_TRUE(store->commitArrival(email("<one@example.com>")).duplicate);
  std::string second = store->commitArrival(email("<two@example.com>")).workItemId;
  EXPECT_EQ(store::workItemNumber(second), store::workItemNumber(first).value() + 1);
}

TEST_P(StoreTest, ConcurrentArrivalsWithOverlappingKeysGiveOneItemPerKey) {
  auto store = open();
  constexpr int kThreads = 8;
  constexpr int kPerThread = 60;
  constexpr int kKeys = 100;
  std::vector<std::vector<std::pair<std::string, ArrivalOutcome>>> seen(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        std::string key = "<" + std::to_string((t * 37 + i * 11) % kKeys) + "@example.com>";
        seen[t].emplace_back(key, store->commitArrival(email(key)));
      }
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  std::map<std::string, std::set<std::string>> idsByKey;
  std::map<std::string, int> firstsByKey;
  for (const auto& outcomes : seen) {
    for (const auto& [key, outcome] : outcomes) {
      idsByKey[key].insert(outcome.workItemId);
      firstsByKey[key] += outcome.duplicate ? 0 : 1;
    }
  }
  for (const auto& [key, found] : idsByKey) {
    EXPECT_EQ(found.size(), 1u) << key;
    EXPECT_EQ(firstsByKey[key], 1) << key;
  }
  WorkItemFilter all;
  all.limit = 10'000;
  auto items = store->workItems(all);
  EXPECT_EQ(items.size(), idsByKey.size());
  std::set<std::string> keys;
  for (const auto& stored : items) {
    EXPECT_TRUE(keys.insert(stored.item.sourceKey.value_or("")).second);
  }
}

TEST_P(StoreTest, ChangesApplyInCallOrderAndBuildTheHistory) {
  auto store = open();
  std::string id = store->commitArrival(email("<k@example.com>", at(0))).workItemId;

  WorkItemChange queued = change(id, WorkItemState::Queued, "classified", 1);
  queued.queueId = "billing";
  WorkItemChange offered = change(id, WorkItemState::Offered, "routed", 2);
  offered.agentId = "agent-7";
  offered.offerExpires = at(32);
  offered.entry.actorId = "router";
  WorkItemChange accepted = change(id, WorkItemState::Accepted, "accepted", 3);
  accepted.entry.actorId = "agent-7";
  // Not waited for one by one: the order of the calls is the order they apply in.
  store->recordChange(queued);
  auto offeredDone = store->recordChange(offered);
  store->recordChange(accepted).get();
  offeredDone.get();

  auto stored = store->workItem(id, true);
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->item.state, WorkItemState::Accepted);
  EXPECT_EQ(stored->item.queueId, "billing");
  EXPECT_EQ(stored->item.agentId, "agent-7");
  EXPECT_FALSE(stored->offerExpires.has_value()) << "an offer expiry outlives its offer";
  EXPECT_EQ(stored->updated, at(3));
  std::vector<std::string> causes;
  for (const auto& entry : stored->item.history) {
    causes.push_back(entry.cause);
  }
  EXPECT_THAT(causes, ElementsAre("arrived", "classified", "routed", "accepted"));
  EXPECT_EQ(stored->item.history[2].state, WorkItemState::Offered);
  EXPECT_EQ(stored->item.history[2].actorId, "router");
  EXPECT_EQ(stored->item.history[3].time, at(3));

  // While offered, the expiry is kept.
  WorkItemChange reoffered = change(id, WorkItemState::Offered, "transferred", 4);
  reoffered.agentId = "agent-9";
  reoffered.offerExpires = at(40);
  store->recordChange(reoffered).get();
  stored = store->workItem(id, false);
  EXPECT_EQ(stored->offerExpires, at(40));
  EXPECT_TRUE(stored->item.history.empty());

  // An empty id clears the column.
  WorkItemChange declined = change(id, WorkItemState::Queued, "declined", 5);
  declined.agentId = "";
  store->recordChange(declined).get();
  stored = store->workItem(id, false);
  EXPECT_FALSE(stored->item.agentId.has_value());
  EXPECT_EQ(stored->item.queueId, "billing");
}

TEST_P(StoreTest, ChangeCanReplaceTheRecord) {
  auto store = open();
  std::string id = store->commitArrival(email("<r@example.com>")).workItemId;
  WorkItem record = email("<r@example.com>").item;
  record.id = id;
  record.priority = 80;
  record.attributes.push_back(Attribute{"tier", "gold"});
  record.customer->ref = "C-2002";
  WorkItemChange step = change(id, WorkItemState::Queued, "classified", 1);
  step.record = record;
  store->recordChange(step).get();
  auto stored = store->workItem(id, false);
  EXPECT_EQ(stored->item.priority, 80);
  EXPECT_EQ(stored->item.attributes, record.attributes);
  EXPECT_EQ(stored->item.customer->ref, "C-2002");
  EXPECT_EQ(stored->item.sourceKey, "<r@example.com>");

  WorkItemChange wrong = change(id, WorkItemState::Queued, "classified", 2);
  wrong.record = record;
  wrong.record->id = "wi-999999";
  EXPECT_THROW(store->recordChange(wrong).get(), StoreError);
}

TEST_P(StoreTest, ChangeToAnUnknownItemFailsAloneAndTheRestCommits) {
  auto store = open();
  std::string id = store->commitArrival(email("<u@example.com>")).workItemId;
  auto unknown = store->recordChange(change("wi-424242", WorkItemState::Queued, "x", 1));
  auto known = store->recordChange(change(id, WorkItemState::Queued, "classified", 1));
  EXPECT_THROW(unknown.get(), StoreError);
  EXPECT_NO_THROW(known.get());
  EXPECT_EQ(store->workItem(id, false)->item.state, WorkItemState::Queued);
}

TEST_P(StoreTest, OpenWorkItemsAreTheUnfinishedOnesOldestFirst) {
  auto store = open();
  std::string late = store->commitArrival(email("<late>", at(30))).workItemId;
  std::string early = store->commitArrival(email("<early>", at(10))).workItemId;
  std::string done = store->commitArrival(email("<done>", at(5))).workItemId;
  std::string offered = store->commitArrival(email("<offered>", at(20))).workItemId;
  std::string gone = store->commitArrival(email("<gone>", at(1))).workItemId;
  std::string accepted = store->commitArrival(email("<accepted>", at(25))).workItemId;
  std::string queued = store->commitArrival(email("<queued>", at(15))).workItemId;
  store->recordChange(change(done, WorkItemState::Completed, "completed", 40));
  store->recordChange(change(gone, WorkItemState::Abandoned, "customerHungUp", 40));
  WorkItemChange offer = change(offered, WorkItemState::Offered, "routed", 41);
  offer.offerExpires = at(60);
  store->recordChange(offer);
  store->recordChange(change(accepted, WorkItemState::Accepted, "accepted", 41));
  store->recordChange(change(queued, WorkItemState::Queued, "classified", 41));
  store->flush();

  auto open = store->openWorkItems();
  EXPECT_THAT(ids(open), ElementsAre(early, queued, offered, accepted, late));
  EXPECT_EQ(open[2].offerExpires, at(60));
}

TEST_P(StoreTest, FiltersAndPagingById) {
  auto store = open();
  std::vector<std::string> all;
  for (int i = 0; i < 7; ++i) {
    NewWorkItem arrival = email("<" + std::to_string(i) + ">", at(i));
    if (i % 2 == 1) {
      arrival.item.medium = "chat";
    }
    all.push_back(store->commitArrival(arrival).workItemId);
  }
  WorkItemChange toBilling = change(all[1], WorkItemState::Queued, "classified", 10);
  toBilling.queueId = "billing";
  store->recordChange(toBilling);
  WorkItemChange toAgent = change(all[2], WorkItemState::Accepted, "accepted", 10);
  toAgent.queueId = "billing";
  toAgent.agentId = "agent-1";
  store->recordChange(toAgent);
  store->flush();

  WorkItemFilter filter;
  filter.state = WorkItemState::New;
  EXPECT_THAT(ids(store->workItems(filter)), ElementsAre(all[0], all[3], all[4], all[5], all[6]));
  filter = {};
  filter.queueId = "billing";
  EXPECT_THAT(ids(store->workItems(filter)), ElementsAre(all[1], all[2]));
  filter.agentId = "agent-1";
  EXPECT_THAT(ids(store->workItems(filter)), ElementsAre(all[2]));
  filter = {};
  filter.medium = "chat";
  EXPECT_THAT(ids(store->workItems(filter)), ElementsAre(all[1], all[3], all[5]));

  std::vector<std::string> paged;
  filter = {};
  filter.limit = 3;
  for (;;) {
    auto page = store->workItems(filter);
    if (page.empty()) {
      break;
    }
    EXPECT_LE(page.size(), 3u);
    for (const auto& stored : page) {
      paged.push_back(*stored.item.id);
    }
    filter.afterId = paged.back();
  }
  EXPECT_EQ(paged, all);

  filter.afterId = "not-an-id";
  EXPECT_THROW(store->workItems(filter), std::invalid_argument);
}

TEST_P(StoreTest, AgentsRoundTripAndAreReplaced) {
  auto store = open();
  StoredAgent anna;
  anna.agent.id = "anna";
  anna.agent.name = "Anna Berg";
  anna.agent.site = "berlin";
  anna.agent.state = AgentState::Ready;
  anna.agent.seniority = 4;
  anna.agent.skills = {Skill{"billing", 8}, Skill{"german", 10}};
  anna.agent.capacity = {Capacity{"email", 5, 2}, Capacity{"voice", 1, std::nullopt}};
  anna.agent.attributes = {Attribute{"team", "blue"}};
  anna.loggedIn = true;
  anna.updated = at(5);
  StoredAgent bob;
  bob.agent.id = "bob";
  bob.updated = at(6);
  store->saveAgent(bob);
  store->saveAgent(anna).get();

  auto agents = store->agents();
  ASSERT_EQ(agents.size(), 2u);
  EXPECT_EQ(agents[0].agent, anna.agent);
  EXPECT_TRUE(agents[0].loggedIn);
  EXPECT_EQ(agents[0].updated, at(5));
  EXPECT_EQ(agents[1].agent, bob.agent);
  EXPECT_FALSE(agents[1].loggedIn);

  anna.agent.state = AgentState::LoggedOut;
  anna.loggedIn = false;
  anna.agent.skills.pop_back();
  store->saveAgent(anna).get();
  agents = store->agents();
  ASSERT_EQ(agents.size(), 2u);
  EXPECT_EQ(agents[0].agent, anna.agent);
  EXPECT_FALSE(agents[0].loggedIn);

  StoredAgent nobody;
  EXPECT_THROW(store->saveAgent(nobody).get(), StoreError);
}

TEST_P(StoreTest, EventLogsListStepsAndStateChangesInCommitOrder) {
  auto store = open();
  std::string first = store->commitArrival(email("<e1@example.com>", at(0))).workItemId;
  std::string second = store->commitArrival(email("<e2@example.com>", at(1))).workItemId;
  WorkItemChange offered = change(first, WorkItemState::Offered, "routed", 2);
  offered.entry.actorId = "anna";
  store->recordChange(offered);
  store->recordChange(change(second, WorkItemState::Queued, "no agent", 3)).get();

  auto items = store->events(StoreEvent::Subject::WorkItem, 0, 100);
  ASSERT_EQ(items.size(), 4u);
  std::vector<std::string> seen;
  for (const StoreEvent& event : items) {
    seen.push_back(event.subjectId + ":" + event.state + ":" + event.cause);
  }
  EXPECT_THAT(seen, ElementsAre(first + ":new:arrived", second + ":new:arrived",
                                first + ":offered:routed", second + ":queued:no agent"));
  EXPECT_EQ(items[2].actorId, "anna");
  EXPECT_EQ(items[2].time, at(2));
  EXPECT_LT(items[0].id, items[1].id);

  // Paging: after an id, at most `limit`.
  auto rest = store->events(StoreEvent::Subject::WorkItem, items[1].id, 1);
  ASSERT_EQ(rest.size(), 1u);
  EXPECT_EQ(rest[0].id, items[2].id);
  EXPECT_TRUE(store->events(StoreEvent::Subject::WorkItem, items[3].id, 10).empty());

  // Only saves that say so are state changes.
  StoredAgent anna;
  anna.agent.id = "anna";
  anna.agent.state = AgentState::Ready;
  anna.updated = at(4);
  store->saveAgent(anna).get();
  anna.agent.state = AgentState::NotReady;
  anna.agent.stateReason = "lunch";
  anna.updated = at(5);
  anna.stateChanged = true;
  store->saveAgent(anna).get();
  auto agents = store->events(StoreEvent::Subject::Agent, 0, 100);
  ASSERT_EQ(agents.size(), 1u);
  EXPECT_EQ(agents[0].subjectId, "anna");
  EXPECT_EQ(agents[0].state, "notReady");
  EXPECT_EQ(agents[0].cause, "lunch");
  EXPECT_EQ(agents[0].time, at(5));

  // A cursor at a time reads everything from that time on.
  std::int64_t fromTwo = store->eventCursorAt(StoreEvent::Subject::WorkItem, at(2));
  auto since = store->events(StoreEvent::Subject::WorkItem, fromTwo, 100);
  ASSERT_EQ(since.size(), 2u);
  EXPECT_EQ(since[0].cause, "routed");
  EXPECT_EQ(store->eventCursorAt(StoreEvent::Subject::WorkItem, at(60)), items[3].id)
      << "a time after every event stands after the last one";
  EXPECT_EQ(store->eventCursorAt(StoreEvent::Subject::Agent, at(0)), agents[0].id - 1);
}

TEST_P(StoreTest, CursorsAreKeptAndReplaced) {
  std::unique_ptr<Store> store = open();
  EXPECT_FALSE(store->cursor("webhook:crm").has_value());
  store->saveCursor("webhook:crm", 41);
  store->saveCursor("webhook:crm", 42).get();
  store->saveCursor("webhook:other", 7).get();
  store.reset();
  store = open();
  EXPECT_EQ(store->cursor("webhook:crm"), 42);
  EXPECT_EQ(store->cursor("webhook:other"), 7);
}

TEST_P(StoreTest, DeadLettersKeepTheBytesAndTheReason) {
  auto store = open();
  DeadLetter first;
  first.time = at(1);
  first.source = "mail";
  first.reason = "malformed MIME";
  first.document = std::string("From: x\r\n\0\xff\xfe binary", 20);
  DeadLetter second;
  second.source = "api";
  second.reason = "not XML";
  second.document = "<<<";
  std::int64_t a = store->recordDeadLetter(first);
  std::int64_t b = store->recordDeadLetter(second);
  EXPECT_GT(b, a);
  auto letters = store->deadLetters(10);
  ASSERT_EQ(letters.size(), 2u);
  EXPECT_EQ(letters[0].id, b) << "newest first";
  EXPECT_EQ(letters[1].id, a);
  EXPECT_EQ(letters[1].document, first.document);
  EXPECT_EQ(letters[1].reason, "malformed MIME");
  EXPECT_EQ(letters[1].source, "mail");
  EXPECT_EQ(letters[1].time, at(1));
  EXPECT_NE(letters[0].time, Timestamp{}) << "an unset time becomes the time of recording";
  EXPECT_EQ(store->deadLetters(1).size(), 1u);

  DeadLetter huge;
  huge.source = "mail";
  huge.reason = "too large";
  huge.document = std::string(3 * 1024 * 1024, 'z');
  store->recordDeadLetter(huge);
  EXPECT_EQ(store->deadLetters(1)[0].document.size(), 1024u * 1024u);
}

TEST_P(StoreTest, StoredResponsesKeepTheFirstAnswer) {
  auto store = open();
  StoredResponse response{"key-1", "sha256:abc", 201, "application/json", R"({"id":"wi-000001"})",
                          at(3)};
  store->saveResponse(response);
  StoredResponse other = response;
  other.status = 500;
  other.body = "{}";
  store->saveResponse(other);
  auto stored = store->response("key-1");
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->key, "key-1");
  EXPECT_EQ(stored->requestHash, "sha256:abc");
  EXPECT_EQ(stored->status, 201);
  EXPECT_EQ(stored->contentType, "application/json");
  EXPECT_EQ(stored->body, response.body);
  EXPECT_EQ(stored->time, at(3));
  EXPECT_FALSE(store->response("key-2").has_value());
}

// The asynchronous form calls back once the answer is durable: read back at once, it is there.
TEST_P(StoreTest, AnAnswerStoredAsynchronouslyIsThereWhenItsCallbackRuns) {
  auto store = open();
  StoredResponse response{"key-async",        "sha256:def",    201,
                          "application/json", R"({"id":"x"})", at(4)};
  std::promise<std::optional<std::string>> called;
  store->saveResponseAsync(
      response, [&](const std::optional<std::string>& failure) { called.set_value(failure); });
  EXPECT_EQ(called.get_future().get(), std::nullopt);
  auto stored = store->response("key-async");
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->body, response.body);
}

TEST_P(StoreTest, GroupCommitPutsManyWritesInOneTransaction) {
  auto store = open();
  constexpr int kThreads = 16;
  constexpr int kPerThread = 40;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        store->commitArrival(email("<" + std::to_string(t) + "." + std::to_string(i) + ">"));
      }
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  StoreStats stats = store->stats();
  EXPECT_EQ(stats.writes, static_cast<std::uint64_t>(kThreads * kPerThread));
  EXPECT_LT(stats.transactions * 2, stats.writes) << "fewer than two writes per transaction";
  EXPECT_GT(stats.commitMicrosTotal, 0u);
  EXPECT_EQ(stats.failures, 0u);
}

TEST_P(StoreTest, FlushMakesQueuedChangesDurable) {
  std::string id;
  {
    auto store = open();
    id = store->commitArrival(email("<f>")).workItemId;
    for (int i = 1; i <= 20; ++i) {
      store->recordChange(change(id, i % 2 ? WorkItemState::Queued : WorkItemState::Offered,
                                 "step " + std::to_string(i), i));
    }
    store->flush();
  }
  auto store = open();
  auto stored = store->workItem(id, true);
  EXPECT_EQ(stored->item.state, WorkItemState::Offered);
  ASSERT_EQ(stored->item.history.size(), 21u);
  EXPECT_EQ(stored->item.history.back().cause, "step 20");
}

TEST_P(StoreTest, ARefusedWriteFailsAloneAndTheStoreKeepsWorking) {
  auto store = open();
  // The database itself refuses dead letters whose reason is "poison".
  store::SqlConnection admin(options_, store::SqlConnection::Role::Writer);
  if (GetParam() == Backend::Sqlite) {
    admin.session() << "CREATE TRIGGER refuse BEFORE INSERT ON dead_letters "
                       "WHEN NEW.reason = 'poison' BEGIN SELECT RAISE(ABORT, 'refused'); END",
        now;
  } else {
    admin.session() << "CREATE FUNCTION refuse() RETURNS trigger AS $body$ BEGIN "
                       "IF NEW.reason = 'poison' THEN RAISE EXCEPTION 'refused'; END IF; "
                       "RETURN NEW; END $body$ LANGUAGE plpgsql",
        now;
    admin.session() << "CREATE TRIGGER refuse BEFORE INSERT ON dead_letters FOR EACH ROW "
                       "EXECUTE FUNCTION refuse()",
        now;
  }
  std::atomic<int> refused{0};
  std::atomic<int> acknowledged{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 20; ++i) {
        if (t == 0 && i % 4 == 0) {
          try {
            store->recordDeadLetter(DeadLetter{0, at(0), "mail", "poison", "bad"});
            ADD_FAILURE() << "a write the database refused was acknowledged";
          } catch (const StoreError& e) {
            EXPECT_THAT(e.what(), HasSubstr("refused"));
            ++refused;
          }
        } else {
          store->commitArrival(email("<" + std::to_string(t) + "." + std::to_string(i) + ">"));
          ++acknowledged;
        }
      }
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  EXPECT_EQ(refused, 5);
  EXPECT_TRUE(store->deadLetters(100).empty());
  WorkItemFilter all;
  all.limit = 1000;
  EXPECT_EQ(store->workItems(all).size(), static_cast<std::size_t>(acknowledged.load()));
  EXPECT_GT(store->stats().failures, 0u);
  EXPECT_GT(store->recordDeadLetter(DeadLetter{0, at(0), "mail", "fine", "ok"}), 0);
}

TEST_P(StoreTest, TextThatIsNotUtf8IsKeptReadable) {
  auto store = open();
  NewWorkItem arrival = email(std::string("<\xff\xfe@example.com>"));
  ArrivalOutcome first = store->commitArrival(arrival);
  EXPECT_TRUE(store->commitArrival(arrival).duplicate);
  auto stored = store->workItem(first.workItemId, false);
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->item.sourceKey, "<\xEF\xBF\xBD\xEF\xBF\xBD@example.com>");
}

// ------------------------------------------------------------------------------------ schema

TEST_P(StoreTest, AnEmptyDatabaseIsMigratedToTheLatestVersion) {
  open();
  store::SqlConnection connection(options_, store::SqlConnection::Role::Writer);
  EXPECT_EQ(store::Schema::version(connection), store::Schema::latestVersion());
  std::vector<int> versions;
  connection.session() << "SELECT version FROM schema_version ORDER BY version", into(versions),
      now;
  std::vector<int> expected;
  for (const auto& migration : store::Schema::migrations()) {
    expected.push_back(migration.version);
  }
  EXPECT_EQ(versions, expected);
}

TEST_P(StoreTest, AnOlderDatabaseIsUpgradedAndKeepsItsRows) {
  {
    store::SqlConnection connection(options_, store::SqlConnection::Role::Writer);
    store::Schema::migrate(connection, 1);
    EXPECT_EQ(store::Schema::version(connection), 1);
    connection.session() << "INSERT INTO dead_letters (time_ms, source, reason, document, "
                            "original_size) VALUES (0, 'mail', 'old', 'x', 1)",
        now;
  }
  auto store = open();
  EXPECT_EQ(store->deadLetters(10).size(), 1u);
  store::SqlConnection connection(options_, store::SqlConnection::Role::Writer);
  EXPECT_EQ(store::Schema::version(connection), store::Schema::latestVersion());
}

// Migration 4 takes the unique index off work_items.id (SQLite makes the table again): the items
// stay, are found by id, keep their history, and numbering goes on after the highest.
TEST_P(StoreTest, ItemsStoredBeforeMigrationFourAreKeptAndFoundById) {
  {
    store::SqlConnection connection(options_, store::SqlConnection::Role::Writer);
    store::Schema::migrate(connection, 3);
    connection.session() << "INSERT INTO work_items (seq, id, source, medium, state, priority, "
                            "queue_id, created_ms, updated_ms, record) VALUES (7, 'wi-000007', "
                            "'mail', 'email', 'queued', 50, 'billing', 1000, 2000, '<x/>')",
        now;
    connection.session() << "INSERT INTO transitions (work_item_id, time_ms, state, cause) "
                            "VALUES ('wi-000007', 1000, 'new', 'arrived')",
        now;
    connection.session() << "UPDATE counters SET value = 7 WHERE name = 'work_item'", now;
  }
  auto store = open();
  std::optional<StoredWorkItem> kept = store->workItem("wi-000007", true);
  ASSERT_TRUE(kept.has_value());
  EXPECT_EQ(kept->item.state, WorkItemState::Queued);
  EXPECT_EQ(kept->item.queueId, std::optional<std::string>("billing"));
  ASSERT_EQ(kept->item.history.size(), 1u);
  EXPECT_EQ(kept->item.history[0].cause, "arrived");
  EXPECT_FALSE(store->workItem("wi-7", false).has_value()) << "another spelling of the number";
  EXPECT_FALSE(store->workItem("wi-0000007", false).has_value());
  EXPECT_EQ(store->commitArrival(email("<after@x>")).workItemId, "wi-000008");

  store::SqlConnection connection(options_, store::SqlConnection::Role::Writer);
  EXPECT_EQ(store::Schema::version(connection), store::Schema::latestVersion());
  int uniqueIndexes = -1;
  connection.session() << (GetParam() == Backend::Sqlite
                               ? "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND "
                                 "tbl_name = 'work_items' AND name LIKE 'sqlite_autoindex%'"
                               : "SELECT COUNT(*) FROM pg_indexes WHERE tablename = 'work_items' "
                                 "AND indexdef LIKE '%UNIQUE%' AND indexname <> 'work_items_pkey'"),
      into(uniqueIndexes), now;
  EXPECT_EQ(uniqueIndexes, 0);
  std::vector<std::string> indexes;
  connection.session() << (GetParam() == Backend::Sqlite
                               ? "SELECT name FROM sqlite_master WHERE type = 'index' AND "
                                 "tbl_name = 'work_items' ORDER BY name"
                               : "SELECT indexname FROM pg_indexes WHERE tablename = "
                                 "'work_items' AND indexname <> 'work_items_pkey' ORDER BY "
                                 "indexname"),
      into(indexes), now;
  EXPECT_EQ(indexes,
            (std::vector<std::string>{"work_items_agent", "work_items_queue", "work_items_state"}));
}

TEST_P(StoreTest, ACurrentDatabaseOpensUnchanged) {
  std::string id = open()->commitArrival(email("<x>")).workItemId;
  auto store = open();
  EXPECT_TRUE(store->workItem(id, false).has_value());
  store::SqlConnection connection(options_, store::SqlConnection::Role::Writer);
  int rows = 0;
  connection.session() << "SELECT COUNT(*) FROM schema_version", into(rows), now;
  EXPECT_EQ(rows, store::Schema::latestVersion());
}

TEST_P(StoreTest, ADatabaseFromANewerBuildIsRefused) {
  open();
  {
    store::SqlConnection connection(options_, store::SqlConnection::Role::Writer);
    int newer = store::Schema::latestVersion() + 1;
    connection.session() << connection.sql("INSERT INTO schema_version (version, description, "
                                           "applied_ms) VALUES (?, 'from the future', 0)"),
        use(newer), now;
  }
  try {
    open();
    FAIL() << "a newer database was opened";
  } catch (const StoreError& e) {
    EXPECT_THAT(e.what(), HasSubstr("newer than this build knows"));
  }
}

} // namespace
} // namespace switchboard::testing
