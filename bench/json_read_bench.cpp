// Reading REST request bodies: Switchboard's JsonDocument beside the reference, Poco::JSON::Parser
// (which the REST API used before), on the POST /v1/work-items body of bench/rest_bench.sh
// (180 bytes) and on a ~4 KB e-mail-like body with a text part. Prints documents per second,
// heap allocations per document and the ratios, then the whole reading of a work item
// (parseObject + workItemFromJson) beside Poco's parse alone.

#include "json_mapping.h"
#include "switchboard/json_document.h"

#include <Poco/JSON/Parser.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <new>
#include <string>
#include <vector>

namespace {

// Every heap allocation of the program is counted: the figure that says what a parse costs
// beyond its own loop.
std::size_t allocations = 0;

} // namespace

void* operator new(std::size_t size) {
  ++allocations;
  if (void* p = std::malloc(size == 0 ? 1 : size)) {
    return p;
  }
  throw std::bad_alloc();
}

void operator delete(void* p) noexcept {
  std::free(p);
}

void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}

namespace {

constexpr std::string_view kPostBody =
    R"({"medium":"web","subject":"Call me back about my invoice","customer":{"name":"Carol",)"
    R"("addresses":[{"kind":"phone","value":"+351210000000"}]},"attributes":{"topic":"billing"}})";

/// A mail-sized work item: customer, attachments, attributes and a ~3.5 KB text body with line
/// breaks, quotes and accented letters (escaped as JSON writers do).
std::string largeBody() {
  std::string text;
  const char* lines[] = {
      "Dear Sir or Madam,\\n\\n",
      "I am writing about invoice 2026-11-0042, which charges me twice for the \\\"premium\\\" "
      "plan. ",
      "Je vous ai d\\u00e9j\\u00e0 \\u00e9crit la semaine derni\\u00e8re \\u2014 sans "
      "r\\u00e9ponse. ",
      "Could somebody call me back before Friday? My number is below.\\n",
  };
  for (int i = 0; text.size() < 3500; ++i) {
    text += lines[i % 4];
  }
  std::string body = R"({"medium":"email","priority":60,"queue":"billing","sourceKey":)"
                     R"("<CAF=3x9+k2L@mail.example.com>","thread":"t-2026-0042",)"
                     R"("subject":"Invoice 2026-11-0042 charged twice",)"
                     R"("customer":{"ref":"C-104233","name":"Carol Marques","language":"pt",)"
                     R"("tier":"gold","addresses":[{"kind":"email","value":"carol@example.com",)"
                     R"("name":"Carol Marques"},{"kind":"phone","value":"+351210000000"}],)"
                     R"("attributes":{"segment":"retail","region":"lisbon"}},)"
                     R"("contactPoint":{"kind":"email","value":"billing@example.net"},)"
                     R"("body":{"type":"text/plain","text":")" +
                     text +
                     R"("},"attachments":[{"name":"invoice.pdf","type":"application/pdf",)"
                     R"("size":48213,"digest":"sha256:)" +
                     std::string(64, 'a') +
                     R"("}],"attributes":{"topic":"billing","channel":"mail","vip":"yes"}})";
  return body;
}

struct Rate {
  double perSecond = 0;
  double allocationsEach = 0;
};

// Documents per second of `read` over `body`: the median of several timed rounds.
template <class Read>
Rate rate(std::string_view body, Read read) {
  constexpr int kRounds = 5;
  constexpr auto kRound = std::chrono::milliseconds(80);
  std::vector<double> rates;
  Rate result;
  for (int round = 0; round < kRounds; ++round) {
    std::size_t done = 0;
    std::size_t allocated = allocations;
    auto start = std::chrono::steady_clock::now();
    std::chrono::duration<double> took{};
    do {
      for (int i = 0; i < 256; ++i) {
        read(body);
      }
      done += 256;
      took = std::chrono::steady_clock::now() - start;
    } while (took < kRound);
    rates.push_back(static_cast<double>(done) / took.count());
    result.allocationsEach =
        static_cast<double>(allocations - allocated) / static_cast<double>(done);
  }
  std::sort(rates.begin(), rates.end());
  result.perSecond = rates[rates.size() / 2];
  return result;
}

std::size_t sink = 0;

void compare(const char* name, std::string_view body) {
  Rate reference = rate(body, [](std::string_view text) {
    Poco::JSON::Parser parser;
    auto parsed = parser.parse(std::string(text));
    sink += parsed.extract<Poco::JSON::Object::Ptr>()->size();
  });
  Rate ours = rate(body, [](std::string_view text) {
    auto parsed = switchboard::JsonDocument::parse(text);
    sink += parsed.ok() ? parsed->root().size() : 0;
  });
  Rate reading = rate(body, [](std::string_view text) {
    auto item =
        switchboard::api::workItemFromJson(switchboard::api::parseObject(text, false).root());
    sink += item.medium.size();
  });
  std::printf("%s, %zu bytes\n", name, body.size());
  std::printf("  reference  Poco::JSON::Parser               %10.0f documents/s  %5.1f allocations "
              "each\n",
              reference.perSecond, reference.allocationsEach);
  std::printf("  switchboard JsonDocument::parse             %10.0f documents/s  %5.1f allocations "
              "each  ratio %.2f\n",
              ours.perSecond, ours.allocationsEach, ours.perSecond / reference.perSecond);
  std::printf("  switchboard parseObject + workItemFromJson  %10.0f documents/s  %5.1f allocations "
              "each  ratio %.2f x Poco's parse alone\n",
              reading.perSecond, reading.allocationsEach, reading.perSecond / reference.perSecond);
}

} // namespace

int main() {
  std::string large = largeBody();
  // Both bodies must be work items the API accepts, or the figures measure an error path.
  for (std::string_view body : {kPostBody, std::string_view(large)}) {
    try {
      switchboard::api::workItemFromJson(switchboard::api::parseObject(body, false).root());
    } catch (const std::exception& e) {
      std::fprintf(stderr, "json_read_bench: the body is refused: %s\n", e.what());
      return 1;
    }
  }
  std::printf("Reading a POST /v1/work-items body (median of 5 rounds each)\n");
  compare("rest_bench.sh body", kPostBody);
  compare("e-mail-sized body with a text part", large);
  return sink == 0 ? 1 : 0;
}
