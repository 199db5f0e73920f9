#include "switchboard/http_api.h"

namespace switchboard {

void registerServiceMetrics(MetricsRegistry& metrics, Service& service) {
  // One call to Service::queues() per scrape would serve all seven queue metrics; collectors
  // are independent, so each asks. Queue figures are in memory and cheap.
  using Field = double (*)(const QueueStatus&);
  struct QueueMetric {
    const char* name;
    const char* help;
    Field field;
  };
  static constexpr QueueMetric kQueueMetrics[] = {
      {"switchboard_queue_waiting_items", "Work items waiting in the queue.",
       [](const QueueStatus& q) { return static_cast<double>(q.waiting); }},
      {"switchboard_queue_oldest_wait_seconds", "Wait of the oldest item in the queue.",
       [](const QueueStatus& q) { return static_cast<double>(q.oldestWait.count()) / 1000.0; }},
      {"switchboard_queue_agents_ready", "Ready agents the queue's target selects.",
       [](const QueueStatus& q) { return static_cast<double>(q.agentsReady); }},
      {"switchboard_queue_agents_busy", "Agents the queue selects that hold items.",
       [](const QueueStatus& q) { return static_cast<double>(q.agentsBusy); }},
      {"switchboard_queue_service_level_ratio",
       "Share of items answered today within the queue's service-level threshold.",
       [](const QueueStatus& q) { return q.serviceLevel; }},
      {"switchboard_queue_answered_today", "Items answered (accepted) today.",
       [](const QueueStatus& q) { return static_cast<double>(q.answeredToday); }},
      {"switchboard_queue_abandoned_today", "Items abandoned today.",
       [](const QueueStatus& q) { return static_cast<double>(q.abandonedToday); }},
  };
  for (const auto& metric : kQueueMetrics) {
    metrics.addCollector(metric.name, metric.help, MetricType::Gauge, {"queue"},
                         [&service, field = metric.field] {
                           std::vector<CollectedSample> samples;
                           for (const auto& queue : service.queues()) {
                             samples.push_back({{queue.id}, field(queue)});
                           }
                           return samples;
                         });
  }
  metrics.addCollector(
      "switchboard_agents", "Agents by state.", MetricType::Gauge, {"state"}, [&service] {
        std::array<double, EnumNames<AgentState>::kNames.size()> counts{};
        for (const auto& agent : service.agents()) {
          counts[static_cast<std::size_t>(agent.state.value_or(AgentState::LoggedOut))] += 1;
        }
        std::vector<CollectedSample> samples;
        for (std::size_t i = 0; i < counts.size(); ++i) {
          samples.push_back({{std::string(EnumNames<AgentState>::kNames[i])}, counts[i]});
        }
        return samples;
      });
}

} // namespace switchboard
