#pragma once

// Metrics for /metrics: counters, gauges and histograms, with or without labels, and collectors
// that compute values at scrape time. render() writes the Prometheus text exposition format 0.0.4.
//
// The hot path is cheap: a Counter, Gauge or Histogram is a handful of atomics, and updating one
// takes no lock. Looking up a labelled child (Family::with) takes a shared lock; callers on a hot
// path look a child up once and keep the reference. References stay valid for the registry's
// lifetime (children are never removed).
//
// Thread-safety: every member function may be called from any thread at any time.

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace switchboard {

/// A value that only goes up (requests served, errors seen).
class Counter {
 public:
  void inc(std::uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  std::uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> value_{0};
};

/// A value that goes up and down (connections open, items waiting).
class Gauge {
 public:
  void set(double value) { value_.store(value, std::memory_order_relaxed); }
  void add(double delta) { value_.fetch_add(delta, std::memory_order_relaxed); }
  void sub(double delta) { value_.fetch_sub(delta, std::memory_order_relaxed); }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

/// Observations counted into fixed buckets (latencies, sizes), with their sum and count.
class Histogram {
 public:
  /// `bounds` are the buckets' upper bounds, strictly increasing and finite; the +Inf bucket is
  /// implicit. Throws std::invalid_argument otherwise.
  explicit Histogram(std::vector<double> bounds);

  void observe(double value);

  const std::vector<double>& bounds() const { return bounds_; }
  /// Observations in each bucket (not cumulative); the last entry is the +Inf bucket.
  std::vector<std::uint64_t> bucketCounts() const;
  double sum() const { return sum_.load(std::memory_order_relaxed); }
  std::uint64_t count() const { return count_.load(std::memory_order_relaxed); }

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> buckets_;
  std::atomic<double> sum_{0.0};
  std::atomic<std::uint64_t> count_{0};
};

/// Buckets for request latencies in seconds: 0.5 ms to 10 s.
std::vector<double> latencyBuckets();

enum class MetricType { Counter, Gauge, Histogram };

/// A metric with labels: one child per combination of label values.
template <class T>
class Family {
 public:
  Family(std::vector<std::string> labelNames, std::vector<double> bounds)
      : labelNames_(std::move(labelNames)), bounds_(std::move(bounds)) {}

  /// The child with these label values (one per label name, in order), created on first use.
  /// Throws std::invalid_argument when the number of values is wrong.
  T& with(const std::vector<std::string>& labelValues);

  const std::vector<std::string>& labelNames() const { return labelNames_; }

  /// Calls `visit(labelValues, child)` for each child, in order of label values.
  template <class Visit>
  void forEach(Visit&& visit) const {
    std::shared_lock lock(mutex_);
    for (const auto& [values, child] : children_) {
      visit(values, *child);
    }
  }

 private:
  std::vector<std::string> labelNames_;
  std::vector<double> bounds_; ///< histograms only
  mutable std::shared_mutex mutex_;
  std::map<std::vector<std::string>, std::unique_ptr<T>> children_;
};

/// One value that a collector reports at scrape time.
struct CollectedSample {
  std::vector<std::string> labelValues; ///< one per label name of the collector
  double value = 0.0;
};

/// Every metric of the process, by name.
class MetricsRegistry {
 public:
  MetricsRegistry();
  ~MetricsRegistry();
  MetricsRegistry(const MetricsRegistry&) = delete;
  MetricsRegistry& operator=(const MetricsRegistry&) = delete;

  // Each call registers a metric, or returns the one registered before under the same name when
  // its type, labels (and buckets) are the same. Throws std::invalid_argument for a name or
  // label name that Prometheus does not allow, or a name taken by a different metric.
  // Counter names should end in "_total"; units belong in the name ("_seconds", "_bytes").

  Counter& counter(const std::string& name, const std::string& help);
  Family<Counter>& counterFamily(const std::string& name, const std::string& help,
                                 std::vector<std::string> labelNames);
  Gauge& gauge(const std::string& name, const std::string& help);
  Family<Gauge>& gaugeFamily(const std::string& name, const std::string& help,
                             std::vector<std::string> labelNames);
  Histogram& histogram(const std::string& name, const std::string& help,
                       std::vector<double> bounds);
  Family<Histogram>& histogramFamily(const std::string& name, const std::string& help,
                                     std::vector<std::string> labelNames,
                                     std::vector<double> bounds);

  /// Registers a metric whose samples `collect` computes at each render() (items by state,
  /// queue statistics). `type` is Counter or Gauge. `collect` runs on the scraping thread; when
  /// it throws, the metric is left out of that scrape and
  /// switchboard_metrics_collector_errors_total counts it.
  void addCollector(const std::string& name, const std::string& help, MetricType type,
                    std::vector<std::string> labelNames,
                    std::function<std::vector<CollectedSample>()> collect);

  /// Every metric in the Prometheus text exposition format 0.0.4, in registration order.
  std::string render() const;

  /// The content type of render()'s output.
  static constexpr std::string_view kContentType = "text/plain; version=0.0.4; charset=utf-8";

 private:
  struct Entry;
  Entry& add(const std::string& name, const std::string& help, MetricType type,
             std::vector<std::string> labelNames, std::vector<double> bounds,
             std::function<std::vector<CollectedSample>()> collect);

  mutable std::mutex mutex_;
  std::vector<std::unique_ptr<Entry>> entries_;
  Counter* collectorErrors_ = nullptr;
};

// ------------------------------------------------------------------------------ implementation

template <class T>
T& Family<T>::with(const std::vector<std::string>& labelValues) {
  {
    std::shared_lock lock(mutex_);
    auto found = children_.find(labelValues);
    if (found != children_.end()) {
      return *found->second;
    }
  }
  if (labelValues.size() != labelNames_.size()) {
    throw std::invalid_argument("metric child needs " + std::to_string(labelNames_.size()) +
                                " label values, got " + std::to_string(labelValues.size()));
  }
  std::unique_lock lock(mutex_);
  auto& slot = children_[labelValues];
  if (!slot) {
    if constexpr (std::is_same_v<T, Histogram>) {
      slot = std::make_unique<Histogram>(bounds_);
    } else {
      slot = std::make_unique<T>();
    }
  }
  return *slot;
}

} // namespace switchboard
