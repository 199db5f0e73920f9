// Mail parsing speed over the mail corpus (tests/data/mail/): Switchboard's reader (MIME walk,
// transfer decoding, charsets, encoded words, classification, HTML rendered as text) beside the
// reference, Poco::Net::MailMessage::read of the same bytes (Poco's own MIME parser, decoding
// every part). Prints mails per second, the ratio, and the share of the email channel's budget
// (1,000 mails/s end to end) that parsing takes.

#include "mail_reader.h"

#include <Poco/Net/MailMessage.h>
#include <Poco/Net/PartHandler.h>
#include <Poco/StreamCopier.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace {

std::vector<std::string> corpus() {
  std::vector<std::string> mails;
  for (const auto& entry :
       std::filesystem::directory_iterator(SWITCHBOARD_SOURCE_DIR "/tests/data/mail")) {
    if (entry.path().extension() == ".eml") {
      std::ifstream in(entry.path(), std::ios::binary);
      std::ostringstream content;
      content << in.rdbuf();
      mails.push_back(std::move(content).str());
    }
  }
  return mails;
}

// Reads every part's content, as the reader does, and keeps nothing.
class DrainParts : public Poco::Net::PartHandler {
 public:
  void handlePart(const Poco::Net::MessageHeader&, std::istream& stream) override {
    std::string content;
    Poco::StreamCopier::copyToString(stream, content);
    bytes_ += content.size();
  }
  std::size_t bytes_ = 0;
};

// Mails per second of `parse` over `mails`: the median of several rounds.
template <class Parse>
double rate(const std::vector<std::string>& mails, Parse parse) {
  constexpr int kRounds = 7;
  constexpr int kPasses = 60;
  std::vector<double> rates;
  for (int round = 0; round < kRounds; ++round) {
    auto start = std::chrono::steady_clock::now();
    std::size_t parsed = 0;
    for (int pass = 0; pass < kPasses; ++pass) {
      for (const std::string& mail : mails) {
        parse(mail);
        ++parsed;
      }
    }
    std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
    rates.push_back(static_cast<double>(parsed) / took.count());
  }
  std::sort(rates.begin(), rates.end());
  return rates[rates.size() / 2];
}

} // namespace

int main() {
  std::vector<std::string> mails = corpus();
  if (mails.empty()) {
    std::fprintf(stderr, "no mails in tests/data/mail\n");
    return 1;
  }
  std::size_t bytes = 0;
  for (const std::string& mail : mails) {
    bytes += mail.size();
  }
  std::size_t sink = 0;
  double switchboard = rate(mails, [&](const std::string& mail) {
    auto read = switchboard::email::readMail(mail);
    if (read.ok()) {
      sink += read->plainText().value_or("").size() + read->attachments.size();
    }
  });
  std::size_t refused = 0;
  double reference = rate(mails, [&](const std::string& mail) {
    try {
      std::istringstream in(mail);
      Poco::Net::MailMessage message;
      DrainParts parts;
      message.read(in, parts);
      sink += message.getContent().size() + parts.bytes_;
    } catch (const Poco::Exception&) {
      ++refused;
    }
  });
  std::printf("mail corpus: %zu mails, %zu bytes (%zu bytes on average)\n", mails.size(), bytes,
              bytes / mails.size());
  std::printf("reference (Poco::Net::MailMessage::read): %10.0f mails/s (refused %zu of %zu "
              "per pass)\n",
              reference, refused / (7 * 60), mails.size());
  std::printf("switchboard readMail + text:              %10.0f mails/s  ratio %.2f\n", switchboard,
              reference > 0 ? switchboard / reference : 0.0);
  std::printf("share of the ingest budget (1,000 mails/s end to end): %.2f%%\n",
              switchboard > 0 ? 100.0 * 1000.0 / switchboard : 0.0);
  return sink == 0 ? 1 : 0;
}
