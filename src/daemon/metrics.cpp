// Daemon metrics; see metrics.h.
#include "daemon/metrics.h"

#include <arpa/inet.h>
#include <httplib.h>

namespace opdbus::daemon {
namespace {

bool is_loopback(const std::string& host) {
  in_addr v4{};
  if (inet_pton(AF_INET, host.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  return host == "::1" || host == "localhost";
}

void counter(std::string& out, const char* name, const char* help, uint64_t value) {
  out += fmt::format("# HELP {} {}\n# TYPE {} counter\n{} {}\n", name, help, name, name, value);
}

}  // namespace

void Metrics::observe_latency(std::chrono::microseconds latency) {
  double seconds = latency.count() / 1e6;
  for (size_t i = 0; i < kLatencyBuckets.size(); ++i)
    if (seconds <= kLatencyBuckets[i]) ++latency_buckets[i];
  ++latency_count;
  latency_sum_us += static_cast<uint64_t>(latency.count());
}

std::string Metrics::render() const {
  std::string out;
  counter(out, "opdbus_applies_total", "State applies (start, reloads, re-applies).", applies);
  counter(out, "opdbus_drift_events_total", "Drift checks that found the host changed.",
          drift_events);
  counter(out, "opdbus_anomalies_total", "Observed states unlike the baseline.", anomalies);
  counter(out, "opdbus_reapplies_total", "Re-applies of enforce items after drift.", reapplies);
  counter(out, "opdbus_reload_failures_total", "State files refused on reload.", reload_failures);
  out += fmt::format(
      "# HELP opdbus_ledger_height Blocks in the ledger.\n# TYPE opdbus_ledger_height gauge\n"
      "opdbus_ledger_height {}\n",
      ledger_height.load());
  out +=
      "# HELP opdbus_reconcile_latency_seconds From the first event of a drift to the end of its "
      "re-apply.\n# TYPE opdbus_reconcile_latency_seconds histogram\n";
  for (size_t i = 0; i < kLatencyBuckets.size(); ++i)
    out += fmt::format("opdbus_reconcile_latency_seconds_bucket{{le=\"{}\"}} {}\n",
                       kLatencyBuckets[i], latency_buckets[i].load());
  out += fmt::format("opdbus_reconcile_latency_seconds_bucket{{le=\"+Inf\"}} {}\n",
                     latency_count.load());
  out += fmt::format("opdbus_reconcile_latency_seconds_sum {}\n", latency_sum_us.load() / 1e6);
  out += fmt::format("opdbus_reconcile_latency_seconds_count {}\n", latency_count.load());
  return out;
}

Result<std::unique_ptr<MetricsServer>> MetricsServer::start(const std::string& address_port,
                                                            const Metrics& metrics) {
  auto colon = address_port.rfind(':');
  if (colon == std::string::npos)
    return fail(ErrorCode::invalid_input, "--metrics {}: expected ADDRESS:PORT", address_port);
  auto host = address_port.substr(0, colon);
  if (host.size() > 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  int port = std::atoi(address_port.c_str() + colon + 1);
  if (!is_loopback(host))
    return fail(ErrorCode::invalid_input,
                "--metrics {}: only loopback addresses (127.0.0.0/8, ::1), the figures are not "
                "authenticated",
                address_port);
  if (port <= 0 || port > 65535)
    return fail(ErrorCode::invalid_input, "--metrics {}: bad port", address_port);
  std::unique_ptr<MetricsServer> server(new MetricsServer());
  server->server_ = std::make_unique<httplib::Server>();
  server->server_->Get("/metrics",
                       [&metrics](const httplib::Request&, httplib::Response& response) {
                         response.set_content(metrics.render(), "text/plain; version=0.0.4");
                       });
  if (!server->server_->bind_to_port(host, port))
    return fail(ErrorCode::unavailable, "--metrics {}: cannot listen there", address_port);
  server->thread_ = std::thread([raw = server->server_.get()] { raw->listen_after_bind(); });
  return server;
}

MetricsServer::~MetricsServer() {
  if (server_) server_->stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace opdbus::daemon
