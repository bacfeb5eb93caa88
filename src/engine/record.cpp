// Ledger records of engine actions; see record.h.
#include "engine/record.h"

#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>

#include "engine/access.h"

namespace opdbus {

Result<store::StateStore*> open_store(Context& context) {
  if (!context.store) {
    context.store = TRY(with_context(store::StateStore::open(context.config.state_dir),
                                     "open the state directory"));
    if (::geteuid() == 0) TRY(prepare_denial_spool(context.config.state_dir));
  }
  return &*context.store;
}

// Opens the ledger and records the refusals unprivileged processes noted meanwhile.
Result<ledger::Ledger*> open_ledger(Context& context) {
  TRY(open_store(context));  // ledger/ must become a subvolume before the ledger creates it
  if (!context.ledger) {
    context.ledger = TRY(with_context(
        ledger::Ledger::open(context.config.state_dir, context.interface, context.clock),
        "open the ledger"));
    TRY(with_context(record_noted_denials(context), "record noted refusals"));
  }
  return context.ledger.get();
}

Json snapshots_json(const std::vector<Snapshot>& snapshots) {
  Json out = Json::object();
  for (const auto& snapshot : snapshots) out[snapshot.plugin] = snapshot.data;
  return out;
}

const char* outcome_name(Outcome outcome) {
  switch (outcome) {
    case Outcome::no_changes:
      return "no_changes";
    case Outcome::planned:
      return "planned";
    case Outcome::applied:
      return "applied";
    case Outcome::awaiting_commit:
      return "awaiting_commit";
    case Outcome::rolled_back:
      return "rolled_back";
    case Outcome::rollback_failed:
      return "rollback_failed";
  }
  return "unknown";
}

namespace {

ledger::BlockDraft base_record(const Context& context, std::string action) {
  ledger::BlockDraft draft;
  draft.action = std::move(action);
  draft.actor = context.caller ? *context.caller : ledger::current_actor(context.interface);
  if (!context.config.netns.empty()) draft.refs["netns"] = context.config.netns;
  return draft;
}

// The actor behind a drift: "pid N (comm)" as the watch reported it, with the uid owning that
// process; "unknown" when the protocol does not tell.
ledger::Actor changer(const std::string& origin) {
  ledger::Actor actor;
  actor.interface = "external";
  actor.process = origin.empty() ? "unknown" : origin;
  actor.user = "unknown";
  int pid = 0;
  if (std::sscanf(origin.c_str(), "pid %d", &pid) == 1) {
    actor.pid = pid;
    struct stat info {};
    if (::stat(fmt::format("/proc/{}", pid).c_str(), &info) == 0) {
      actor.uid = info.st_uid;
      if (auto* entry = ::getpwuid(info.st_uid)) actor.user = entry->pw_name;
    }
  }
  return actor;
}

}  // namespace

ledger::BlockDraft apply_record(const Context& context, const ApplyResult& result,
                                const std::string& file) {
  auto draft = base_record(context, result.action);
  for (const auto& plugin_plan : result.plan.plugins) {
    if (plugin_plan.changes.empty()) continue;
    draft.plugins.push_back(plugin_plan.plugin->descriptor().name);
    for (const auto& change : plugin_plan.changes) draft.diff.push_back(change.to_json());
  }
  draft.before = snapshots_json(result.before);
  draft.after = result.after;
  draft.result = {
      {"outcome", outcome_name(result.outcome)}, {"writes", result.writes}, {"file", file}};
  if (!result.failure.empty()) draft.result["failure"] = result.failure;
  if (!result.checkpoint_id.empty()) draft.refs["checkpoint"] = result.checkpoint_id;
  draft.refs.update(result.refs);
  return draft;
}

ledger::BlockDraft drift_record(const Context& context, const std::string& plugin,
                                const std::vector<Change>& changes,
                                const std::vector<std::string>& events, const std::string& origin) {
  auto draft = base_record(context, "drift");
  draft.actor = changer(origin);
  draft.plugins.push_back(plugin);
  size_t enforce = 0;
  for (const auto& change : changes) {
    draft.diff.push_back(change.to_json());
    enforce += !change.observe;
  }
  draft.result = {{"outcome", "detected"},
                  {"enforce", enforce},
                  {"observe", changes.size() - enforce},
                  {"events", events}};
  return draft;
}

ledger::BlockDraft denied_record(const Context& context, const std::string& action,
                                 const std::string& reason) {
  auto draft = base_record(context, action + ".denied");
  draft.result = {{"outcome", "denied"}, {"reason", reason}};
  return draft;
}

ledger::BlockDraft commit_record(const Context& context, const CheckpointRecord& record) {
  auto draft = base_record(context, "commit");
  for (const auto& snapshot : record.snapshots) draft.plugins.push_back(snapshot.plugin);
  draft.result = {{"outcome", "committed"}};
  draft.refs["checkpoint"] = record.id;
  return draft;
}

ledger::BlockDraft rollback_record(const Context& context, const CheckpointRecord& record,
                                   Json before, size_t writes, const std::string& reason,
                                   const Json& refs) {
  auto draft = base_record(context, "rollback");
  for (const auto& snapshot : record.snapshots) draft.plugins.push_back(snapshot.plugin);
  draft.before = std::move(before);
  draft.after = snapshots_json(record.snapshots);
  draft.result = {{"outcome", "rolled_back"}, {"writes", writes}, {"reason", reason}};
  draft.refs["checkpoint"] = record.id;
  draft.refs.update(refs);
  return draft;
}

ledger::BlockDraft anomaly_record(const Context& context, const ml::Verdict& verdict,
                                  const std::string& source) {
  auto draft = base_record(context, "anomaly");
  draft.plugins.push_back(verdict.plugin);
  draft.result = {{"outcome", "detected"}};
  auto details = verdict.to_json();
  details["source"] = source;
  draft.refs.update(details);
  return draft;
}

ledger::BlockDraft store_record(const Context& context, std::string action, Json before, Json after,
                                Json refs) {
  auto draft = base_record(context, std::move(action));
  draft.before = std::move(before);
  draft.after = std::move(after);
  draft.result = {{"outcome", "done"}};
  draft.refs.update(refs);
  return draft;
}

}  // namespace opdbus
