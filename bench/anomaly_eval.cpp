// bench_anomaly_eval: precision and recall of anomaly detection on a simulated host. Four weeks
// of five-minute samples of the net and systemd states of a container host: containers come and
// go (veth ports on br0, ct-N.service units), services restart, timers run, the uplink address
// moves within its network. Injected every ~12 hours, each lasting 30 minutes: an unknown
// service enabled, a route to an unknown network, a bridge gaining an unexpected port (a
// physical NIC), and a wide-open access change (sshd started permitting root and passwords);
// each injection differs from the earlier ones, as real ones do.
// The detector is op-dbus's (structural embeddings, default threshold); a detection is a new
// anomaly reported while an injection is active, a false alarm one reported outside.
// Usage: bench_anomaly_eval [DAYS] [SEED] [PERSISTENCE]  (persistence: samples in a row, default 2)
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <random>
#include <set>

#include "ml/anomaly.h"

using namespace opdbus;
using namespace opdbus::ml;

namespace {

constexpr int kStepsPerDay = 288;  // every five minutes
constexpr int kInjectionSteps = 6;
const char* kKinds[] = {"unknown service enabled", "route to an unknown network",
                        "bridge gained an unexpected port", "wide-open access change"};

struct Host {
  std::mt19937 random;
  std::map<int, std::string> containers;  // id -> host-side veth
  int next_container = 1;
  int uplink_host = 5;
  int injection = -1;  // the kind active now, or -1
  int variant = 0;     // which of its variants (injections differ, as real ones do)

  explicit Host(unsigned seed) : random(seed) {
    for (int i = 0; i < 6; ++i) start_container();
  }
  double chance() { return std::uniform_real_distribution<double>(0, 1)(random); }
  std::string mac() {
    return fmt::format("02:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", random() % 256, random() % 256,
                       random() % 256, random() % 256, random() % 256);
  }
  void start_container() {
    containers[next_container++] = fmt::format("veth{:07x}", random() % 0xfffffff);
  }
  void churn(int step) {
    for (auto it = containers.begin(); it != containers.end();)
      it = chance() < 1.0 / 288 ? containers.erase(it) : std::next(it);
    if (containers.size() < 20 && chance() < 1.0 / 200) start_container();
    if (step % kStepsPerDay == 100 && chance() < 0.5)
      uplink_host = 2 + static_cast<int>(random() % 200);
  }

  Json interface(const std::string& name, const std::string& type, Json extra) {
    Json item = {
        {"name", name}, {"type", type}, {"state", "up"}, {"mtu", 1500}, {"mac_address", mac()}};
    item.update(extra);
    return item;
  }
  Json net() {
    Json ports = Json::array();
    Json interfaces = Json::array(
        {{{"name", "lo"},
          {"type", "loopback"},
          {"state", "up"},
          {"mtu", 65536},
          {"ipv4", {{"address", {{{"ip", "127.0.0.1"}, {"prefix", 8}}}}}}},
         interface("eth0", "device",
                   {{"ipv4",
                     {{"address",
                       {{{"ip", fmt::format("192.168.10.{}", uplink_host)}, {"prefix", 24}}}}}}}),
         interface("eth1", "device", {{"state", "down"}, {"master", nullptr}}),
         interface("eth2", "device", {{"state", "down"}, {"master", nullptr}}),
         interface("eth3", "device", {{"state", "down"}, {"master", nullptr}})});
    if (injection == 2) {
      auto& nic = interfaces[2 + variant % 3];
      nic["master"] = "br0";
      nic["state"] = "up";
      ports.push_back(nic["name"]);
    }
    for (const auto& [id, veth] : containers) {
      ports.push_back(veth);
      interfaces.push_back(
          interface(veth, "veth", {{"master", "br0"}, {"veth", {{"peer", "eth0"}}}}));
    }
    interfaces.push_back(
        interface("br0", "bridge",
                  {{"bridge", {{"ports", ports}, {"stp", false}}},
                   {"ipv4", {{"address", {{{"ip", "10.50.0.1"}, {"prefix", 16}}}}}}}));
    Json routes =
        Json::array({{{"destination", "default"}, {"gateway", "192.168.10.1"}, {"dev", "eth0"}},
                     {{"destination", "10.50.0.0/16"}, {"dev", "br0"}, {"scope", "link"}},
                     {{"destination", "192.168.10.0/24"}, {"dev", "eth0"}, {"scope", "link"}}});
    if (injection == 1)
      routes.push_back({{"destination", fmt::format("{}.{}.{}.0/24", 100 + variant * 7 % 120,
                                                    (variant * 37) % 250, variant % 250)},
                        {"gateway", "192.168.10.1"},
                        {"dev", "eth0"}});
    return {{"interfaces", interfaces}, {"routes", routes}};
  }

  Json unit(const std::string& exec, const std::string& state, const std::string& enabled) {
    return {{"active_state", state},
            {"enabled", enabled},
            {"unit_file", "[Service]\nExecStart=" + exec + "\nRestart=on-failure\n"}};
  }
  Json systemd(int step) {
    Json units = Json::object();
    for (const char* name : {"sshd", "cron", "rsyslog", "nginx", "postgresql", "lxc", "chronyd",
                             "dbus", "systemd-journald", "systemd-networkd", "unattended-upgrades"})
      units[std::string(name) + ".service"] =
          unit(fmt::format("/usr/sbin/{} -f", name), chance() < 0.01 ? "activating" : "active",
               "enabled");
    bool daily = step % kStepsPerDay < 3;  // the nightly jobs run for a quarter of an hour
    units["apt-daily.service"] =
        unit("/usr/lib/apt/apt.systemd.daily update", daily ? "active" : "inactive", "static");
    units["logrotate.service"] =
        unit("/usr/sbin/logrotate /etc/logrotate.conf", daily ? "active" : "inactive", "static");
    for (const auto& [id, veth] : containers)
      units[fmt::format("ct-{}.service", id)] =
          unit(fmt::format("/usr/bin/lxc-start -F -n ct{}", id), "active", "enabled");
    const char* miners[] = {"kdevtmpfsi", "xmrig", "kinsing", "dbused"};
    if (injection == 0)
      units[fmt::format("{}{}.service", miners[variant % 4], variant)] =
          unit(fmt::format("/tmp/.cache/{} -o pool{}.example:{}", miners[variant % 4], variant,
                           3333 + variant),
               "active", "enabled");
    const char* openings[] = {"-o PermitRootLogin=yes -o PasswordAuthentication=yes",
                              "-o PermitEmptyPasswords=yes", "-o ListenAddress=0.0.0.0 -p 2222",
                              "-o AllowUsers=* -o PermitRootLogin=yes"};
    if (injection == 3)
      units["sshd.service"] = unit(fmt::format("/usr/sbin/sshd -D {} -o MaxAuthTries={}",
                                               openings[variant % 4], 50 + variant),
                                   "active", "enabled");
    return {{"units", units}};
  }
};

struct Tally {
  int injected = 0, detected = 0;
};

}  // namespace

int main(int argc, char** argv) {
  int days = argc > 1 ? std::atoi(argv[1]) : 28;
  unsigned seed = argc > 2 ? static_cast<unsigned>(std::atoi(argv[2])) : 1;
  int persistence = argc > 3 ? std::atoi(argv[3]) : 2;
  bool verbose = std::getenv("OPDBUS_EVAL_VERBOSE") != nullptr;
  auto directory =
      std::filesystem::temp_directory_path() / fmt::format("opdbus-eval-{}", ::getpid());
  std::filesystem::remove_all(directory);
  auto store = VectorStore::open(directory);
  if (!store) return std::fprintf(stderr, "%s\n", store.error().describe().c_str()), 1;
  AnomalyConfig config;
  config.persistence = persistence;
  AnomalyDetector detector(*store, config);
  Host host(seed);
  Tally tallies[4];
  int false_alarms = 0, alarms_in_windows = 0, steps = days * kStepsPerDay;
  int injection_end = -1, next_injection = kStepsPerDay + 37;  // day 1 is learning
  bool detected_current = false;
  size_t observed = 0;
  auto start = std::chrono::steady_clock::now();
  for (int step = 0; step < steps; ++step) {
    host.churn(step);
    if (step == next_injection) {
      host.injection = static_cast<int>(
          (tallies[0].injected + tallies[1].injected + tallies[2].injected + tallies[3].injected) %
          4);
      host.variant = tallies[host.injection].injected++;
      injection_end = step + kInjectionSteps;
      detected_current = false;
      next_injection = step + kStepsPerDay / 2 + static_cast<int>(host.random() % 60);
    }
    bool alarm = false;
    std::string time = fmt::format("step {}", step);
    for (const auto& [plugin, state] :
         {std::pair<std::string, Json>{"net", host.net()}, {"systemd", host.systemd(step)}}) {
      auto verdicts =
          detector.observe({plugin, "sample", static_cast<uint64_t>(step), time, state});
      if (!verdicts) return std::fprintf(stderr, "%s\n", verdicts.error().describe().c_str()), 1;
      observed += verdicts->size();
      for (const auto& verdict : *verdicts) {
        bool news = verdict.news();
        alarm = alarm || news;
        if (news && verbose)
          std::printf("step %d%s: %s %s similarity %.3f\n", step,
                      host.injection >= 0 ? " (injected)" : "", plugin.c_str(),
                      verdict.resource.c_str(), verdict.similarity);
      }
    }
    if (alarm && host.injection >= 0) {
      ++alarms_in_windows;
      if (!detected_current) ++tallies[host.injection].detected;
      detected_current = true;
    } else if (alarm) {
      ++false_alarms;
    }
    if (step + 1 == injection_end) host.injection = -1;
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::filesystem::remove_all(directory);
  int injected = 0, detected = 0;
  std::printf("%-36s %9s %9s\n", "injected anomaly", "injected", "detected");
  for (int kind = 0; kind < 4; ++kind) {
    std::printf("%-36s %9d %9d\n", kKinds[kind], tallies[kind].injected, tallies[kind].detected);
    injected += tallies[kind].injected;
    detected += tallies[kind].detected;
  }
  std::printf("%d days, %d samples of 2 plugins, %zu embeddings in %.1f s\n", days, steps, observed,
              seconds);
  std::printf("false alarms: %d samples; alarms during injections: %d\n", false_alarms,
              alarms_in_windows);
  std::printf(
      "precision %.3f, recall %.3f\n",
      detected + false_alarms ? static_cast<double>(detected) / (detected + false_alarms) : 1.0,
      injected ? static_cast<double>(detected) / injected : 1.0);
  return 0;
}
