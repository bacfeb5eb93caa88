// The engine; see engine.h for its invariants.
#include "engine/engine.h"

#include <algorithm>
#include <chrono>
#include <thread>

#include "engine/record.h"
#include "engine/watchdog.h"

namespace opdbus {
namespace {

constexpr int kVerifyAttempts = 8;  // backoff 10..1280 ms: lets the kernel or a daemon settle

// An apply's steps for progress reports: each plugin with changes, then verification.
size_t progress_steps(const Plan& plan) {
  return 1 + static_cast<size_t>(
                 std::count_if(plan.plugins.begin(), plan.plugins.end(),
                               [](const PluginPlan& each) { return !each.enforced().empty(); }));
}

int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Rewrites "/interfaces/0: message" from a plugin into "file:line:col: /plugins/net/interfaces/0:
// message".
Error locate_plan_error(Error error, const StateDocument& document, const std::string& plugin) {
  if (error.code != ErrorCode::invalid_input || error.message.empty() || error.message[0] != '/')
    return error;
  auto colon = error.message.find(": ");
  if (colon == std::string::npos) return error;
  auto pointer = "/plugins/" + plugin + error.message.substr(0, colon);
  error.message =
      fmt::format("{}: {}: {}", document.locate(pointer), pointer, error.message.substr(colon + 2));
  return error;
}

std::string describe_remaining(const std::vector<Change>& remaining) {
  std::string text;
  for (size_t i = 0; i < remaining.size() && i < 5; ++i) {
    const auto& change = remaining[i];
    text += fmt::format("\n  {} {} {}", change.plugin, change.kind, change.id);
    if (change.op != ChangeOp::modify) {
      text += change.op == ChangeOp::create ? " is missing" : " is still present";
      continue;
    }
    for (const auto& field : field_changes(remaining[i].before, remaining[i].after))
      text += fmt::format(" ({}: is {}, wanted {})", field.path, json_brief(field.from),
                          json_brief(field.to));
  }
  return text;
}

}  // namespace

std::vector<Change> PluginPlan::enforced() const {
  std::vector<Change> out;
  for (const auto& change : changes)
    if (!change.observe) out.push_back(change);
  return out;
}

size_t Plan::count(ChangeOp op) const {
  size_t n = 0;
  for (const auto& plugin : plugins)
    for (const auto& change : plugin.changes) n += !change.observe && change.op == op;
  return n;
}

size_t Plan::enforce_count() const {
  return count(ChangeOp::create) + count(ChangeOp::modify) + count(ChangeOp::remove);
}

size_t Plan::observe_count() const {
  size_t n = 0;
  for (const auto& plugin : plugins)
    for (const auto& change : plugin.changes) n += change.observe;
  return n;
}

std::vector<Change> Plan::all() const {
  std::vector<Change> out;
  for (const auto& plugin : plugins)
    out.insert(out.end(), plugin.changes.begin(), plugin.changes.end());
  return out;
}

Engine::Engine(Context& context) : context_(context), store_(context.config.state_dir) {}

Result<Plugin*> Engine::plugin_named(const std::string& name) const {
  auto* plugin = context_.registry.find(name);
  if (!plugin) {
    std::string known;
    for (const auto& n : context_.registry.names()) known += (known.empty() ? "" : ", ") + n;
    return fail(ErrorCode::invalid_input, "unknown plugin '{}' (known plugins: {})", name, known);
  }
  return plugin;
}

Result<HostState> Engine::query(const std::optional<std::string>& only_plugin,
                                const Json& known_states) {
  HostState host{{{"version", 1}, {"plugins", Json::object()}}, {}};
  if (only_plugin) TRY(plugin_named(*only_plugin));
  for (auto* plugin : context_.registry.ordered()) {
    const auto& name = plugin->descriptor().name;
    if (only_plugin && *only_plugin != name) continue;
    auto state = state_of(*plugin, known_states);
    if (!state && state.error().code == ErrorCode::unavailable && !only_plugin) {
      host.unavailable[name] = state.error().describe();
      continue;
    }
    host.document["plugins"][name] = TRY(std::move(state));
  }
  return host;
}

Result<Plan> Engine::plan(const StateDocument& document,
                          const std::optional<std::string>& only_plugin) {
  if (only_plugin) {
    TRY(plugin_named(*only_plugin));
    if (!document.plugins().contains(*only_plugin))
      return fail(ErrorCode::invalid_input, "{} has no '{}' section", document.path, *only_plugin);
  }
  Plan plan;
  for (auto* plugin : context_.registry.ordered()) {
    const auto& name = plugin->descriptor().name;
    if ((only_plugin && *only_plugin != name) || !document.plugins().contains(name)) continue;
    const auto& desired = document.plugins()[name];
    auto current = TRY(with_context(plugin->query_for(desired), "query " + name));
    auto changes = plugin->diff(current, desired);
    if (!changes)
      return make_failure(locate_plan_error(std::move(changes).error(), document, name));
    for (auto& change : *changes) change.pointer = "/plugins/" + name + change.pointer;
    plan.plugins.push_back({plugin, desired, std::move(*changes), std::move(current)});
  }
  return plan;
}

Result<std::vector<Snapshot>> Engine::take_snapshots(const Plan& plan) {
  std::vector<Snapshot> snapshots;
  for (const auto& plugin_plan : plan.plugins) {
    auto changes = plugin_plan.enforced();
    if (changes.empty()) continue;
    const auto& name = plugin_plan.plugin->descriptor().name;
    // From the state the plan was made from (under the same lock): no second query.
    snapshots.push_back(TRY(with_context(
        plugin_plan.plugin->checkpoint_of(plugin_plan.current, changes), "checkpoint " + name)));
  }
  return snapshots;
}

Status Engine::apply_plan(const Plan& plan, const ApplyOptions& options, size_t& writes) {
  size_t total = progress_steps(plan), done = 0;
  for (const auto& plugin_plan : plan.plugins) {
    auto changes = plugin_plan.enforced();
    if (changes.empty()) continue;
    const auto& name = plugin_plan.plugin->descriptor().name;
    if (options.should_stop && options.should_stop())
      return fail(ErrorCode::conflict, "cancelled by the caller before applying {}", name);
    auto report = TRY(with_context(plugin_plan.plugin->apply(changes), "apply " + name));
    writes += report.writes;
    if (options.on_progress) options.on_progress("applied " + name, ++done, total);
  }
  return ok();
}

Result<Json> Engine::verify(const Plan& plan) {
  std::vector<Change> remaining;
  for (int attempt = 0; attempt < kVerifyAttempts; ++attempt) {
    if (attempt > 0) std::this_thread::sleep_for(std::chrono::milliseconds(10 << (attempt - 1)));
    remaining.clear();
    Json states = Json::object();
    for (const auto& plugin_plan : plan.plugins) {
      if (plugin_plan.enforced().empty()) continue;
      auto* plugin = plugin_plan.plugin;
      const auto& name = plugin->descriptor().name;
      auto current = TRY(with_context(plugin->query_for(plugin_plan.desired), "verify " + name));
      for (auto& change : TRY(plugin->diff(current, plugin_plan.desired)))
        if (!change.observe) remaining.push_back(std::move(change));
      states[name] = std::move(current);
    }
    if (remaining.empty()) return states;
  }
  return fail(ErrorCode::verify_failed, "the host did not reach the desired state:{}",
              describe_remaining(remaining));
}

Result<size_t> Engine::restore(const std::vector<Snapshot>& snapshots) {
  size_t writes = 0;
  for (auto it = snapshots.rbegin(); it != snapshots.rend(); ++it) {
    auto* plugin = TRY(plugin_named(it->plugin));
    writes += TRY(with_context(plugin->restore(*it), "restore " + it->plugin)).writes;
  }
  return writes;
}

void Engine::release(const Plan& plan) {
  for (const auto& plugin_plan : plan.plugins) plugin_plan.plugin->release();
}

Status Engine::check_namespace(const CheckpointRecord& record) const {
  if (record.netns == context_.config.netns) return ok();
  auto name = [](const std::string& netns) {
    return netns.empty() ? std::string("the default namespace") : "--netns " + netns;
  };
  return fail(ErrorCode::invalid_input, "checkpoint {} belongs to {}; run this command with {}",
              record.id, name(record.netns), name(record.netns));
}

Result<ApplyResult> Engine::apply(const StateDocument& document, const ApplyOptions& options) {
  auto lock = TRY(store_.lock());
  auto pending = TRY(store_.load_pending());
  if (pending && !options.dry_run)
    return fail(ErrorCode::conflict,
                "change {} is awaiting commit (it reverts at {}); run 'op-dbus commit' or "
                "'op-dbus rollback' first",
                pending->id, rfc3339_utc(pending->deadline));
  ApplyResult result;
  result.plan = TRY(plan(document, options.only_plugin));
  if (options.dry_run) {
    if (result.plan.enforce_count() > 0) result.outcome = Outcome::planned;
    return result;
  }
  TRY(open_ledger(context_));  // a ledger that cannot record refuses changes up front
  result.action = options.action;
  result.refs = options.refs;
  if (result.plan.enforce_count() > 0) return run_apply(std::move(result), options, document.path);
  TRY(append_to_ledger(apply_record(context_, result, document.path)));
  return result;
}

Result<Json> Engine::state_of(Plugin& plugin, const Json& known_states) {
  const auto& name = plugin.descriptor().name;
  if (known_states.contains(name)) return known_states[name];
  return with_context(plugin.query(), "query " + name);
}

Json Engine::capture(const Plan& plan, const Json& known_states) {
  Json after = Json::object();
  for (const auto& plugin_plan : plan.plugins) {
    auto changes = plugin_plan.enforced();
    if (changes.empty()) continue;
    auto& plugin = *plugin_plan.plugin;
    auto current = state_of(plugin, known_states);
    auto snapshot =
        current ? plugin.checkpoint_of(*current, changes) : make_failure(current.error());
    after[plugin.descriptor().name] =
        snapshot ? snapshot->data : Json{{"error", snapshot.error().describe()}};
  }
  return after;
}

Json Engine::current_state(const std::vector<Snapshot>& snapshots) {
  Json state = Json::object();
  for (const auto& snapshot : snapshots) {
    auto* plugin = context_.registry.find(snapshot.plugin);
    auto current = plugin ? plugin->query() : fail(ErrorCode::not_found, "no such plugin");
    state[snapshot.plugin] = current ? *current : Json{{"error", current.error().describe()}};
  }
  return state;
}

Status Engine::append_to_ledger(ledger::BlockDraft draft) {
  auto* ledger = TRY(open_ledger(context_));
  TRY(ledger->append(std::move(draft)));
  return ok();
}

void Engine::abandon_inherited_ledger() {
  (void)context_.ledger.release();
}

Result<ApplyResult> Engine::run_apply(ApplyResult result, const ApplyOptions& options,
                                      const std::string& file) {
  CheckpointRecord record;
  record.id = new_checkpoint_id();
  record.created = rfc3339_utc(unix_now());
  record.netns = context_.config.netns;
  record.status = "applying";
  record.snapshots = TRY(take_snapshots(result.plan));
  record.state_snapshot = TRY(newest_snapshot());
  TRY(store_.save_last(record));
  if (options.no_commit) {
    record.deadline = unix_now() + options.timeout_seconds;
    record.status = "awaiting-commit";
    TRY(store_.save_pending(record));
    auto log_path = context_.config.state_dir / "watchdog.log";
    record.watchdog_pid = TRY(spawn_commit_watchdog(*this, record.id, record.deadline, log_path));
    TRY(store_.save_pending(record));
  }
  result.checkpoint_id = record.id;
  result.deadline = record.deadline;
  result.before = record.snapshots;

  Json states = Json::object();
  auto applied = apply_plan(result.plan, options, result.writes);
  if (applied && options.verify) {
    auto verified = verify(result.plan);
    if (verified && options.on_progress) {
      auto total = progress_steps(result.plan);
      options.on_progress("verified", total, total);
    }
    if (verified)
      states = std::move(*verified);
    else
      applied = make_failure(std::move(verified).error());
  }
  if (applied) {
    result.outcome = options.no_commit ? Outcome::awaiting_commit : Outcome::applied;
    result.after = capture(result.plan, states);
    result.refs.update(snapshot_and_prune(options.action, states));
    applied = with_context(append_to_ledger(apply_record(context_, result, file)),
                           "the change could not be recorded in the ledger");
  }
  if (applied) {
    record.status = options.no_commit ? "awaiting-commit" : "applied";
    TRY(store_.save_last(record));
    release(result.plan);
    return result;
  }
  result.failure = applied.error().describe();
  auto restored = restore(record.snapshots);
  release(result.plan);
  if (options.no_commit) {
    stop_commit_watchdog(record.watchdog_pid);
    TRY(store_.clear_pending());
  }
  record.status = restored ? "rolled-back" : "rollback-failed";
  TRY(store_.save_last(record));
  if (!restored) result.failure += "\nrollback also failed: " + restored.error().describe();
  result.outcome = restored ? Outcome::rolled_back : Outcome::rollback_failed;
  result.after = capture(result.plan, Json::object());
  if (auto recorded = append_to_ledger(apply_record(context_, result, file)); !recorded)
    result.failure += "\nrecording this in the ledger also failed: " + recorded.error().describe();
  return result;
}

Result<CheckpointRecord> Engine::commit() {
  auto lock = TRY(store_.lock());
  auto pending = TRY(store_.load_pending());
  if (!pending) {
    auto last = TRY(store_.load_last());
    if (last && last->status == "rolled-back")
      return fail(ErrorCode::not_found, "nothing to commit: change {} was already rolled back",
                  last->id);
    return fail(ErrorCode::not_found, "nothing to commit: no change is awaiting commit");
  }
  TRY(check_namespace(*pending));
  TRY(open_ledger(context_));
  stop_commit_watchdog(pending->watchdog_pid);
  TRY(store_.clear_pending());
  pending->status = "committed";
  pending->deadline = 0;
  TRY(store_.save_last(*pending));
  TRY(with_context(append_to_ledger(commit_record(context_, *pending)),
                   "committed, but recording the commit in the ledger failed"));
  return *pending;
}

Result<RestoreResult> Engine::rollback() {
  auto lock = TRY(store_.lock());
  auto pending = TRY(store_.load_pending());
  std::optional<CheckpointRecord> record = pending;
  if (!record) record = TRY(store_.load_last());
  if (!record || record->status == "rolled-back")
    return fail(ErrorCode::not_found,
                "nothing to roll back: no apply has been recorded since the last rollback");
  TRY(check_namespace(*record));
  auto result = TRY(revert(std::move(*record), "rollback requested"));
  if (pending) stop_commit_watchdog(pending->watchdog_pid);
  return result;
}

Result<RestoreResult> Engine::revert(CheckpointRecord record, const std::string& reason) {
  TRY(open_ledger(context_));
  auto before = current_state(record.snapshots);
  auto writes = TRY(restore(record.snapshots));
  if (TRY(store_.load_pending())) TRY(store_.clear_pending());
  record.status = "rolled-back";
  TRY(store_.save_last(record));
  auto refs = snapshot_and_prune("rollback");
  TRY(with_context(
      append_to_ledger(rollback_record(context_, record, std::move(before), writes, reason, refs)),
      "rolled back, but recording the rollback in the ledger failed"));
  return RestoreResult{record.id, writes};
}

Result<bool> Engine::expire_pending(const std::string& checkpoint_id) {
  auto lock = TRY(store_.lock());
  auto pending = TRY(store_.load_pending());
  if (!pending || pending->id != checkpoint_id) return false;
  TRY(revert(std::move(*pending), "not committed before the deadline"));
  return true;
}

}  // namespace opdbus
