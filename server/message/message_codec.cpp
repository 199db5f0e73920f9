#include "switchboard/message_codec.h"

#include "hardened_reader.h"
#include "message_decoder.h"
#include "message_encoder.h"
#include "pattern_warmup.h"
#include "switchboard/xml_text.h"
#include "warmup_message.h"

#include <xercesc/framework/MemBufInputSource.hpp>
#include <xercesc/framework/XMLGrammarPoolImpl.hpp>
#include <xercesc/sax/SAXParseException.hpp>
#include <xercesc/sax2/SAX2XMLReader.hpp>
#include <xercesc/sax2/XMLReaderFactory.hpp>
#include <xercesc/util/OutOfMemoryException.hpp>
#include <xercesc/util/PlatformUtils.hpp>
#include <xercesc/util/SecurityManager.hpp>
#include <xercesc/util/XMLException.hpp>
#include <xercesc/util/XMLUni.hpp>
#include <xercesc/validators/common/Grammar.hpp>
#include <xercesc/validators/datatype/DatatypeValidatorFactory.hpp>
#include <xercesc/validators/schema/SchemaGrammar.hpp>

#include <mutex>
#include <stdexcept>
#include <vector>

namespace switchboard {
namespace embedded {
std::string_view messageSchema();
} // namespace embedded

namespace {

using namespace xercesc;

std::string utf8(const XMLCh* text) {
  std::string out;
  if (text != nullptr) {
    xml::appendUtf8(text, out);
  }
  return out;
}

// Reports schema errors while the grammar loads; any error there is a defect of the build.
class GrammarErrors final : public DefaultHandler {
 public:
  void error(const SAXParseException& e) override { fail(e); }
  void fatalError(const SAXParseException& e) override { fail(e); }

 private:
  [[noreturn]] static void fail(const SAXParseException& e) {
    throw std::runtime_error("message schema does not load: line " +
                             std::to_string(e.getLineNumber()) + ": " + utf8(e.getMessage()));
  }
};

struct Parser {
  Parser(XMLGrammarPool& pool, SecurityManager& security, std::size_t maxDepth)
      : reader(XMLReaderFactory::createXMLReader(XMLPlatformUtils::fgMemoryManager, &pool)),
        decoder(maxDepth) {
    xml::harden(*reader, security);
    reader->setContentHandler(&decoder);
    reader->setErrorHandler(&decoder);
    reader->setLexicalHandler(&decoder);
    reader->setEntityResolver(&decoder);
  }

  std::unique_ptr<SAX2XMLReader> reader;
  MessageDecoder decoder;
};

} // namespace

struct MessageCodec::Impl {
  explicit Impl(const CodecLimits& codecLimits) : limits(codecLimits) {
    std::unique_ptr<SAX2XMLReader> loader(
        XMLReaderFactory::createXMLReader(XMLPlatformUtils::fgMemoryManager, pool.get()));
    GrammarErrors errors;
    loader->setErrorHandler(&errors);
    loader->setFeature(XMLUni::fgSAX2CoreNameSpaces, true);
    loader->setFeature(XMLUni::fgXercesSchema, true);
    std::string_view xsd = embedded::messageSchema();
    MemBufInputSource source(reinterpret_cast<const XMLByte*>(xsd.data()), xsd.size(),
                             "message.xsd");
    Grammar* grammar = loader->loadGrammar(source, Grammar::SchemaGrammarType, true);
    if (grammar == nullptr) {
      throw std::runtime_error("message schema does not load");
    }
    {
      // The built-in types and the shared classes (\S, \d) belong to the whole process: every
      // codec warms them, one at a time, before it decodes anything.
      static std::mutex shared;
      std::lock_guard lock(shared);
      warmPatterns(DatatypeValidatorFactory::getBuiltInRegistry());
      warmPatterns(*static_cast<SchemaGrammar*>(grammar));
    }
    pool->lockPool();
    decodeWarmupMessage();
  }

  // A second line of defence behind warmPatterns(): anything else Xerces builds on first use is
  // built here, by one decode of a message with every part, before any other thread decodes. A
  // codec whose depth limit is under the default would refuse the message for its depth, not its
  // content: it warms with a parser of the default depth and drops it; any other keeps the parser
  // for its first decode.
  void decodeWarmupMessage() {
    const std::string document = encodeMessage(warmupMessage());
    const bool keep = limits.maxDepth >= CodecLimits{}.maxDepth;
    auto parser =
        std::make_unique<Parser>(*pool, security, keep ? limits.maxDepth : CodecLimits{}.maxDepth);
    Message message;
    parser->decoder.begin(message);
    MemBufInputSource source(reinterpret_cast<const XMLByte*>(document.data()), document.size(),
                             "warm-up message");
    std::string refusal;
    try {
      parser->reader->parse(source);
    } catch (DecodeFailure& failure) {
      refusal = failure.error.toString();
    } catch (const SAXParseException& e) {
      refusal = utf8(e.getMessage());
    } catch (const XMLException& e) {
      refusal = utf8(e.getMessage());
    }
    if (!refusal.empty()) {
      throw std::runtime_error("message codec: its own warm-up message is refused: " + refusal);
    }
    if (keep) {
      idle.push_back(std::move(parser));
    }
  }

  std::unique_ptr<Parser> acquire() {
    {
      std::lock_guard lock(mutex);
      if (!idle.empty()) {
        std::unique_ptr<Parser> parser = std::move(idle.back());
        idle.pop_back();
        return parser;
      }
    }
    return std::make_unique<Parser>(*pool, security, limits.maxDepth);
  }

  void release(std::unique_ptr<Parser> parser) {
    std::lock_guard lock(mutex);
    idle.push_back(std::move(parser));
  }

  // Declared in the order they must be built; destroyed in reverse, Xerces last.
  xml::XercesRuntime runtime; // each codec holds Xerces initialised for its lifetime
  CodecLimits limits;
  std::unique_ptr<XMLGrammarPool> pool{new XMLGrammarPoolImpl(XMLPlatformUtils::fgMemoryManager)};
  SecurityManager security;
  std::mutex mutex;
  std::vector<std::unique_ptr<Parser>> idle;
};

MessageCodec::MessageCodec(CodecLimits limits)
    : limits_(limits), impl_(std::make_unique<Impl>(limits)) {}

MessageCodec::~MessageCodec() = default;

std::string_view MessageCodec::schema() {
  return embedded::messageSchema();
}

Result<Message, DecodeError> MessageCodec::decode(std::string_view document) const {
  if (document.size() > limits_.maxBytes) {
    return DecodeError{DecodeError::Kind::TooLarge, 0, 0,
                       "the document has " + std::to_string(document.size()) +
                           " bytes, more than the limit of " + std::to_string(limits_.maxBytes)};
  }
  std::unique_ptr<Parser> parser = impl_->acquire();
  Message message;
  parser->decoder.begin(message);
  MemBufInputSource source(reinterpret_cast<const XMLByte*>(document.data()), document.size(),
                           "message");
  try {
    parser->reader->parse(source);
  } catch (DecodeFailure& failure) {
    impl_->release(std::move(parser));
    return std::move(failure.error);
  } catch (const SAXParseException& e) {
    impl_->release(std::move(parser));
    return DecodeError{DecodeError::Kind::Malformed, static_cast<std::size_t>(e.getLineNumber()),
                       static_cast<std::size_t>(e.getColumnNumber()), utf8(e.getMessage())};
  } catch (const OutOfMemoryException&) {
    // Xerces leaves a parser unusable after running out of memory: drop it.
    return DecodeError{DecodeError::Kind::TooLarge, 0, 0, "out of memory while parsing"};
  } catch (const XMLException& e) {
    impl_->release(std::move(parser));
    return DecodeError{DecodeError::Kind::Malformed, static_cast<std::size_t>(e.getSrcLine()), 0,
                       utf8(e.getMessage())};
  }
  impl_->release(std::move(parser));
  return message;
}

std::string MessageCodec::encode(const Message& message) const {
  return encodeMessage(message);
}

std::string DecodeError::toString() const {
  if (line == 0) {
    return reason;
  }
  return std::to_string(line) + ":" + std::to_string(column) + ": " + reason;
}

std::string_view toString(DecodeError::Kind kind) {
  switch (kind) {
  case DecodeError::Kind::TooLarge:
    return "tooLarge";
  case DecodeError::Kind::Forbidden:
    return "forbidden";
  case DecodeError::Kind::TooDeep:
    return "tooDeep";
  case DecodeError::Kind::Malformed:
    return "malformed";
  case DecodeError::Kind::Invalid:
    break;
  }
  return "invalid";
}

} // namespace switchboard
