// The ready index against a plain ordered set: random filing, unfiling and key changes of
// thousands of agents, enough to split chunks, drop stale heads and compact, in every layout.

#include "ready_index.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <set>
#include <vector>

namespace switchboard::routing {
namespace {

struct Model {
  std::vector<std::uint32_t> versions;
  std::vector<IndexKey> keys; ///< each agent's current key
  std::vector<bool> filed;
  std::set<IndexKey> live; ///< what the index must yield, in order
};

std::vector<AgentIndex> walk(const ReadyIndex& index, const Model& model, std::size_t limit,
                             AgentIndex stopAt = kNone) {
  std::vector<AgentIndex> seen;
  index.forEach([&](const IndexKey& key) { return model.keys[key.agent] == key; },
                [&](AgentIndex agent) {
                  seen.push_back(agent);
                  return agent == stopAt || seen.size() >= limit;
                });
  return seen;
}

/// `part`: the key part that varies besides the bucket (keys[0] when bucketed). An entry keeps
/// one part inline (keys[0], or keys[1] when bucketed) and the others beside it, so parts past
/// that one exercise the wide entries, whose leads all tie.
void exercise(ReadyIndex::Layout layout, std::uint32_t seed, std::size_t part) {
  constexpr std::uint32_t kAgents = 3000;
  Model model;
  model.versions.assign(kAgents, 0);
  model.keys.resize(kAgents);
  model.filed.assign(kAgents, false);
  ReadyIndex index(layout, &model.versions);
  std::mt19937 random(seed);
  std::int64_t clock = 0;
  // A key that changes while its agent stays filed never comes back (the engine's keys only
  // grow then); a fresh filing may use any key, even an old one (a round-robin turn).
  auto newKey = [&](AgentIndex agent, bool fresh) {
    IndexKey key;
    key.agent = agent;
    if (layout == ReadyIndex::Layout::Bucketed) {
      key.keys[0] = static_cast<std::int64_t>(random() % 12) - 4;
    }
    key.keys[part] =
        fresh && random() % 4 == 0 ? static_cast<std::int64_t>(random() % 1000) - 500 : ++clock;
    return key;
  };
  auto file = [&](AgentIndex agent, bool fresh) {
    model.keys[agent] = newKey(agent, fresh);
    index.insert(model.keys[agent], model.versions[agent]);
    model.live.insert(model.keys[agent]);
    model.filed[agent] = true;
  };
  auto current = [&](const IndexKey& key) { return model.keys[key.agent] == key; };
  for (int step = 0; step < 40'000; ++step) {
    const AgentIndex agent = random() % kAgents;
    const unsigned what = random() % 10;
    if (!model.filed[agent]) {
      file(agent, true);
    } else if (what < 5) { // stops being routable
      model.live.erase(model.keys[agent]);
      ++model.versions[agent];
      model.filed[agent] = false;
      index.markStale(current);
    } else if (what < 8) { // its key changes while it stays filed
      model.live.erase(model.keys[agent]);
      index.markStale(current);
      file(agent, false);
    } else { // a decision: the first agent the caller accepts
      const auto all = walk(index, model, kAgents);
      if (layout == ReadyIndex::Layout::Unsorted) {
        ASSERT_EQ(all.size(), model.live.size()) << "step " << step;
        ASSERT_EQ(std::set<AgentIndex>(all.begin(), all.end()).size(), model.live.size());
      } else {
        std::vector<AgentIndex> expected;
        for (const IndexKey& key : model.live) {
          expected.push_back(key.agent);
        }
        ASSERT_EQ(all, expected) << "step " << step;
        if (!expected.empty()) {
          const AgentIndex stop = expected[expected.size() / 3];
          const auto prefix = walk(index, model, kAgents, stop);
          ASSERT_EQ(prefix.back(), stop);
        }
      }
      ASSERT_EQ(index.size(), model.live.size()) << "step " << step;
    }
  }
}

TEST(ReadyIndexTest, SortedMatchesAnOrderedSet) {
  exercise(ReadyIndex::Layout::Sorted, 1, 0);
}

TEST(ReadyIndexTest, SortedWithKeysPastTheFirstMatchesAnOrderedSet) {
  exercise(ReadyIndex::Layout::Sorted, 4, 1);
  exercise(ReadyIndex::Layout::Sorted, 5, 3);
}

TEST(ReadyIndexTest, BucketedMatchesAnOrderedSet) {
  exercise(ReadyIndex::Layout::Bucketed, 2, 1);
}

TEST(ReadyIndexTest, BucketedWithKeysPastTheSecondMatchesAnOrderedSet) {
  exercise(ReadyIndex::Layout::Bucketed, 6, 2);
}

TEST(ReadyIndexTest, UnsortedYieldsEveryLiveAgentOnce) {
  exercise(ReadyIndex::Layout::Unsorted, 3, 1);
}

TEST(ReadyIndexTest, UntoldStaleEntriesAreCompactedAwayAsTheIndexGrows) {
  // The engine does not tell the index when an agent's entries go stale (compactIfGrown): the
  // index must still yield exactly the live agents, in order, and stay within a few times
  // their number instead of growing with every filing.
  constexpr std::uint32_t kAgents = 1000;
  Model model;
  model.versions.assign(kAgents, 0);
  model.keys.resize(kAgents);
  model.filed.assign(kAgents, false);
  ReadyIndex index(ReadyIndex::Layout::Sorted, &model.versions);
  std::mt19937 random(9);
  std::int64_t clock = 0;
  auto current = [&](const IndexKey& key) { return model.keys[key.agent] == key; };
  std::size_t largest = 0;
  for (int step = 0; step < 60'000; ++step) {
    const AgentIndex agent = random() % kAgents;
    if (!model.filed[agent] || random() % 2 == 0) { // filed afresh, or again under a new key
      const bool fresh = !model.filed[agent];
      if (!fresh) {
        model.live.erase(model.keys[agent]);
      }
      // Keys only grow while an agent stays filed; a fresh filing may use an old one.
      IndexKey key;
      key.agent = agent;
      key.keys[0] =
          fresh && random() % 5 == 0 ? static_cast<std::int64_t>(random() % 100) : ++clock;
      model.keys[agent] = key;
      index.insert(key, model.versions[agent]);
      index.compactIfGrown(current);
      model.live.insert(key);
      model.filed[agent] = true;
    } else { // stops being routable
      model.live.erase(model.keys[agent]);
      ++model.versions[agent];
      model.filed[agent] = false;
    }
    // No decisions in between, whose walks would drop the stale entries they pass: only
    // compaction keeps the index small. Now and then the whole index against the model.
    if (step == 29'999 || step == 59'999) {
      const auto all = walk(index, model, kAgents);
      std::vector<AgentIndex> expected;
      for (const IndexKey& key : model.live) {
        expected.push_back(key.agent);
      }
      ASSERT_EQ(all, expected) << "step " << step;
    }
    largest = std::max(largest, index.size());
  }
  // Some 40,000 filings: the index stays within a few times the agents (20,000 entries without
  // compaction). A compaction that checks versions only keeps the entries whose keys changed,
  // so the bound is loose.
  EXPECT_LE(largest, 8 * kAgents);
}

TEST(ReadyIndexTest, ManyDistinctFirstKeysFallBackToOneSortedBucket) {
  std::vector<std::uint32_t> versions(1000, 0);
  ReadyIndex index(ReadyIndex::Layout::Bucketed, &versions);
  std::vector<IndexKey> keys;
  for (AgentIndex agent = 0; agent < 1000; ++agent) {
    IndexKey key;
    key.agent = agent;
    key.keys[0] = (agent * 7919) % 300; // seniority in days, say
    key.keys[1] = agent % 17;
    index.insert(key, 0);
    keys.push_back(key);
  }
  std::sort(keys.begin(), keys.end());
  std::vector<AgentIndex> expected;
  for (const IndexKey& key : keys) {
    expected.push_back(key.agent);
  }
  std::vector<AgentIndex> seen;
  index.forEach([](const IndexKey&) { return true; },
                [&](AgentIndex agent) {
                  seen.push_back(agent);
                  return false;
                });
  EXPECT_EQ(seen, expected);
}

TEST(ReadyIndexTest, BulkFilingIsSortedBeforeReading) {
  std::vector<std::uint32_t> versions(500, 0);
  ReadyIndex index(ReadyIndex::Layout::Sorted, &versions);
  for (AgentIndex agent = 0; agent < 500; ++agent) {
    IndexKey key;
    key.agent = agent;
    key.keys[0] = (agent * 7919) % 500;
    index.append(key, 0);
  }
  index.sortAll();
  std::vector<std::int64_t> order;
  index.forEach([](const IndexKey&) { return true; },
                [&](AgentIndex agent) {
                  order.push_back((agent * 7919) % 500);
                  return false;
                });
  ASSERT_EQ(order.size(), 500u);
  EXPECT_TRUE(std::is_sorted(order.begin(), order.end()));
}

TEST(ReadyIndexTest, AStageWalkSeesItsStagesEntriesAndKeepsTheOthers) {
  // Agent a meets stage 0 when a % 3 == 0, stage 1 always, stage 40 (bit 31) when a % 5 == 0.
  std::vector<std::uint32_t> versions(300, 0);
  ReadyIndex index(ReadyIndex::Layout::Sorted, &versions);
  auto stagesOf = [](AgentIndex a) {
    return (a % 3 == 0 ? ReadyIndex::stageBit(0) : 0U) | ReadyIndex::stageBit(1) |
           (a % 5 == 0 ? ReadyIndex::stageBit(40) : 0U);
  };
  for (AgentIndex agent = 0; agent < 300; ++agent) {
    IndexKey key;
    key.agent = agent;
    key.keys[0] = 1000 - agent; // filed out of order: later agents first
    index.insert(key, 0, stagesOf(agent));
  }
  auto walk = [&](std::uint32_t stage) {
    std::vector<AgentIndex> seen;
    index.forEach(
        ReadyIndex::stageBit(stage), [](const IndexKey&) { return true; },
        [&](AgentIndex agent) {
          seen.push_back(agent);
          return false;
        });
    return seen;
  };
  auto expected = [&](std::uint32_t stage) {
    std::vector<AgentIndex> agents;
    for (AgentIndex agent = 300; agent-- > 0;) {
      if ((stagesOf(agent) & ReadyIndex::stageBit(stage)) != 0) {
        agents.push_back(agent);
      }
    }
    return agents;
  };
  EXPECT_EQ(walk(0), expected(0));
  EXPECT_EQ(walk(1), expected(1)); // the stage 0 walk dropped none of stage 1's entries
  EXPECT_EQ(walk(35), expected(40));
  EXPECT_EQ(walk(0), expected(0));
  // An agent gone stale is dropped by any walk, whichever stage its entry was for.
  versions[10] = 1;
  auto withoutTen = expected(1);
  std::erase(withoutTen, 10U);
  EXPECT_EQ(walk(0).size(), expected(0).size());
  EXPECT_EQ(walk(1), withoutTen);
}

TEST(ReadyIndexTest, RoomSummariesSkipOnlyChunksWithoutRoom) {
  // Agents whose room (three media) changes while they stay filed: a walk for a medium must
  // yield, in order, exactly the live agents with room for it, whichever chunks it passes over.
  for (const auto layout : {ReadyIndex::Layout::Sorted, ReadyIndex::Layout::Bucketed}) {
    constexpr std::uint32_t kAgents = 600;
    std::vector<AgentHot> hot(kAgents);
    std::vector<IndexKey> keys(kAgents);
    std::vector<bool> filed(kAgents, false);
    std::set<IndexKey> live;
    ReadyIndex index(layout, &hot);
    std::mt19937 random(layout == ReadyIndex::Layout::Sorted ? 11 : 12);
    std::int64_t clock = 0;
    auto current = [&](const IndexKey& key) { return keys[key.agent] == key; };
    auto file = [&](AgentIndex agent, bool fresh) {
      IndexKey key;
      key.agent = agent;
      if (layout == ReadyIndex::Layout::Bucketed) {
        key.keys[0] = static_cast<std::int64_t>(random() % 5);
      }
      key.keys[1] =
          fresh && random() % 4 == 0 ? static_cast<std::int64_t>(random() % 500) : ++clock;
      keys[agent] = key;
      index.insert(key, hot[agent].version);
      live.insert(key);
      filed[agent] = true;
    };
    std::size_t passedOver = 0;
    for (int step = 0; step < 30'000; ++step) {
      const AgentIndex agent = random() % kAgents;
      const unsigned what = random() % 10;
      if (!filed[agent]) {
        hot[agent].room = static_cast<std::uint8_t>(1 + random() % 7);
        file(agent, true);
      } else if (what < 2) { // stops being routable
        live.erase(keys[agent]);
        ++hot[agent].version;
        filed[agent] = false;
        index.markStale(current);
      } else if (what < 3) { // its key changes
        live.erase(keys[agent]);
        index.markStale(current);
        file(agent, false);
      } else if (what < 6) { // its room changes while its entry stays
        const auto room = static_cast<std::uint8_t>(1 + random() % 7);
        const auto gained = static_cast<std::uint8_t>(room & ~hot[agent].room);
        hot[agent].room = room;
        if (gained != 0) {
          index.widen(keys[agent], gained);
        }
      } else { // a decision for one medium, read to the end or stopped part way
        const auto bit = static_cast<std::uint8_t>(1U << (random() % 3));
        std::vector<AgentIndex> expected;
        for (const IndexKey& key : live) {
          if ((hot[key.agent].room & bit) != 0) {
            expected.push_back(key.agent);
          }
        }
        const AgentIndex stop =
            expected.empty() || random() % 2 == 0 ? kNone : expected[random() % expected.size()];
        std::vector<AgentIndex> seen;
        index.forEach(
            ReadyIndex::kAllStages, bit, current,
            [&](AgentIndex a) {
              if ((hot[a].room & bit) == 0) {
                return false;
              }
              seen.push_back(a);
              return a == stop;
            },
            [&](std::uint32_t, const IndexKey&) { ++passedOver; });
        if (stop != kNone) {
          expected.erase(std::find(expected.begin(), expected.end(), stop) + 1, expected.end());
        }
        ASSERT_EQ(seen, expected) << "step " << step;
      }
    }
    EXPECT_GT(passedOver, 0u); // the summaries did let walks pass over chunks
  }
}

} // namespace
} // namespace switchboard::routing
