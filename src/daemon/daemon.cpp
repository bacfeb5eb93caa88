// The daemon's event loop; see daemon.h.
#include "daemon/daemon.h"

#include <poll.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/inotify.h>
#include <sys/timerfd.h>
#include <systemd/sd-daemon.h>

#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <set>

#include "api/dbus/manager_service.h"
#include "base/fs.h"
#include "base/signal_pipe.h"
#include "daemon/compliance_checks.h"
#include "daemon/config.h"
#include "daemon/loop_tasks.h"
#include "daemon/metrics.h"
#include "engine/access.h"
#include "engine/anomalies.h"
#include "engine/engine.h"
#include "engine/record.h"
#include "engine/state_file.h"
#include "mcp/host.h"
#include "mcp/http.h"

namespace opdbus::daemon {
namespace {

using Clock = std::chrono::steady_clock;

Result<UniqueFd> new_timer() {
  int fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
  if (fd < 0) return fail(ErrorCode::internal, "timerfd_create: {}", errno_text(errno));
  return UniqueFd(fd);
}

// The state files merged into one document; a plugin may be declared in one file only.
Result<StateDocument> load_documents(const std::vector<std::filesystem::path>& files,
                                     const Registry& registry) {
  StateDocument merged;
  merged.root = {{"version", 1}, {"plugins", Json::object()}};
  std::map<std::string, std::string> declared_in;
  for (const auto& file : files) {
    auto document = TRY(load_state_document(file.string(), registry));
    for (const auto& [plugin, section] : document.plugins().items()) {
      auto [where, added] = declared_in.emplace(plugin, file.string());
      if (!added)
        return fail(ErrorCode::invalid_input, "plugin {} is declared in both {} and {}", plugin,
                    where->second, file.string());
      merged.root["plugins"][plugin] = section;
    }
    merged.path += (merged.path.empty() ? "" : " + ") + file.string();
    if (files.size() == 1) merged = std::move(document);
  }
  return merged;
}

class Daemon {
 public:
  Daemon(Context& context, DaemonOptions options)
      : context_(context), options_(std::move(options)), reconciler_(options_.policy) {}
  ~Daemon() {
    tasks_.close();
    if (mcp_transport_) mcp_transport_->stop();
  }

  Status start() {
    context_.interface = "daemon";
    signals_ = TRY(SignalPipe::install({SIGTERM, SIGINT, SIGHUP}));
    timer_ = TRY(new_timer());
    TRY(watch_state_files());
    if (!options_.config_file.empty()) config_ = TRY(load_daemon_config(options_.config_file));
    place_loop_thread();
    open_anomalies();
    if (!options_.state_files.empty()) {
      document_ = TRY(load_documents(options_.state_files, context_.registry));
      apply_document("daemon.start");
    }
    restart_watches();
    serve_bus();
    if (options_.snapshot_interval.count() > 0)
      next_snapshot_ = Clock::now() + options_.snapshot_interval;
    schedule_sample();
    schedule_checks();
    uint64_t usec = 0;
    if (sd_watchdog_enabled(0, &usec) > 0) watchdog_interval_ = std::chrono::microseconds(usec / 2);
    if (!options_.metrics_address.empty())
      metrics_server_ = TRY(MetricsServer::start(options_.metrics_address, metrics_));
    TRY(tasks_.open());
    if (!options_.mcp_address.empty()) TRY(serve_mcp());
    update_ledger_height();
    notify_status("READY=1");
    return ok();
  }

  Status loop() {
    for (;;) {
      drain();  // what the connections already buffered would not wake poll(2)
      arm_timer();
      std::vector<pollfd> fds = {{signals_->fd(), POLLIN, 0},
                                 {timer_.get(), POLLIN, 0},
                                 {inotify_.get(), POLLIN, 0},
                                 {tasks_.fd(), POLLIN, 0}};
      if (bus_) fds.push_back({bus_->fd(), bus_->poll_events(), 0});
      for (const auto& [plugin, watch] : watches_) fds.push_back({watch->fd(), POLLIN, 0});
      if (::poll(fds.data(), fds.size(), -1) < 0 && errno != EINTR)
        return fail(ErrorCode::internal, "poll: {}", errno_text(errno));
      if ((fds[0].revents & POLLIN) && !handle_signals()) return ok();
      if (fds[2].revents & POLLIN) handle_state_file_events();
      if (fds[3].revents & POLLIN) tasks_.run_pending();
      drain();
      handle_timers();
    }
  }

 private:
  // Binds the loop thread (all engine work, the ledger, later the vector index) to the node and
  // L3 domain the placement policy picks; threads started later inherit it.
  void place_loop_thread() {
    auto hwloc = topology::Hwloc::this_machine();
    auto placement = hwloc ? topology::decide(hwloc->describe(), config_.placement)
                           : make_failure(hwloc.error());
    if (placement) {
      if (auto applied = topology::apply_to_current_thread(*hwloc, *placement); !applied)
        placement = make_failure(applied.error());
    }
    if (!placement) {
      spdlog::warn("placement {} not applied: {}", config_.placement.describe(),
                   placement.error().describe());
    } else if (placement->active) {
      spdlog::info("placement {}: NUMA node {}, CPUs {} ({})", config_.placement.describe(),
                   placement->node, topology::cpu_list(placement->cpus), placement->reason);
    } else {
      spdlog::info("placement {}: none ({})", config_.placement.describe(), placement->reason);
    }
  }

  void reload_config(const std::string& why) {
    auto config = load_daemon_config(options_.config_file);
    if (!config) {
      spdlog::error("config reload refused, keeping the previous config: {}",
                    config.error().describe());
      record(store_record(context_, "daemon.config", Json::object(), Json::object(),
                          {{"error", config.error().describe()}, {"trigger", why}}));
      return;
    }
    config_ = std::move(*config);
    schedule_checks();
    spdlog::info("config reloaded ({})", why);
    place_loop_thread();
    open_anomalies();
    schedule_sample();
  }

  // MCP for agents and the web UI; its engine work runs here, on the loop thread.
  Status serve_mcp() {
    auto address = TRY(mcp::parse_listen_address(options_.mcp_address));
    auto host = options_.mcp_config.host;
    host.anomaly = config_.anomaly;
    mcp_host_ = std::make_unique<mcp::Host>(
        context_, std::move(host), [this](const std::function<void()>& work) { tasks_.run(work); });
    mcp_server_ = std::make_unique<mcp::Server>(mcp_host_->catalogue(), mcp::ServerOptions{});
    mcp::HttpOptions http;
    http.address = address.first;
    http.port = address.second;
    http.config = options_.mcp_config;
    http.web_root = options_.web_root;
    mcp_transport_ = TRY(mcp::HttpTransport::start(*mcp_server_, std::move(http)));
    spdlog::info("MCP on {}", mcp_transport_->url());
    return ok();
  }

  void notify_status(const std::string& extra) {
    auto status =
        fmt::format("STATUS=managing {} plugin(s), {} drift event(s), {} re-apply(s)",
                    watches_.size(), metrics_.drift_events.load(), metrics_.reapplies.load());
    sd_notify(0, (extra.empty() ? status : extra + "\n" + status).c_str());
  }

  // Reads every pending signal; false when the daemon should stop.
  bool handle_signals() {
    bool keep_running = true;
    while (auto signal = signals_->next()) {
      if (*signal == SIGHUP) {
        if (!options_.config_file.empty()) reload_config("SIGHUP");
        reload("SIGHUP");
      } else {
        spdlog::info("signal {}: stopping", *signal);
        sd_notify(0, "STOPPING=1");
        keep_running = false;
      }
    }
    return keep_running;
  }

  Status watch_state_files() {
    int fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
    if (fd < 0) return fail(ErrorCode::internal, "inotify_init1: {}", errno_text(errno));
    inotify_ = UniqueFd(fd);
    std::set<std::filesystem::path> directories;
    for (const auto& file : options_.state_files)
      directories.insert(std::filesystem::absolute(file).parent_path());
    if (!options_.config_file.empty())
      directories.insert(std::filesystem::absolute(options_.config_file).parent_path());
    for (const auto& directory : directories)
      if (inotify_add_watch(inotify_.get(), directory.c_str(),
                            IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE) < 0)
        return fail(ErrorCode::io, "watch {}: {}", directory.string(), errno_text(errno));
    return watch_denial_spool();
  }

  // Refusals noted by unprivileged CLI processes go into the ledger as soon as they are written.
  Status watch_denial_spool() {
    auto spool = denial_spool(context_.config.state_dir);
    TRY(prepare_denial_spool(context_.config.state_dir));
    spool_watch_ = inotify_add_watch(inotify_.get(), spool.c_str(), IN_CLOSE_WRITE);
    if (spool_watch_ < 0)
      return fail(ErrorCode::io, "watch {}: {}", spool.string(), errno_text(errno));
    record_denials();
    return ok();
  }

  void record_denials() {
    if (auto recorded = record_noted_denials(context_); !recorded)
      spdlog::error("cannot record noted refusals: {}", recorded.error().describe());
    else if (*recorded > 0)
      spdlog::info("recorded {} refused CLI attempt(s)", *recorded);
    update_ledger_height();
  }

  void handle_state_file_events() {
    alignas(inotify_event) char buffer[8192];
    bool relevant = false, config_changed = false, denials = false;
    for (;;) {
      auto got = ::read(inotify_.get(), buffer, sizeof buffer);
      if (got <= 0) break;
      for (char* at = buffer; at < buffer + got;) {
        auto* event = reinterpret_cast<inotify_event*>(at);
        denials = denials || event->wd == spool_watch_;
        if (event->wd != spool_watch_ && event->len > 0 &&
            (event->mask & (IN_CLOSE_WRITE | IN_MOVED_TO))) {
          for (const auto& file : options_.state_files)
            if (file.filename() == event->name) relevant = true;
          config_changed = config_changed || (!options_.config_file.empty() &&
                                              options_.config_file.filename() == event->name);
        }
        at += sizeof(inotify_event) + event->len;
      }
    }
    if (denials) record_denials();
    if (config_changed) reload_config("config file changed");
    if (relevant) reload("state file changed");
  }

  void reload(const std::string& why) {
    spdlog::info("reloading the state ({})", why);
    auto document = load_documents(options_.state_files, context_.registry);
    if (!document) {
      spdlog::error("reload refused, keeping the previous state: {}", document.error().describe());
      ++metrics_.reload_failures;
      record(store_record(context_, "daemon.reload", Json::object(), Json::object(),
                          {{"error", document.error().describe()}, {"trigger", why}}));
      return;
    }
    document_ = std::move(*document);
    apply_document("daemon.reload");
    restart_watches();
    notify_status("RELOADING=0");
  }

  void apply_document(const std::string& action) {
    if (!document_) return;
    Engine engine(context_);
    ApplyOptions options;
    options.action = action;
    auto result = engine.apply(*document_, options);
    ++metrics_.applies;
    update_ledger_height();
    if (!result)
      spdlog::error("{}: {}", action, result.error().describe());
    else if (!result->failure.empty())
      spdlog::error("{}: {}", action, result->failure);
    else
      spdlog::info("{}: {} change(s) applied", action, result->plan.enforce_count());
    if (result && result->failure.empty()) observe(declared_plugins(), "apply");
  }

  std::vector<std::string> declared_plugins() const {
    std::vector<std::string> plugins;
    if (document_)
      for (const auto& item : document_->plugins().items()) plugins.push_back(item.key());
    return plugins;
  }

  // The vector store and baseline; without them the daemon still runs, without anomaly checks.
  void open_anomalies() {
    auto opened = Anomalies::open(context_, config_.anomaly);
    if (!opened) {
      spdlog::warn("anomaly detection off: {}", opened.error().describe());
      return;
    }
    anomalies_ = std::move(*opened);
  }

  // Compliance checks: first right after start (or a config change), then every interval.
  void schedule_checks() {
    next_checks_.reset();
    if (!config_.checks_file.empty()) next_checks_ = Clock::now();
  }

  void run_checks() {
    next_checks_ = Clock::now() + config_.checks_interval;
    auto run = run_compliance_checks(context_, config_.checks_file);
    update_ledger_height();
    if (!run)
      spdlog::error("compliance checks ({}): {}", config_.checks_file.string(),
                    run.error().describe());
    else
      spdlog::info("compliance checks: {} passed, {} failed, {} errors",
                   run->at("summary")["pass"].get<int>(), run->at("summary")["fail"].get<int>(),
                   run->at("summary")["error"].get<int>());
  }

  void schedule_sample() {
    next_sample_.reset();
    sample_source_ = "sample";
    if (config_.sample_interval.count() > 0) next_sample_ = Clock::now() + config_.sample_interval;
  }

  // After drift: observe the state a moment later, off the repair path (a full query of a large
  // plugin takes a while), with drift as the occasion.
  void sample_soon(const std::string& source) {
    if (!anomalies_) return;
    auto soon = Clock::now() + kSettle;
    if (!next_sample_ || soon < *next_sample_) next_sample_ = soon;
    sample_source_ = source;
  }

  // Embeds the state of `plugins` as the daemon plans them (scoped to what is declared, which is
  // cheap: the cost of a drift check) and compares each resource with what has been seen;
  // anomalies are recorded in the ledger by Anomalies. `op-dbus anomaly scan` looks at everything.
  void observe(const std::vector<std::string>& plugins, const std::string& source) {
    if (!anomalies_ || plugins.empty() || !document_) return;
    Engine engine(context_);
    Json states = Json::object();
    for (const auto& plugin : plugins) {
      auto plan = engine.plan(*document_, plugin);
      if (plan && !plan->plugins.empty()) states[plugin] = plan->plugins.front().current;
    }
    auto found = anomalies_->observe(states, source, false);
    if (!found) {
      spdlog::warn("anomaly check ({}): {}", source, found.error().describe());
      return;
    }
    for (const auto& verdict : *found) {
      ++metrics_.anomalies;
      spdlog::warn("anomaly in {} {}: similarity {:.3f} below {:.2f} ({})", verdict.plugin,
                   verdict.resource.empty() ? "(whole state)" : verdict.resource,
                   verdict.similarity, verdict.threshold, source);
    }
    update_ledger_height();
    if (config_.auto_rollback && !found->empty() && source != "apply" && source != "rollback")
      restore_normal_state(*found, source);
  }

  // anomaly.auto_rollback: back to the newest recorded state that was not anomalous, through the
  // engine (verified, rolled back itself on failure), recorded as rollback.to with the anomalies
  // that caused it. Not after the daemon's own applies (they put the declared state in place)
  // nor after its rollbacks (no loops).
  void restore_normal_state(const std::vector<ml::Verdict>& found, const std::string& source) {
    auto point = Anomalies::last_normal_point(context_);
    if (!point || !*point) {
      spdlog::error("auto rollback: no recorded normal state to return to{}",
                    point ? "" : ": " + point.error().describe());
      return;
    }
    Json causes = Json::array();
    for (const auto& verdict : found)
      causes.push_back({{"plugin", verdict.plugin},
                        {"resource", verdict.resource},
                        {"similarity", verdict.similarity},
                        {"vector", verdict.vector_id}});
    ApplyOptions options;
    options.refs["auto_rollback"] = {{"source", source}, {"anomalies", causes}};
    Engine engine(context_);
    auto result = engine.rollback_to(std::to_string(**point), options);
    ++metrics_.applies;
    update_ledger_height();
    if (!result || !result->failure.empty()) {
      spdlog::error("auto rollback to block {}: {}", **point,
                    result ? result->failure : result.error().describe());
      return;
    }
    spdlog::warn("auto rollback: restored the state of block {} ({} change(s))", **point,
                 result->plan.enforce_count());
    observe(declared_plugins(), "rollback");  // the anomaly is over: made again, it is news
  }

  void restart_watches() {
    watches_.clear();  // RAII: the old sockets and subscriptions close here
    watch_retries_.clear();
    if (!document_) return;
    for (const auto& [name, section] : document_->plugins().items()) open_watch(name);
  }

  // Opens `name`'s watch; when that fails (its service is down), retries later with back-off
  // (1 s doubling to 60 s) and checks the plugin once the watch is back, since events were missed.
  void open_watch(const std::string& name) {
    auto* plugin = context_.registry.find(name);
    if (!plugin) return;
    auto watch = plugin->watch([this](const WatchEvent& event) {
      reconciler_.note_event(
          event.plugin,
          event.kind + " " + event.object + (event.origin.empty() ? "" : " by " + event.origin),
          event.origin, Clock::now());
    });
    if (watch) {
      watches_[name] = std::move(*watch);
      if (watch_retries_.erase(name))
        reconciler_.note_event(name, "watch re-opened", "", Clock::now());
      return;
    }
    auto& retry = watch_retries_[name];
    retry.delay = std::clamp(retry.delay * 2, std::chrono::milliseconds(1000),
                             std::chrono::milliseconds(60000));
    retry.at = Clock::now() + retry.delay;
    spdlog::warn("no drift watch for {}: {}; retrying in {} s", name, watch.error().describe(),
                 retry.delay.count() / 1000);
  }

  // Every watch probes its connection; one that went silent is re-opened and its plugin checked.
  void probe_watches() {
    std::vector<std::string> silent;
    for (const auto& [plugin, watch] : watches_)
      if (auto probed = watch->keepalive(); !probed) {
        spdlog::warn("{} watch: {}; re-opening it", plugin, probed.error().describe());
        silent.push_back(plugin);
      }
    reopen(silent);
  }

  // Re-opens the watches of `plugins` and checks them: events may have been missed meanwhile.
  void reopen(const std::vector<std::string>& plugins) {
    for (const auto& plugin : plugins) {
      watches_.erase(plugin);
      open_watch(plugin);
      reconciler_.note_event(plugin, "watch re-opened", "", Clock::now());
    }
  }

  void retry_watches(Clock::time_point now) {
    std::vector<std::string> due;
    for (const auto& [name, retry] : watch_retries_)
      if (retry.at <= now) due.push_back(name);
    for (const auto& name : due) open_watch(name);
  }

  // Dispatches everything pending on the bus and on every watch. A watch that fails (its
  // connection dropped, netlink events overflowed) is re-opened and its plugin checked, since
  // events may have been lost.
  void drain() {
    if (bus_) (void)bus_->process(std::chrono::milliseconds(0));
    std::vector<std::string> broken;
    for (const auto& [plugin, watch] : watches_)
      if (auto dispatched = watch->dispatch(); !dispatched) {
        spdlog::warn("{} watch: {}; re-opening it", plugin, dispatched.error().describe());
        broken.push_back(plugin);
      }
    reopen(broken);
  }

  void serve_bus() {
    auto bus = dbus::Bus::open(context_.config.bus_address);
    if (!bus) {
      spdlog::warn("not serving org.opdbus.Manager1: {}", bus.error().describe());
      return;
    }
    bus_ = std::make_unique<dbus::Bus>(std::move(*bus));
    auto service = api::ManagerService::create(context_, *bus_, config_.access);
    if (!service) {
      spdlog::warn("not serving org.opdbus.Manager1: {}", service.error().describe());
      bus_.reset();
      return;
    }
    service_ = std::move(*service);
  }

  void arm_timer() {
    std::optional<Clock::time_point> wake = reconciler_.next_due();
    auto earliest = [&wake](std::optional<Clock::time_point> when) {
      if (when && (!wake || *when < *wake)) wake = when;
    };
    earliest(next_snapshot_);
    earliest(next_sample_);
    earliest(next_checks_);
    earliest(last_keepalive_ + kKeepalive);
    for (const auto& [name, retry] : watch_retries_) earliest(retry.at);
    if (watchdog_interval_.count() > 0) earliest(last_watchdog_ + watchdog_interval_);
    itimerspec spec{};
    if (wake) {
      auto delay = std::max(*wake - Clock::now(), Clock::duration(std::chrono::microseconds(1)));
      auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(delay).count();
      spec.it_value = {static_cast<time_t>(ns / 1000000000), static_cast<long>(ns % 1000000000)};
    }
    timerfd_settime(timer_.get(), 0, &spec, nullptr);
  }

  void handle_timers() {
    uint64_t expirations = 0;
    (void)!::read(timer_.get(), &expirations, sizeof expirations);
    auto now = Clock::now();
    retry_watches(now);
    if (now >= last_keepalive_ + kKeepalive) {
      last_keepalive_ = now;
      probe_watches();
    }
    for (auto& due : reconciler_.take_due(now)) check(due);
    if (next_snapshot_ && now >= *next_snapshot_) {
      Engine engine(context_);
      if (auto snapshot = engine.create_snapshot(); !snapshot)
        spdlog::warn("scheduled snapshot: {}", snapshot.error().describe());
      next_snapshot_ = now + options_.snapshot_interval;
    }
    if (next_sample_ && now >= *next_sample_) {
      observe(declared_plugins(), sample_source_);
      schedule_sample();
    }
    if (next_checks_ && now >= *next_checks_) run_checks();
    if (watchdog_interval_.count() > 0 && now >= last_watchdog_ + watchdog_interval_) {
      sd_notify(0, "WATCHDOG=1");
      last_watchdog_ = now;
    }
  }

  // Plans `plugin` against the declared state; records drift; re-applies enforce items.
  void check(const Reconciler::Due& due) {
    const auto& plugin = due.plugin;
    if (!document_ || !document_->plugins().contains(plugin)) return;
    Engine engine(context_);
    auto plan = engine.plan(*document_, plugin);
    if (!plan) {
      spdlog::warn("drift check of {}: {}", plugin, plan.error().describe());
      return;
    }
    auto changes = plan->all();
    spdlog::debug("drift check of {} after {} event(s): {} difference(s)", plugin,
                  due.events.size(), changes.size());
    if (changes.empty()) return;
    ++metrics_.drift_events;
    record(drift_record(context_, plugin, changes, due.events, due.origin));
    sample_soon("drift");
    if (plan->enforce_count() == 0) return;
    if (!reconciler_.may_enforce(plugin, Clock::now())) {
      spdlog::warn(
          "{} drifted again; backing off {} ms before re-applying it", plugin,
          std::chrono::duration_cast<std::chrono::milliseconds>(reconciler_.backoff(plugin))
              .count());
      return;
    }
    ApplyOptions options;
    options.only_plugin = plugin;
    options.action = "reconcile";
    auto result = engine.apply(*document_, options);
    reconciler_.enforced(plugin, Clock::now());
    ++metrics_.reapplies;
    ++metrics_.applies;
    metrics_.observe_latency(
        std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - due.first_event));
    update_ledger_height();
    if (auto backoff = reconciler_.backoff(plugin); backoff.count() > 0)
      spdlog::warn(
          "{} is being changed back repeatedly; backing off {} ms before the next re-apply", plugin,
          std::chrono::duration_cast<std::chrono::milliseconds>(backoff).count());
    if (!result)
      spdlog::error("re-applying {}: {}", plugin, result.error().describe());
    else if (!result->failure.empty())
      spdlog::error("re-applying {}: {}", plugin, result->failure);
    else
      spdlog::info("re-applied {}: {} change(s)", plugin, result->plan.enforce_count());
    notify_status("");
  }

  void record(ledger::BlockDraft draft) {
    auto ledger = open_ledger(context_);
    if (!ledger) {
      spdlog::error("cannot record {}: {}", draft.action, ledger.error().describe());
      return;
    }
    if (auto appended = (*ledger)->append(std::move(draft)); !appended)
      spdlog::error("cannot record: {}", appended.error().describe());
    update_ledger_height();
  }

  void update_ledger_height() {
    if (context_.ledger) metrics_.ledger_height = context_.ledger->size();
  }

  Context& context_;
  DaemonOptions options_;
  Reconciler reconciler_;
  std::optional<StateDocument> document_;
  std::map<std::string, std::unique_ptr<Watch>> watches_;
  struct WatchRetry {
    std::chrono::milliseconds delay{0};
    Clock::time_point at;
  };
  std::map<std::string, WatchRetry> watch_retries_;
  std::unique_ptr<dbus::Bus> bus_;
  std::unique_ptr<api::ManagerService> service_;
  std::unique_ptr<SignalPipe> signals_;
  UniqueFd timer_, inotify_;
  int spool_watch_ = -1;
  std::optional<Clock::time_point> next_snapshot_;
  std::optional<Clock::time_point> next_sample_;
  std::optional<Clock::time_point> next_checks_;
  std::string sample_source_ = "sample";
  static constexpr std::chrono::seconds kSettle{1};
  std::unique_ptr<Anomalies> anomalies_;
  std::chrono::microseconds watchdog_interval_{0};
  Clock::time_point last_watchdog_ = Clock::now();
  static constexpr std::chrono::seconds kKeepalive{5};
  Clock::time_point last_keepalive_ = Clock::now();
  Metrics metrics_;
  std::unique_ptr<MetricsServer> metrics_server_;  // stopped before metrics_ goes
  LoopTasks tasks_;
  DaemonConfig config_;
  std::unique_ptr<mcp::Host> mcp_host_;
  std::unique_ptr<mcp::Server> mcp_server_;
  std::unique_ptr<mcp::HttpTransport> mcp_transport_;  // stopped first, in ~Daemon
};

}  // namespace

Status run(Context& context, const DaemonOptions& options) {
  Daemon daemon(context, options);
  TRY(daemon.start());
  return daemon.loop();
}

}  // namespace opdbus::daemon
