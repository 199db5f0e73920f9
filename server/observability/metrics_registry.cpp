#include "switchboard/metrics.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <variant>

namespace switchboard {

namespace {

bool validName(std::string_view name, bool allowColon) {
  if (name.empty()) {
    return false;
  }
  for (std::size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    bool digit = c >= '0' && c <= '9';
    if (!(letter || (allowColon && c == ':') || (i > 0 && digit))) {
      return false;
    }
  }
  return true;
}

void appendNumber(double value, std::string& out) {
  if (std::isnan(value)) {
    out += "NaN";
  } else if (std::isinf(value)) {
    out += value > 0 ? "+Inf" : "-Inf";
  } else {
    // Plain decimals ("0.0005", not "5e-04") where they stay short, as other exporters write.
    char buffer[128];
    double magnitude = std::fabs(value);
    bool plain = magnitude == 0 || (magnitude >= 1e-6 && magnitude < 1e21);
    auto result =
        plain ? std::to_chars(buffer, buffer + sizeof buffer, value, std::chars_format::fixed)
              : std::to_chars(buffer, buffer + sizeof buffer, value);
    out.append(buffer, result.ptr);
  }
}

void appendNumber(std::uint64_t value, std::string& out) {
  char buffer[24];
  auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
  out.append(buffer, result.ptr);
}

void appendEscaped(std::string_view text, bool quotes, std::string& out) {
  for (char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (quotes && c == '"') {
      out += "\\\"";
    } else {
      out += c;
    }
  }
}

// Writes `{a="x",b="y"}` (or nothing without labels); `extra` is one more label, e.g. le.
void appendLabels(const std::vector<std::string>& names, const std::vector<std::string>& values,
                  std::string_view extraName, std::string_view extraValue, std::string& out) {
  if (names.empty() && extraName.empty()) {
    return;
  }
  out += '{';
  bool first = true;
  for (std::size_t i = 0; i < names.size() && i < values.size(); ++i) {
    if (!first) {
      out += ',';
    }
    first = false;
    out += names[i];
    out += "=\"";
    appendEscaped(values[i], true, out);
    out += '"';
  }
  if (!extraName.empty()) {
    if (!first) {
      out += ',';
    }
    out += extraName;
    out += "=\"";
    out += extraValue;
    out += '"';
  }
  out += '}';
}

std::string_view typeName(MetricType type) {
  switch (type) {
  case MetricType::Counter:
    return "counter";
  case MetricType::Gauge:
    return "gauge";
  case MetricType::Histogram:
    return "histogram";
  }
  return "untyped";
}

} // namespace

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)),
      buckets_(std::make_unique<std::atomic<std::uint64_t>[]>(bounds_.size() + 1)) {
  for (std::size_t i = 0; i < bounds_.size(); ++i) {
    if (!std::isfinite(bounds_[i]) || (i > 0 && bounds_[i] <= bounds_[i - 1])) {
      throw std::invalid_argument("histogram bounds must be finite and strictly increasing");
    }
  }
}

void Histogram::observe(double value) {
  auto bucket = std::lower_bound(bounds_.begin(), bounds_.end(), value) - bounds_.begin();
  buckets_[static_cast<std::size_t>(bucket)].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(value, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
}

std::vector<std::uint64_t> Histogram::bucketCounts() const {
  std::vector<std::uint64_t> counts(bounds_.size() + 1);
  for (std::size_t i = 0; i < counts.size(); ++i) {
    counts[i] = buckets_[i].load(std::memory_order_relaxed);
  }
  return counts;
}

std::vector<double> latencyBuckets() {
  return {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

struct MetricsRegistry::Entry {
  std::string name;
  std::string help;
  MetricType type = MetricType::Counter;
  std::vector<std::string> labelNames;
  std::vector<double> bounds;
  std::variant<std::monostate, std::unique_ptr<Family<Counter>>, std::unique_ptr<Family<Gauge>>,
               std::unique_ptr<Family<Histogram>>>
      family;
  std::function<std::vector<CollectedSample>()> collect;
};

MetricsRegistry::MetricsRegistry() {
  collectorErrors_ = &counter("switchboard_metrics_collector_errors_total",
                              "Collectors that failed during a scrape.");
}

MetricsRegistry::~MetricsRegistry() = default;

MetricsRegistry::Entry&
MetricsRegistry::add(const std::string& name, const std::string& help, MetricType type,
                     std::vector<std::string> labelNames, std::vector<double> bounds,
                     std::function<std::vector<CollectedSample>()> collect) {
  bool collector = static_cast<bool>(collect);
  if (!validName(name, true)) {
    throw std::invalid_argument("invalid metric name '" + name + "'");
  }
  for (const auto& label : labelNames) {
    if (!validName(label, false) || label.starts_with("__") ||
        (type == MetricType::Histogram && label == "le")) {
      throw std::invalid_argument("invalid label name '" + label + "' for metric " + name);
    }
  }
  std::lock_guard lock(mutex_);
  for (auto& entry : entries_) {
    if (entry->name == name) {
      if (entry->type != type || entry->labelNames != labelNames || entry->bounds != bounds ||
          collector || static_cast<bool>(entry->collect)) {
        throw std::invalid_argument("metric " + name + " is registered with another definition");
      }
      return *entry;
    }
  }
  auto entry = std::make_unique<Entry>();
  entry->name = name;
  entry->help = help;
  entry->type = type;
  entry->labelNames = std::move(labelNames);
  entry->bounds = std::move(bounds);
  entry->collect = std::move(collect);
  if (!collector) {
    switch (type) {
    case MetricType::Counter:
      entry->family = std::make_unique<Family<Counter>>(entry->labelNames, entry->bounds);
      break;
    case MetricType::Gauge:
      entry->family = std::make_unique<Family<Gauge>>(entry->labelNames, entry->bounds);
      break;
    case MetricType::Histogram:
      Histogram check(entry->bounds); // throws for bad bounds before anything is registered
      entry->family = std::make_unique<Family<Histogram>>(entry->labelNames, entry->bounds);
      break;
    }
  }
  entries_.push_back(std::move(entry));
  return *entries_.back();
}

Counter& MetricsRegistry::counter(const std::string& name, const std::string& help) {
  return counterFamily(name, help, {}).with({});
}

Family<Counter>& MetricsRegistry::counterFamily(const std::string& name, const std::string& help,
                                                std::vector<std::string> labelNames) {
  auto& entry = add(name, help, MetricType::Counter, std::move(labelNames), {}, nullptr);
  return *std::get<std::unique_ptr<Family<Counter>>>(entry.family);
}

Gauge& MetricsRegistry::gauge(const std::string& name, const std::string& help) {
  return gaugeFamily(name, help, {}).with({});
}

Family<Gauge>& MetricsRegistry::gaugeFamily(const std::string& name, const std::string& help,
                                            std::vector<std::string> labelNames) {
  auto& entry = add(name, help, MetricType::Gauge, std::move(labelNames), {}, nullptr);
  return *std::get<std::unique_ptr<Family<Gauge>>>(entry.family);
}

Histogram& MetricsRegistry::histogram(const std::string& name, const std::string& help,
                                      std::vector<double> bounds) {
  return histogramFamily(name, help, {}, std::move(bounds)).with({});
}

Family<Histogram>& MetricsRegistry::histogramFamily(const std::string& name,
                                                    const std::string& help,
                                                    std::vector<std::string> labelNames,
                                                    std::vector<double> bounds) {
  auto& entry =
      add(name, help, MetricType::Histogram, std::move(labelNames), std::move(bounds), nullptr);
  return *std::get<std::unique_ptr<Family<Histogram>>>(entry.family);
}

void MetricsRegistry::addCollector(const std::string& name, const std::string& help,
                                   MetricType type, std::vector<std::string> labelNames,
                                   std::function<std::vector<CollectedSample>()> collect) {
  if (type == MetricType::Histogram) {
    throw std::invalid_argument("collector " + name + " must be a counter or a gauge");
  }
  if (!collect) {
    throw std::invalid_argument("collector " + name + " has no function");
  }
  add(name, help, type, std::move(labelNames), {}, std::move(collect));
}

std::string MetricsRegistry::render() const {
  std::vector<const Entry*> entries;
  {
    std::lock_guard lock(mutex_);
    entries.reserve(entries_.size());
    for (const auto& entry : entries_) {
      entries.push_back(entry.get());
    }
  }
  std::string out;
  out.reserve(4096);
  for (const Entry* entry : entries) {
    std::string body;
    const auto& names = entry->labelNames;
    if (entry->collect) {
      std::vector<CollectedSample> samples;
      try {
        samples = entry->collect();
      } catch (...) {
        collectorErrors_->inc();
        continue;
      }
      for (const auto& sample : samples) {
        body += entry->name;
        appendLabels(names, sample.labelValues, {}, {}, body);
        body += ' ';
        appendNumber(sample.value, body);
        body += '\n';
      }
    } else if (auto* counters = std::get_if<std::unique_ptr<Family<Counter>>>(&entry->family)) {
      (*counters)->forEach([&](const std::vector<std::string>& values, const Counter& child) {
        body += entry->name;
        appendLabels(names, values, {}, {}, body);
        body += ' ';
        appendNumber(child.value(), body);
        body += '\n';
      });
    } else if (auto* gauges = std::get_if<std::unique_ptr<Family<Gauge>>>(&entry->family)) {
      (*gauges)->forEach([&](const std::vector<std::string>& values, const Gauge& child) {
        body += entry->name;
        appendLabels(names, values, {}, {}, body);
        body += ' ';
        appendNumber(child.value(), body);
        body += '\n';
      });
    } else if (auto* histograms = std::get_if<std::unique_ptr<Family<Histogram>>>(&entry->family)) {
      (*histograms)->forEach([&](const std::vector<std::string>& values, const Histogram& child) {
        // _count is written from the buckets, so it equals the +Inf bucket even while
        // observe() runs on other threads.
        auto counts = child.bucketCounts();
        std::uint64_t cumulative = 0;
        for (std::size_t i = 0; i < counts.size(); ++i) {
          cumulative += counts[i];
          std::string le;
          if (i < child.bounds().size()) {
            appendNumber(child.bounds()[i], le);
          } else {
            le = "+Inf";
          }
          body += entry->name;
          body += "_bucket";
          appendLabels(names, values, "le", le, body);
          body += ' ';
          appendNumber(cumulative, body);
          body += '\n';
        }
        body += entry->name;
        body += "_sum";
        appendLabels(names, values, {}, {}, body);
        body += ' ';
        appendNumber(child.sum(), body);
        body += '\n';
        body += entry->name;
        body += "_count";
        appendLabels(names, values, {}, {}, body);
        body += ' ';
        appendNumber(cumulative, body);
        body += '\n';
      });
    }
    out += "# HELP ";
    out += entry->name;
    out += ' ';
    appendEscaped(entry->help, false, out);
    out += "\n# TYPE ";
    out += entry->name;
    out += ' ';
    out += typeName(entry->type);
    out += '\n';
    out += body;
  }
  return out;
}

} // namespace switchboard
