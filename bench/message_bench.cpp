// Decode+validate and encode of a typical email work-item message, beside the reference: a bare
// Xerces-C SAX2 parse of the same bytes, validated with the same cached schema, into a handler
// that does nothing. Prints messages per second and the ratios the foundation issue sets:
// decode >= 0.8 x the reference, encode >= 200,000 messages/s. Also the time to build a codec
// beside the time Xerces takes to compile the schema alone.

#include "switchboard/message_codec.h"

#include <benchmark/benchmark.h>
#include <xercesc/framework/MemBufInputSource.hpp>
#include <xercesc/framework/XMLGrammarPoolImpl.hpp>
#include <xercesc/sax2/DefaultHandler.hpp>
#include <xercesc/sax2/SAX2XMLReader.hpp>
#include <xercesc/sax2/XMLReaderFactory.hpp>
#include <xercesc/util/PlatformUtils.hpp>
#include <xercesc/util/XMLUni.hpp>
#include <xercesc/validators/common/Grammar.hpp>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>

namespace {

using namespace xercesc;

const char* const kSample =
    SWITCHBOARD_SOURCE_DIR "/samples/messages/05-email-arrived.notification.xml";

const std::string& sampleDocument() {
  static const std::string document = [] {
    std::ifstream file(kSample, std::ios::binary);
    std::ostringstream content;
    content << file.rdbuf();
    if (content.str().empty()) {
      throw std::runtime_error(std::string("cannot read ") + kSample);
    }
    return content.str();
  }();
  return document;
}

// The reference: what Xerces itself costs to parse and validate these bytes.
class BareXerces {
 public:
  BareXerces() {
    XMLPlatformUtils::Initialize();
    pool_ = std::make_unique<XMLGrammarPoolImpl>(XMLPlatformUtils::fgMemoryManager);
    reader_.reset(
        XMLReaderFactory::createXMLReader(XMLPlatformUtils::fgMemoryManager, pool_.get()));
    reader_->setFeature(XMLUni::fgSAX2CoreNameSpaces, true);
    reader_->setFeature(XMLUni::fgXercesSchema, true);
    std::string_view xsd = switchboard::MessageCodec::schema();
    MemBufInputSource schema(reinterpret_cast<const XMLByte*>(xsd.data()), xsd.size(), "xsd");
    reader_->loadGrammar(schema, Grammar::SchemaGrammarType, true);
    reader_->setFeature(XMLUni::fgSAX2CoreValidation, true);
    reader_->setFeature(XMLUni::fgXercesDynamic, false);
    reader_->setFeature(XMLUni::fgXercesUseCachedGrammarInParse, true);
    reader_->setFeature(XMLUni::fgXercesLoadSchema, false);
    reader_->setContentHandler(&handler_);
    reader_->setErrorHandler(&handler_);
  }
  ~BareXerces() {
    reader_.reset();
    pool_.reset();
    XMLPlatformUtils::Terminate();
  }
  void parse(const std::string& document) {
    MemBufInputSource source(reinterpret_cast<const XMLByte*>(document.data()), document.size(),
                             "message");
    reader_->parse(source);
  }

 private:
  std::unique_ptr<XMLGrammarPool> pool_;
  std::unique_ptr<SAX2XMLReader> reader_;
  DefaultHandler handler_;
};

void referenceParse(benchmark::State& state) {
  BareXerces xerces;
  const std::string& document = sampleDocument();
  for (auto _ : state) {
    xerces.parse(document);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(document.size()));
}

void decodeAndValidate(benchmark::State& state) {
  switchboard::MessageCodec codec;
  const std::string& document = sampleDocument();
  for (auto _ : state) {
    auto decoded = codec.decode(document);
    if (!decoded.ok()) {
      state.SkipWithError(decoded.error().toString().c_str());
      break;
    }
    benchmark::DoNotOptimize(decoded);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(document.size()));
}

void encode(benchmark::State& state) {
  switchboard::MessageCodec codec;
  switchboard::Message message = codec.decode(sampleDocument()).value();
  for (auto _ : state) {
    std::string document = codec.encode(message);
    benchmark::DoNotOptimize(document);
  }
  state.SetItemsProcessed(state.iterations());
}

// What Xerces alone costs to compile the schema into a fresh pool: the reference for building a
// codec, which also builds the grammar's first-use state (pattern classes, content models).
void referenceLoadGrammar(benchmark::State& state) {
  XMLPlatformUtils::Initialize();
  std::string_view xsd = switchboard::MessageCodec::schema();
  for (auto _ : state) {
    XMLGrammarPoolImpl pool(XMLPlatformUtils::fgMemoryManager);
    std::unique_ptr<SAX2XMLReader> reader(
        XMLReaderFactory::createXMLReader(XMLPlatformUtils::fgMemoryManager, &pool));
    reader->setFeature(XMLUni::fgSAX2CoreNameSpaces, true);
    reader->setFeature(XMLUni::fgXercesSchema, true);
    MemBufInputSource schema(reinterpret_cast<const XMLByte*>(xsd.data()), xsd.size(), "xsd");
    benchmark::DoNotOptimize(reader->loadGrammar(schema, Grammar::SchemaGrammarType, true));
  }
  XMLPlatformUtils::Terminate();
  state.SetItemsProcessed(state.iterations());
}

// Xerces stays initialised around the loop, as in the server, where codecs are not its only user.
void construct(benchmark::State& state) {
  XMLPlatformUtils::Initialize();
  for (auto _ : state) {
    switchboard::MessageCodec codec;
    benchmark::DoNotOptimize(&codec);
  }
  XMLPlatformUtils::Terminate();
  state.SetItemsProcessed(state.iterations());
}

// Medians of repeated runs, so that one disturbed run does not decide a ratio.
constexpr int kRepetitions = 3;
BENCHMARK(referenceParse)
    ->Name("reference/xerces_sax2_validate")
    ->Repetitions(kRepetitions)
    ->ReportAggregatesOnly(true);
BENCHMARK(decodeAndValidate)
    ->Name("switchboard/decode_validate")
    ->Repetitions(kRepetitions)
    ->ReportAggregatesOnly(true);
BENCHMARK(encode)
    ->Name("switchboard/encode")
    ->Repetitions(kRepetitions)
    ->ReportAggregatesOnly(true);
BENCHMARK(referenceLoadGrammar)
    ->Name("reference/xerces_load_schema")
    ->Repetitions(kRepetitions)
    ->ReportAggregatesOnly(true);
BENCHMARK(construct)
    ->Name("switchboard/construct_codec")
    ->Repetitions(kRepetitions)
    ->ReportAggregatesOnly(true);

// Keeps the rate of each benchmark so that main() can print the ratios after the table.
class RateReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& run : runs) {
      auto found = run.counters.find("items_per_second");
      if (found != run.counters.end() && !run.error_occurred && run.aggregate_name == "median") {
        rates_[run.run_name.function_name] = found->second.value;
      }
    }
    ConsoleReporter::ReportRuns(runs);
  }
  double rate(const std::string& name) const {
    auto found = rates_.find(name);
    return found == rates_.end() ? 0.0 : found->second;
  }

 private:
  std::map<std::string, double> rates_;
};

} // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  RateReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  double reference = reporter.rate("reference/xerces_sax2_validate");
  double decode = reporter.rate("switchboard/decode_validate");
  double encoded = reporter.rate("switchboard/encode");
  std::printf("\nmessage of %zu bytes (%s)\n", sampleDocument().size(), kSample);
  std::printf("reference (bare Xerces SAX2, cached XSD): %10.0f messages/s\n", reference);
  std::printf("decode + validate:                        %10.0f messages/s  ratio %.2f "
              "(target >= 0.80)\n",
              decode, reference > 0 ? decode / reference : 0.0);
  std::printf("encode:                                   %10.0f messages/s  (target >= 200000)\n",
              encoded);
  double schemaLoads = reporter.rate("reference/xerces_load_schema");
  double constructions = reporter.rate("switchboard/construct_codec");
  std::printf("reference (Xerces compiles the XSD):      %10.0f us\n",
              schemaLoads > 0 ? 1e6 / schemaLoads : 0.0);
  std::printf("codec construction (schema + warm-up):    %10.0f us  %.2f x the reference\n",
              constructions > 0 ? 1e6 / constructions : 0.0,
              constructions > 0 ? schemaLoads / constructions : 0.0);
  benchmark::Shutdown();
  return 0;
}
