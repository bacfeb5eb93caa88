// bench_embed_structural: documents per second through the structural embedder, for the state
// documents the anomaly detector embeds: one interface or unit (a resource), a host's net state
// (24 links with addresses, 12 routes) and a systemd inventory of 300 units. One thread.
// Usage: bench_embed_structural [SECONDS_EACH]
#include <chrono>
#include <cstdio>
#include <string>

#include "ml/structural.h"

using namespace opdbus;

namespace {

Json interface(int i) {
  return {{"name", "veth" + std::to_string(i)},
          {"type", "veth"},
          {"mtu", 1500},
          {"state", "up"},
          {"master", "br0"},
          {"mac", "52:54:00:12:34:" + std::to_string(10 + i)},
          {"ipv4", {{"address", {{{"ip", "10.50.1." + std::to_string(i)}, {"prefix", 24}}}}}}};
}

Json net_state() {
  Json interfaces = Json::array(), routes = Json::array();
  for (int i = 0; i < 24; ++i) interfaces.push_back(interface(i));
  for (int i = 0; i < 12; ++i)
    routes.push_back({{"destination", "10." + std::to_string(60 + i) + ".0.0/16"},
                      {"gateway", "10.50.0.254"},
                      {"dev", "br0"},
                      {"metric", 100}});
  return {{"interfaces", interfaces}, {"routes", routes}};
}

Json systemd_state() {
  Json units = Json::object();
  for (int i = 0; i < 300; ++i)
    units["unit" + std::to_string(i) + ".service"] = {
        {"active_state", "active"},
        {"sub_state", "running"},
        {"enabled", true},
        {"description", "Service number " + std::to_string(i)}};
  return {{"units", units}};
}

void measure(const char* name, const Json& document, double seconds) {
  using Clock = std::chrono::steady_clock;
  auto start = Clock::now();
  size_t runs = 0;
  float sink = 0;
  for (; std::chrono::duration<double>(Clock::now() - start).count() < seconds; ++runs)
    sink += ml::embed_structure(document)[0];
  double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  std::printf("%-34s %12.0f docs/s %10.1f us/doc%s\n", name, static_cast<double>(runs) / elapsed,
              elapsed * 1e6 / static_cast<double>(runs), sink > 1e30F ? " " : "");
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = argc > 1 ? std::stod(argv[1]) : 3;
  measure("one interface (a resource)", interface(1), seconds);
  measure("net: 24 links, 12 routes", net_state(), seconds);
  measure("systemd: 300 units", systemd_state(), seconds);
  return 0;
}
