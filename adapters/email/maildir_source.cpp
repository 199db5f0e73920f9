#include "maildir_source.h"

#include <algorithm>
#include <fstream>
#include <iostream>
#include <sstream>
#include <vector>

namespace switchboard::email {
namespace {

namespace fs = std::filesystem;

std::string readAll(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::ostringstream content;
  content << in.rdbuf();
  return std::move(content).str();
}

IntakeOptions intakeOf(const MaildirOptions& options) {
  IntakeOptions intake;
  intake.driverName = options.driverName;
  intake.serverId = options.serverId;
  intake.maxMessageBytes = options.maxMessageBytes;
  intake.submitThreads = 1; // one file after the other, in delivery order
  intake.logName = "maildir";
  intake.item.maxAttachmentBytes = options.maxAttachmentBytes;
  intake.item.threading = options.threading;
  intake.smtp = options.smtp;
  return intake;
}

} // namespace

MaildirSource::MaildirSource(MaildirOptions options, MessageSink& sink,
                             AttachmentStore& attachments, MetricsRegistry* metrics)
    : options_(std::move(options)), intake_(intakeOf(options_), sink, attachments, metrics),
      poller_(options_.pollInterval, [this] {
        try {
          pollOnce();
        } catch (const std::exception& e) {
          std::cerr << "maildir " << options_.driverName << ": " << e.what() << '\n';
        }
      }) {}

MaildirSource::~MaildirSource() {
  stop();
}

void MaildirSource::start() {
  for (const char* folder : {"new", "cur", "tmp", "rejected"}) {
    fs::create_directories(options_.path / folder);
  }
  intake_.start();
  poller_.start();
}

void MaildirSource::stop() {
  poller_.stop();
  intake_.stop();
}

std::size_t MaildirSource::pollOnce() {
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(options_.path / "new")) {
    if (entry.is_regular_file() && !entry.path().filename().string().starts_with('.')) {
      files.push_back(entry.path());
    }
  }
  // Maildir names start with the delivery time, so name order is arrival order.
  std::sort(files.begin(), files.end());
  std::size_t taken = 0;
  for (const fs::path& file : files) {
    if (poller_.stopping()) {
      break;
    }
    if (!take(file)) {
      break;
    }
    ++taken;
  }
  return taken;
}

bool MaildirSource::take(const fs::path& file) {
  FetchedMail mail;
  mail.reference = (fs::path("rejected") / file.filename()).string();
  mail.size = fs::file_size(file);
  if (mail.size <= options_.maxMessageBytes) {
    mail.bytes = readAll(file);
  }
  mail.contactPoint = options_.contactPoint;
  switch (intake_.takeOne(mail)) {
  case IntakeOutcome::Retry:
    return false;
  case IntakeOutcome::Rejected:
    // Kept aside for an operator; the dead letter names it.
    fs::rename(file, options_.path / mail.reference);
    return true;
  case IntakeOutcome::Committed:
  case IntakeOutcome::Duplicate:
    fs::rename(file, options_.path / "cur" / (file.filename().string() + ":2,S"));
    return true;
  }
  return false;
}

std::string MaildirSource::deliver(std::string_view document) {
  return intake_.deliver(document);
}

void registerMaildirDriver(DriverRegistry& registry) {
  registry.add("maildir", [](const DriverContext& context) {
    const DriverSection& section = context.section;
    MaildirOptions options;
    options.driverName = section.name;
    options.serverId = context.serverId;
    options.path = section.path("path");
    options.pollInterval = section.duration("pollInterval", std::chrono::seconds(1));
    options.maxMessageBytes = section.bytes("maxMessageBytes", 25u << 20);
    options.contactPoint = section.optionalText("contactPoint");
    options.maxAttachmentBytes = section.bytes("maxAttachmentBytes", 20u << 20);
    if (auto threading = section.optionalText("threading")) {
      auto mode = threadingFromString(*threading);
      if (!mode) {
        section.fail("threading", "must be join, link or off");
      }
      options.threading = *mode;
    }
    options.smtp = smtpOptionsOfDriver(context.element, section.name);
    return std::make_unique<MaildirSource>(std::move(options), context.sink, context.attachments,
                                           context.metrics);
  });
}

} // namespace switchboard::email
