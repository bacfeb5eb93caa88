// Engine: query, plan, apply (checkpoint -> apply in dependency order -> verify -> restore on
// failure), commit and rollback, across all registered plugins.
// Invariants:
//  - a plan never touches the host; an apply with no enforce changes performs zero writes;
//  - before the first write, the checkpoint of everything the changes may touch is on disk;
//  - when apply or verification fails, every plugin that was touched is restored, and the
//    outcome says whether the restore itself succeeded;
//  - all writes happen under STATE_DIR/lock.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "engine/checkpoint_store.h"
#include "engine/context.h"
#include "engine/state_file.h"
#include "store/replication.h"
#include "store/retention.h"

namespace opdbus {

struct PluginPlan {
  Plugin* plugin = nullptr;
  Json desired;
  std::vector<Change> changes;  // in apply order; observe-mode drift included
  Json current;                 // the plugin's state the plan was computed from
  std::vector<Change> enforced() const;
};

struct Plan {
  std::vector<PluginPlan> plugins;
  size_t count(ChangeOp op) const;  // enforce changes with this op
  size_t enforce_count() const;
  size_t observe_count() const;
  std::vector<Change> all() const;
};

struct ApplyOptions {
  std::optional<std::string> only_plugin;
  bool dry_run = false;
  bool verify = true;
  bool no_commit = false;
  int timeout_seconds = 0;
  std::string action = "apply";  // what the ledger calls it ("rollback.to" for point-in-time)
  Json refs = Json::object();    // extra references recorded with it
  // Told how far an apply got ("applied net", 1 of 3) and asked before each plugin's writes
  // whether to stop: stopping fails the apply, so what was already done is rolled back.
  std::function<void(const std::string& step, size_t done, size_t total)> on_progress;
  std::function<bool()> should_stop;
};

enum class Outcome { no_changes, planned, applied, awaiting_commit, rolled_back, rollback_failed };

struct ApplyResult {
  Outcome outcome = Outcome::no_changes;
  Plan plan;
  size_t writes = 0;
  std::string checkpoint_id;
  int64_t deadline = 0;
  std::string failure;           // what went wrong, when rolled back or rollback failed
  std::vector<Snapshot> before;  // the touched resources before the apply
  Json after = Json::object();   // and after it, by plugin (what the ledger records)
  Json refs = Json::object();    // snapshot taken, snapshots pruned, and ApplyOptions::refs
  std::string action = "apply";
};

// One snapshot's fate under the retention policy, for `snapshot list` and `snapshot prune`.
struct SnapshotStatus {
  store::SnapshotInfo info;
  std::vector<std::string> reasons;  // tiers keeping it; empty: the next prune deletes it
};

struct RestoreResult {
  std::string checkpoint_id;
  size_t writes = 0;
};

// The host's current state as a state document {"version":1,"plugins":{}}, with the plugins
// whose protocol is unavailable here (no system bus, no systemd) left out and named with why.
struct HostState {
  Json document;
  std::map<std::string, std::string> unavailable;
};

class Engine {
 public:
  explicit Engine(Context& context);

  // The current state of every available plugin, or of one (then unavailable is an error).
  // `known_states` holds plugin states the caller already queried.
  Result<HostState> query(const std::optional<std::string>& only_plugin,
                          const Json& known_states = Json::object());
  Result<Plan> plan(const StateDocument& document, const std::optional<std::string>& only_plugin);
  Result<ApplyResult> apply(const StateDocument& document, const ApplyOptions& options);
  Result<CheckpointRecord> commit();
  Result<RestoreResult> rollback();
  // Called by the watchdog at the deadline: reverts `checkpoint_id` unless it was committed.
  Result<bool> expire_pending(const std::string& checkpoint_id);
  // Point in time (history.cpp): state snapshots, retention and rollback --to.
  Result<std::string> create_snapshot();
  Result<std::vector<SnapshotStatus>> snapshot_status();
  Result<std::vector<std::string>> prune_snapshots(bool dry_run);
  Result<store::RetentionPolicy> retention();
  Status set_retention(const std::vector<std::string>& assignments);
  // Replicates every snapshot and the ledger to `replica` (another BTRFS filesystem),
  // incrementally, or as a full stream to `out_fd` when there is no replica; recorded.
  Result<std::vector<store::SendItem>> send_snapshots(
      const std::optional<std::filesystem::path>& replica, int out_fd);
  // Applies the state recorded at a ledger height or in a named snapshot, exactly (what was
  // created since is removed), with verification and automatic rollback.
  Result<ApplyResult> rollback_to(const std::string& target, const ApplyOptions& options);

  // In a forked child: abandons the parent's ledger handle without closing its descriptors,
  // which the child closes wholesale; the next record opens the ledger afresh.
  void abandon_inherited_ledger();

 private:
  Result<Plugin*> plugin_named(const std::string& name) const;
  Result<std::vector<Snapshot>> take_snapshots(const Plan& plan);
  Status apply_plan(const Plan& plan, const ApplyOptions& options, size_t& writes);
  // The final state of each verified plugin, by name.
  Result<Json> verify(const Plan& plan);
  Result<size_t> restore(const std::vector<Snapshot>& snapshots);
  Status check_namespace(const CheckpointRecord& record) const;
  Result<ApplyResult> run_apply(ApplyResult result, const ApplyOptions& options,
                                const std::string& file);
  Json capture(const Plan& plan, const Json& known_states);
  // Lets the plan's plugins free host-side checkpoints their apply took.
  void release(const Plan& plan);
  Json current_state(const std::vector<Snapshot>& snapshots);
  Status append_to_ledger(ledger::BlockDraft draft);
  Result<RestoreResult> revert(CheckpointRecord record, const std::string& reason);
  // `known_states`: plugin states already queried (after verification), not queried again.
  Json snapshot_and_prune(const std::string& reason, const Json& known_states = Json::object());
  Result<Json> state_of(Plugin& plugin, const Json& known_states);
  Result<std::vector<std::string>> prune_unlocked(bool dry_run);
  Result<std::string> newest_snapshot();
  Result<Json> exact_document(const Json& target);

  Context& context_;
  CheckpointStore store_;
};

}  // namespace opdbus
