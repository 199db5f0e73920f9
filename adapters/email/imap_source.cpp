#include "imap_source.h"

#include <algorithm>
#include <charconv>
#include <iostream>

namespace switchboard::email {
namespace {

// Mails whose sizes one UID FETCH asks for.
constexpr std::size_t kSizesPerCommand = 5000;

// The number after `name` and a space in `line` ("UID 12", "RFC822.SIZE 1234", "[UIDVALIDITY 7").
std::optional<std::uint64_t> numberAfter(std::string_view line, std::string_view name) {
  for (std::size_t at = line.find(name); at != std::string_view::npos;
       at = line.find(name, at + 1)) {
    bool starts = at == 0 || line[at - 1] == ' ' || line[at - 1] == '(' || line[at - 1] == '[';
    std::size_t digits = at + name.size() + 1;
    if (!starts || digits >= line.size() || line[digits - 1] != ' ') {
      continue;
    }
    std::uint64_t value = 0;
    auto [end, error] = std::from_chars(line.data() + digits, line.data() + line.size(), value);
    if (error == std::errc() && end != line.data() + digits) {
      return value;
    }
  }
  return std::nullopt;
}

bool isFetch(std::string_view line) {
  // "* 12 FETCH (...": a message number, then FETCH.
  std::size_t space = line.find(' ', 2);
  return line.starts_with("* ") && space != std::string_view::npos &&
         line.substr(space + 1).starts_with("FETCH ");
}

// The UIDVALIDITY a SELECT answered with ("* OK [UIDVALIDITY 7] ...").
std::optional<std::uint64_t> uidValidityOf(const ImapResponse& selected) {
  for (const ImapUntagged& line : selected.untagged) {
    if (auto value = numberAfter(line.line, "UIDVALIDITY")) {
      return value;
    }
  }
  return numberAfter(selected.text, "UIDVALIDITY");
}

// The UIDs a UID SEARCH answered with ("* SEARCH 3 4 9"), sorted, each once.
std::vector<std::uint32_t> searchedUids(const ImapResponse& found) {
  std::vector<std::uint32_t> uids;
  for (const ImapUntagged& line : found.untagged) {
    if (!line.line.starts_with("* SEARCH")) {
      continue;
    }
    std::string_view rest = std::string_view(line.line).substr(8);
    for (std::size_t start; (start = rest.find_first_not_of(' ')) != std::string_view::npos;) {
      rest.remove_prefix(start);
      std::uint32_t uid = 0;
      auto [end, error] = std::from_chars(rest.data(), rest.data() + rest.size(), uid);
      if (error != std::errc()) {
        break;
      }
      uids.push_back(uid);
      rest.remove_prefix(static_cast<std::size_t>(end - rest.data()));
    }
  }
  std::sort(uids.begin(), uids.end());
  uids.erase(std::unique(uids.begin(), uids.end()), uids.end());
  return uids;
}

// UID to size, from the answer to UID FETCH ... (RFC822.SIZE).
std::map<std::uint32_t, std::uint64_t> sizesOf(const ImapResponse& fetched) {
  std::map<std::uint32_t, std::uint64_t> sizes;
  for (const ImapUntagged& line : fetched.untagged) {
    if (!isFetch(line.line)) {
      continue;
    }
    auto uid = numberAfter(line.line, "UID");
    auto size = numberAfter(line.line, "RFC822.SIZE");
    if (uid && size) {
      sizes[static_cast<std::uint32_t>(*uid)] = *size;
    }
  }
  return sizes;
}

} // namespace

std::string uidSet(const std::vector<std::uint32_t>& uids) {
  std::string set;
  for (std::size_t i = 0; i < uids.size();) {
    std::size_t j = i;
    while (j + 1 < uids.size() && uids[j + 1] == uids[j] + 1) {
      ++j;
    }
    set += (set.empty() ? "" : ",") + std::to_string(uids[i]);
    if (j > i) {
      set += ":" + std::to_string(uids[j]);
    }
    i = j + 1;
  }
  return set;
}

ImapSource::ImapSource(ImapOptions options, MessageSink& sink, AttachmentStore& attachments,
                       MetricsRegistry* metrics)
    : options_(std::move(options)), intake_(options_.intake, sink, attachments, metrics),
      poller_(options_.pollInterval, [this] { pollOnce(); }) {
  for (const MailboxAccount& account : options_.mailboxes) {
    mailboxes_.push_back(Mailbox{account, nullptr});
  }
}

ImapSource::~ImapSource() {
  stop();
}

void ImapSource::start() {
  intake_.start();
  poller_.start();
}

void ImapSource::stop() {
  poller_.stop();
  for (Mailbox& mailbox : mailboxes_) {
    mailbox.connection.reset();
  }
  intake_.stop();
}

std::size_t ImapSource::pollOnce() {
  std::size_t taken = 0;
  for (Mailbox& mailbox : mailboxes_) {
    if (stopping()) {
      break;
    }
    try {
      taken += pollMailbox(mailbox);
    } catch (const std::exception& e) {
      // The connection is dropped and opened afresh on the next poll; nothing was acknowledged
      // that was not committed.
      std::cerr << "imap " << options_.intake.driverName << ": " << mailbox.account.user << "/"
                << mailbox.account.folder << ": " << e.what() << '\n';
      mailbox.connection.reset();
    }
  }
  return taken;
}

std::size_t ImapSource::pollMailbox(Mailbox& mailbox) {
  const MailboxAccount& account = mailbox.account;
  if (!mailbox.connection) {
    mailbox.connection =
        std::make_unique<ImapConnection>(options_.server, account.user, account.password.reveal());
    // Folders the mails go to must exist before the first mail is acknowledged; "already
    // exists" is the usual answer and is fine.
    for (const std::string* folder : {&options_.moveTo, &options_.rejectedFolder}) {
      if (!folder->empty()) {
        mailbox.connection->command("CREATE " + ImapConnection::quoted(*folder));
      }
    }
  }
  ImapConnection& imap = *mailbox.connection;
  std::optional<std::uint64_t> uidValidity =
      uidValidityOf(imap.require("SELECT " + ImapConnection::quoted(account.folder)));
  if (!uidValidity) {
    throw ImapError("the server names no UIDVALIDITY for " + account.folder);
  }
  std::vector<std::uint32_t> uids = searchedUids(
      imap.require(options_.afterCommit == ImapAfterCommit::Seen ? "UID SEARCH UNSEEN UNDELETED"
                                                                 : "UID SEARCH UNDELETED"));
  if (uids.empty()) {
    return 0;
  }

  const std::string where = "imap://" + account.user + "@" + options_.server.host + "/" +
                            account.folder + ";UIDVALIDITY=" + std::to_string(*uidValidity);
  const std::string keyPrefix = "imap:" + account.user + "@" + options_.server.host + "/" +
                                account.folder + ";" + std::to_string(*uidValidity) + ":";
  std::size_t taken = 0;
  for (std::size_t first = 0; first < uids.size(); first += kSizesPerCommand) {
    std::vector<std::uint32_t> chunk(uids.begin() + static_cast<std::ptrdiff_t>(first),
                                     uids.begin() + static_cast<std::ptrdiff_t>(std::min(
                                                        uids.size(), first + kSizesPerCommand)));
    std::map<std::uint32_t, std::uint64_t> sizes =
        sizesOf(imap.require("UID FETCH " + uidSet(chunk) + " (RFC822.SIZE)"));
    // Batches of mails, by count and bytes; mails over the limit join without their bytes.
    struct Batch {
      std::vector<FetchedMail> mails;
      std::vector<std::uint32_t> uids;
      std::vector<std::uint32_t> toFetch;
    };
    std::vector<Batch> batches;
    for (auto next = sizes.begin(); next != sizes.end();) {
      Batch& batch = batches.emplace_back();
      std::uint64_t bytes = 0;
      for (; next != sizes.end() && batch.mails.size() < options_.fetchBatch &&
             (batch.mails.empty() || bytes < options_.fetchBatchBytes);
           ++next) {
        auto [uid, size] = *next;
        FetchedMail mail;
        mail.sourceKey = keyPrefix + std::to_string(uid);
        mail.reference = where + ";UID=" + std::to_string(uid);
        mail.mailbox = mail.reference;
        mail.size = size;
        mail.contactPoint = account.contactPoint;
        if (size <= options_.intake.maxMessageBytes) {
          batch.toFetch.push_back(uid);
          bytes += size;
        }
        batch.mails.push_back(std::move(mail));
        batch.uids.push_back(uid);
      }
    }
    auto request = [&](const Batch& batch) -> std::optional<std::string> {
      if (batch.toFetch.empty()) {
        return std::nullopt;
      }
      return imap.send("UID FETCH " + uidSet(batch.toFetch) + " (BODY.PEEK[])");
    };
    // The next batch is asked for before this one is submitted, so that the mail server reads
    // and sends it while the store commits this one.
    std::optional<std::string> pending = batches.empty() ? std::nullopt : request(batches[0]);
    std::optional<ImapResponse> fetched;
    if (pending) {
      fetched = imap.receive(*pending);
    }
    for (std::size_t b = 0; b < batches.size(); ++b) {
      Batch& batch = batches[b];
      std::map<std::uint32_t, std::string> bodies;
      if (fetched) {
        for (ImapUntagged& line : fetched->untagged) {
          if (!isFetch(line.line) || line.literals.empty()) {
            continue;
          }
          if (auto uid = numberAfter(line.line, "UID")) {
            bodies[static_cast<std::uint32_t>(*uid)] = std::move(line.literals.front());
          }
        }
      }
      fetched.reset();
      pending.reset();
      if (stopping()) {
        return taken;
      }
      if (b + 1 < batches.size()) {
        pending = request(batches[b + 1]);
      }
      // A mail expunged meanwhile has no body: it is neither submitted nor acknowledged.
      std::vector<FetchedMail> present;
      std::vector<std::uint32_t> presentUids;
      for (std::size_t i = 0; i < batch.mails.size(); ++i) {
        bool oversize = batch.mails[i].size > options_.intake.maxMessageBytes;
        auto body = bodies.find(batch.uids[i]);
        if (!oversize && body == bodies.end()) {
          continue;
        }
        if (!oversize) {
          batch.mails[i].bytes = std::move(body->second);
        }
        present.push_back(std::move(batch.mails[i]));
        presentUids.push_back(batch.uids[i]);
      }
      std::vector<IntakeOutcome> outcomes = intake_.take(present);
      std::vector<std::uint32_t> done;
      std::vector<std::uint32_t> rejected;
      bool retry = false;
      for (std::size_t i = 0; i < outcomes.size(); ++i) {
        switch (outcomes[i]) {
        case IntakeOutcome::Committed:
        case IntakeOutcome::Duplicate:
          done.push_back(presentUids[i]);
          break;
        case IntakeOutcome::Rejected:
          (options_.rejectedFolder.empty() ? done : rejected).push_back(presentUids[i]);
          break;
        case IntakeOutcome::Retry:
          retry = true;
          break;
        }
      }
      // The answer to the next batch's FETCH comes before any later answer: take it first.
      if (pending) {
        fetched = imap.receive(*pending);
      }
      acknowledge(imap, done, false);
      acknowledge(imap, rejected, true);
      taken += done.size() + rejected.size();
      if (retry) {
        // The server cannot take mail now: what is left stays unmarked for the next poll.
        return taken;
      }
    }
  }
  return taken;
}

void ImapSource::acknowledge(ImapConnection& imap, const std::vector<std::uint32_t>& uids,
                             bool rejected) {
  if (uids.empty()) {
    return;
  }
  std::vector<std::uint32_t> sorted = uids;
  std::sort(sorted.begin(), sorted.end());
  std::string set = uidSet(sorted);
  if (!rejected && options_.afterCommit == ImapAfterCommit::Seen) {
    imap.require("UID STORE " + set + " +FLAGS.SILENT (\\Seen)");
    return;
  }
  const std::string& folder = rejected ? options_.rejectedFolder : options_.moveTo;
  ImapResponse moved = imap.command("UID MOVE " + set + " " + ImapConnection::quoted(folder));
  if (!moved.ok()) {
    // A server without MOVE (RFC 6851): copy, then delete; the copy alone is already durable.
    imap.require("UID COPY " + set + " " + ImapConnection::quoted(folder));
    imap.require("UID STORE " + set + " +FLAGS.SILENT (\\Seen \\Deleted)");
    imap.command("UID EXPUNGE " + set);
  }
}

std::string ImapSource::deliver(std::string_view document) {
  return intake_.deliver(document);
}

void registerImapDriver(DriverRegistry& registry) {
  registry.add("imap", [](const DriverContext& context) {
    const ConfigElement& element = elementOf(context);
    ImapOptions options;
    readMailboxSource(context, options, "imap", 143, 993, true);
    std::string after = element.optionalString("afterCommit").value_or("seen");
    if (after == "move") {
      options.afterCommit = ImapAfterCommit::Move;
      options.moveTo = element.optionalString("moveTo").value_or("");
      if (options.moveTo.empty()) {
        element.fail("moveTo", "is required when afterCommit is move");
      }
      for (const MailboxAccount& mailbox : options.mailboxes) {
        if (mailbox.folder == options.moveTo) {
          element.fail("moveTo",
                       "must differ from the folder that is read (" + mailbox.folder + ")");
        }
      }
    } else if (after != "seen") {
      element.fail("afterCommit", "'" + after + "' is not seen or move");
    }
    options.rejectedFolder = element.optionalString("rejectedFolder").value_or("");
    for (const std::string& folder : {options.moveTo, options.rejectedFolder}) {
      if (folder.find_first_of("\r\n\"\\") != std::string::npos) {
        element.fail(folder == options.moveTo ? "moveTo" : "rejectedFolder",
                     "must not hold quotes, backslashes or line breaks");
      }
    }
    return std::make_unique<ImapSource>(std::move(options), context.sink, context.attachments,
                                        context.metrics);
  });
}

} // namespace switchboard::email
