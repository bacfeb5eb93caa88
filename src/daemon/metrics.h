// Prometheus metrics of the daemon: counters the daemon thread updates (atomics) and a /metrics
// endpoint (cpp-httplib, its own thread, loopback only: the figures are not authenticated).
// Exposition format 0.0.4.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "base/result.h"

namespace httplib {
class Server;
}

namespace opdbus::daemon {

struct Metrics {
  static constexpr std::array<double, 10> kLatencyBuckets = {0.005, 0.01, 0.025, 0.05, 0.1,
                                                             0.25,  0.5,  1,     2.5,  5};
  std::atomic<uint64_t> applies{0};          // state applies: start, reloads, re-applies
  std::atomic<uint64_t> drift_events{0};     // drift checks that found differences
  std::atomic<uint64_t> reapplies{0};        // re-applies of enforce items
  std::atomic<uint64_t> reload_failures{0};  // state files refused on reload
  std::atomic<uint64_t> anomalies{0};        // states unlike the baseline
  std::atomic<uint64_t> ledger_height{0};
  // Reconcile latency: from the first watch event of a drift to the end of its re-apply.
  std::array<std::atomic<uint64_t>, kLatencyBuckets.size()> latency_buckets{};
  std::atomic<uint64_t> latency_count{0};
  std::atomic<uint64_t> latency_sum_us{0};

  void observe_latency(std::chrono::microseconds latency);
  std::string render() const;
};

class MetricsServer {
 public:
  // Serves `metrics` at http://ADDRESS:PORT/metrics; ADDRESS must be a loopback address.
  static Result<std::unique_ptr<MetricsServer>> start(const std::string& address_port,
                                                      const Metrics& metrics);
  ~MetricsServer();

 private:
  MetricsServer() = default;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
};

}  // namespace opdbus::daemon
