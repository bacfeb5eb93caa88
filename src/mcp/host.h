// op-dbus's own MCP catalogue: tools generated from the plugin descriptors (query per plugin,
// diff, apply, rollback, commit), the ledger (log, show, verify, proof), snapshots and retention,
// D-Bus discovery, methods of discovered services where the config enables them, topology and
// anomalies; resources
// for the state per plugin, ledger blocks and the signed checkpoint; prompts for common work.
// Invariants: every engine operation runs through the Host's executor, one at a time, with the
// session's client and principal as the ledger's actor; a tool that changes the host needs
// confirm: true or the client's yes to an elicitation, and never runs on a read-only principal.
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "engine/context.h"
#include "engine/engine.h"
#include "mcp/protocol.h"
#include "ml/anomaly.h"
#include "proto/dbus/introspect.h"

namespace opdbus::mcp {

// D-Bus services (optionally one interface of them) whose methods are offered as tools.
struct DbusMethodExposure {
  std::string service;
  std::string interface;  // empty: every interface of the service
};

struct HostOptions {
  std::vector<DbusMethodExposure> dbus_methods;  // off unless listed
  ml::AnomalyConfig anomaly;  // the daemon's: anomaly_scan embeds and compares as it does
};

// Runs one engine operation exclusively: under a mutex standalone, on the daemon's own thread
// inside `op-dbus run`.
using Executor = std::function<void(const std::function<void()>&)>;

class Host {
 public:
  Host(Context& context, HostOptions options, Executor executor = {});
  Catalogue catalogue();

  // Runs `operation` on the engine with `session` as the actor.
  Result<Json> exclusive(const Session& session, const std::function<Result<Json>()>& operation);
  // The same with an Engine, its result as a tool's structured output.
  Result<ToolOutput> on_engine(Call& call, const std::function<Result<Json>(Engine&)>& operation);
  Context& context() { return context_; }

 private:
  void add_plugin_tools(Catalogue& catalogue);
  void add_write_tools(Catalogue& catalogue);
  void add_ledger_tools(Catalogue& catalogue);
  void add_store_tools(Catalogue& catalogue);
  void add_dbus_tools(Catalogue& catalogue);
  void add_insight_tools(Catalogue& catalogue);
  // One tool per interface method; the same method on several objects adds to its paths.
  void add_dbus_method_tool(std::map<std::string, Tool>& tools, const std::string& service,
                            const std::string& path, const std::string& interface,
                            const dbus::Method& method, const Json& described);
  void add_resources(Catalogue& catalogue);
  void add_prompts(Catalogue& catalogue);
  std::vector<std::string> poll_changes();
  void record_denial(const Session& session, const Tool& tool, const std::string& reason);
  void record_refusal(const std::string& reason, const std::string& peer);

  Context& context_;
  HostOptions options_;
  Executor executor_;
  std::mutex mutex_;
  uint64_t seen_height_ = 0;  // ledger size at the last poll
  std::string seen_stamp_;    // the ledger files' sizes and times then
};

}  // namespace opdbus::mcp
