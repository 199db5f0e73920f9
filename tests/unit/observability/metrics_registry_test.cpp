#include "switchboard/metrics.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <stdexcept>
#include <thread>

namespace switchboard {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// The registry's own collector-error counter comes first in every rendering; tests look at what
// follows it.
std::string renderAfterBuiltins(const MetricsRegistry& registry) {
  std::string text = registry.render();
  std::string builtin = "switchboard_metrics_collector_errors_total 0\n";
  auto at = text.find(builtin);
  return at == std::string::npos ? text : text.substr(at + builtin.size());
}

TEST(Metrics, CounterWithoutLabelsHasHelpTypeAndValue) {
  MetricsRegistry registry;
  registry.counter("jobs_total", "Jobs done.").inc(3);
  EXPECT_EQ(renderAfterBuiltins(registry), "# HELP jobs_total Jobs done.\n"
                                           "# TYPE jobs_total counter\n"
                                           "jobs_total 3\n");
}

TEST(Metrics, LabelledChildrenAreSortedAndValuesEscaped) {
  MetricsRegistry registry;
  auto& family = registry.counterFamily("requests_total", "Requests.", {"route", "status"});
  family.with({"/b", "200"}).inc();
  family.with({"/a", "404"}).inc(2);
  family.with({"we\"ird\\path\nx", "500"}).inc();
  EXPECT_EQ(renderAfterBuiltins(registry),
            "# HELP requests_total Requests.\n"
            "# TYPE requests_total counter\n"
            "requests_total{route=\"/a\",status=\"404\"} 2\n"
            "requests_total{route=\"/b\",status=\"200\"} 1\n"
            "requests_total{route=\"we\\\"ird\\\\path\\nx\",status=\"500\"} 1\n");
}

TEST(Metrics, HelpTextEscapesBackslashAndNewlineButNotQuotes) {
  MetricsRegistry registry;
  registry.gauge("g", "a \"quoted\" back\\slash\nnext");
  EXPECT_THAT(registry.render(), HasSubstr("# HELP g a \"quoted\" back\\\\slash\\nnext\n"));
}

TEST(Metrics, GaugeGoesUpAndDownAndPrintsFractionsAndSpecialValues) {
  MetricsRegistry registry;
  auto& gauge = registry.gauge("temperature", "T.");
  gauge.set(2.5);
  gauge.add(1);
  gauge.sub(0.25);
  EXPECT_THAT(registry.render(), HasSubstr("temperature 3.25\n"));
  gauge.set(std::numeric_limits<double>::infinity());
  EXPECT_THAT(registry.render(), HasSubstr("temperature +Inf\n"));
  gauge.set(-std::numeric_limits<double>::infinity());
  EXPECT_THAT(registry.render(), HasSubstr("temperature -Inf\n"));
  gauge.set(std::numeric_limits<double>::quiet_NaN());
  EXPECT_THAT(registry.render(), HasSubstr("temperature NaN\n"));
}

TEST(Metrics, HistogramHasCumulativeBucketsInfSumAndCount) {
  MetricsRegistry registry;
  auto& family =
      registry.histogramFamily("latency_seconds", "Latency.", {"route"}, {0.005, 0.1, 1});
  auto& histogram = family.with({"/x"});
  histogram.observe(0.001);
  histogram.observe(0.005); // on a bound: counts in that bucket (le is "less or equal")
  histogram.observe(0.05);
  histogram.observe(3);
  EXPECT_EQ(renderAfterBuiltins(registry), "# HELP latency_seconds Latency.\n"
                                           "# TYPE latency_seconds histogram\n"
                                           "latency_seconds_bucket{route=\"/x\",le=\"0.005\"} 2\n"
                                           "latency_seconds_bucket{route=\"/x\",le=\"0.1\"} 3\n"
                                           "latency_seconds_bucket{route=\"/x\",le=\"1\"} 3\n"
                                           "latency_seconds_bucket{route=\"/x\",le=\"+Inf\"} 4\n"
                                           "latency_seconds_sum{route=\"/x\"} 3.056\n"
                                           "latency_seconds_count{route=\"/x\"} 4\n");
}

TEST(Metrics, NumbersArePlainDecimalsUnlessTinyOrHuge) {
  MetricsRegistry registry;
  registry.histogram("small_seconds", "S.", {1e-9, 0.0005, 2e22});
  auto text = registry.render();
  EXPECT_THAT(text, HasSubstr("le=\"1e-09\""));
  EXPECT_THAT(text, HasSubstr("le=\"0.0005\""));
  EXPECT_THAT(text, HasSubstr("le=\"2e+22\""));
}

TEST(Metrics, HistogramWithoutLabelsHasOnlyLe) {
  MetricsRegistry registry;
  registry.histogram("size_bytes", "Sizes.", {10}).observe(20);
  EXPECT_THAT(registry.render(), HasSubstr("size_bytes_bucket{le=\"10\"} 0\n"
                                           "size_bytes_bucket{le=\"+Inf\"} 1\n"
                                           "size_bytes_sum 20\n"
                                           "size_bytes_count 1\n"));
}

TEST(Metrics, CollectorsRunAtScrapeTime) {
  MetricsRegistry registry;
  int waiting = 1;
  registry.addCollector("queue_waiting", "Waiting items.", MetricType::Gauge, {"queue"}, [&] {
    return std::vector<CollectedSample>{{{"sales"}, static_cast<double>(waiting)},
                                        {{"support"}, 7}};
  });
  EXPECT_THAT(registry.render(), HasSubstr("# TYPE queue_waiting gauge\n"
                                           "queue_waiting{queue=\"sales\"} 1\n"
                                           "queue_waiting{queue=\"support\"} 7\n"));
  waiting = 4;
  EXPECT_THAT(registry.render(), HasSubstr("queue_waiting{queue=\"sales\"} 4\n"));
}

TEST(Metrics, AFailingCollectorIsLeftOutAndCounted) {
  MetricsRegistry registry;
  registry.addCollector("broken", "Broken.", MetricType::Gauge, {},
                        []() -> std::vector<CollectedSample> { throw std::runtime_error("x"); });
  registry.counter("after_total", "After.").inc();
  std::string text = registry.render();
  EXPECT_THAT(text, Not(HasSubstr("broken")));
  EXPECT_THAT(text, HasSubstr("after_total 1\n"));
  // The error counter renders before the collector runs, so a scrape shows the earlier ones.
  EXPECT_THAT(registry.render(), HasSubstr("switchboard_metrics_collector_errors_total 1\n"));
}

TEST(Metrics, RegisteringTheSameMetricTwiceReturnsTheSameOne) {
  MetricsRegistry registry;
  auto& first = registry.counterFamily("x_total", "X.", {"a"});
  auto& second = registry.counterFamily("x_total", "X.", {"a"});
  EXPECT_EQ(&first, &second);
  EXPECT_THROW(registry.gauge("x_total", "X."), std::invalid_argument);
  EXPECT_THROW(registry.counterFamily("x_total", "X.", {"b"}), std::invalid_argument);
}

TEST(Metrics, RefusesNamesPrometheusDoesNotAllow) {
  MetricsRegistry registry;
  EXPECT_THROW(registry.counter("1abc", "x"), std::invalid_argument);
  EXPECT_THROW(registry.counter("a-b", "x"), std::invalid_argument);
  EXPECT_THROW(registry.counterFamily("ok_total", "x", {"a:b"}), std::invalid_argument);
  EXPECT_THROW(registry.counterFamily("ok_total", "x", {"__reserved"}), std::invalid_argument);
  EXPECT_THROW(registry.histogramFamily("h", "x", {"le"}, {1}), std::invalid_argument);
  EXPECT_THROW(registry.histogram("h", "x", {2, 1}), std::invalid_argument);
  EXPECT_NO_THROW(registry.counter("ns:sub_total", "x"));
}

TEST(Metrics, WrongNumberOfLabelValuesThrows) {
  MetricsRegistry registry;
  auto& family = registry.counterFamily("y_total", "Y.", {"a", "b"});
  EXPECT_THROW(family.with({"only one"}), std::invalid_argument);
}

TEST(Metrics, ConcurrentUpdatesAreAllCounted) {
  MetricsRegistry registry;
  auto& family = registry.counterFamily("c_total", "C.", {"t"});
  auto& histogram = registry.histogram("h_seconds", "H.", {0.5});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) {
        family.with({std::to_string(i % 3)}).inc();
        histogram.observe(1);
      }
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  EXPECT_EQ(family.with({"0"}).value() + family.with({"1"}).value() + family.with({"2"}).value(),
            40000u);
  EXPECT_EQ(histogram.count(), 40000u);
  EXPECT_DOUBLE_EQ(histogram.sum(), 40000.0);
}

} // namespace
} // namespace switchboard
