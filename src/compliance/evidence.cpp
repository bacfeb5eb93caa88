// Evidence decided per kind; see evidence.h.
#include "compliance/evidence.h"

#include <algorithm>
#include <map>
#include <set>

#include <fmt/ranges.h>

#include "compliance/checks.h"

namespace opdbus::compliance {
namespace {

std::string classify(const std::string& action) {
  if (action.ends_with(".denied")) return "denied";
  if (action == "drift" || action == "anomaly") return action;
  if (action.starts_with("snapshot.")) return "snapshot";
  if (action.starts_with("ledger.") || action.starts_with("compliance.") ||
      action == "daemon.config" || action == "anomaly.baseline")
    return "system";
  return "change";
}

std::string outcome_of(const Record& record) {
  const auto& result = record.block["result"];
  return result.is_object() ? result.value("outcome", "") : "";
}

bool changed_something(const std::string& outcome) {
  return outcome != "no_changes" && outcome != "planned";
}

std::string who(const Json& block) {
  const auto& actor = block["actor"];
  if (!actor.is_object()) return "?";
  return fmt::format("{}@{}", actor.value("user", "?"), actor.value("interface", "?"));
}

std::vector<const Record*> in_period(const EvidenceInputs& inputs, std::string_view kind) {
  std::vector<const Record*> out;
  for (const auto& record : inputs.records)
    if ((kind.empty() || record.kind == kind) && inputs.period.contains(record.time))
      out.push_back(&record);
  return out;
}

std::vector<std::string> strings_at(const Json& object, const char* key) {
  std::vector<std::string> out;
  if (!object.is_object() || !object.contains(key)) return out;
  const auto& value = object[key];
  if (value.is_string()) out.push_back(value.get<std::string>());
  if (value.is_array())
    for (const auto& item : value)
      if (item.is_string()) out.push_back(item.get<std::string>());
  return out;
}

Finding make(EvidenceKind kind, ControlStatus status, std::string reason) {
  Finding finding;
  finding.kind = kind;
  finding.status = status;
  finding.reason = std::move(reason);
  return finding;
}

void cite(Finding& finding, const Record& record) {
  finding.blocks.push_back(record.height);
}

std::string plural(size_t count, const char* noun) {
  return fmt::format("{} {}{}", count, noun, count == 1 ? "" : "s");
}

// What a record lacks of who, what, when, where and the outcome; empty when complete.
std::vector<std::string> missing_fields(const Json& block) {
  std::vector<std::string> missing;
  const auto& actor = block["actor"];
  if (!block["action"].is_string() || block["action"].get<std::string>().empty())
    missing.push_back("action");
  if (!block["time"].is_string()) missing.push_back("time");
  if (!actor.is_object() || !actor["uid"].is_number_unsigned()) missing.push_back("actor.uid");
  if (!actor.is_object() || actor.value("user", "").empty()) missing.push_back("actor.user");
  if (!actor.is_object() || actor.value("interface", "").empty())
    missing.push_back("actor.interface");
  if (!block["result"].is_object() || block["result"].value("outcome", "").empty())
    missing.push_back("result.outcome");
  return missing;
}

Finding ledger_integrity(const EvidenceInputs& inputs) {
  if (!inputs.verify.value("ok", false))
    return make(EvidenceKind::ledger_integrity, ControlStatus::fail,
                "the ledger does not verify: " + inputs.verify.value("error", "unknown error"));
  auto finding =
      make(EvidenceKind::ledger_integrity, ControlStatus::pass,
           fmt::format("the ledger verifies: {} re-hashed, chained and under the signed checkpoint",
                       plural(inputs.verify.value("blocks", 0), "block")));
  finding.details = inputs.verify;
  return finding;
}

Finding change_records(const EvidenceInputs& inputs) {
  auto finding = make(EvidenceKind::change_records, ControlStatus::pass, "");
  std::vector<std::string> problems;
  std::map<std::string, size_t> outcomes;
  size_t checked = 0;
  for (const auto* record : in_period(inputs, "change")) {
    auto outcome = outcome_of(*record);
    ++checked;
    ++outcomes[outcome.empty() ? "none" : outcome];
    auto missing = missing_fields(record->block);
    if (!missing.empty())
      problems.push_back(
          fmt::format("block {} has no {}", record->height, fmt::join(missing, ", ")));
    if (outcome == "rollback_failed")
      problems.push_back(fmt::format(
          "block {} ({} by {}) failed and its rollback failed too: the host was left unverified",
          record->height, record->block.value("action", ""), who(record->block)));
    if (changed_something(outcome) || !missing.empty()) cite(finding, *record);
  }
  finding.details = {{"records", checked}, {"outcomes", outcomes}};
  if (!problems.empty()) {
    finding.status = ControlStatus::fail;
    finding.reason = fmt::format("{}", fmt::join(problems, "; "));
  } else if (finding.blocks.empty()) {
    finding.reason = checked == 0 ? std::string("no change was made to the host in the period")
                                  : fmt::format(
                                        "no change was made to the host in the period ({} found "
                                        "nothing to change)",
                                        plural(checked, "apply"));
  } else {
    finding.reason = fmt::format(
        "{} in the period, each recorded with actor, interface, plan and outcome ({} changed the "
        "host, {} rolled back)",
        plural(checked, "change record"), finding.blocks.size(),
        outcomes["rolled_back"] + outcomes["rollback_failed"]);
  }
  return finding;
}

Finding audit_content(const EvidenceInputs& inputs) {
  auto finding = make(EvidenceKind::audit_content, ControlStatus::pass, "");
  auto records = in_period(inputs, "");
  std::vector<std::string> problems;
  for (const auto* record : records) {
    auto missing = missing_fields(record->block);
    if (!missing.empty())
      problems.push_back(
          fmt::format("block {} has no {}", record->height, fmt::join(missing, ", ")));
    bool event = record->kind != "system" && record->kind != "snapshot" &&
                 (record->kind != "change" || changed_something(outcome_of(*record)));
    if (event || !missing.empty()) cite(finding, *record);
  }
  finding.details = {{"records", records.size()}};
  if (!records.empty())
    finding.details["heights"] = {records.front()->height, records.back()->height};
  if (!problems.empty()) {
    finding.status = ControlStatus::fail;
    finding.reason = fmt::format("{}", fmt::join(problems, "; "));
  } else {
    finding.reason = fmt::format(
        "{} in the period, each with user and uid, action, time, interface (origin), outcome and "
        "the plugins and resources it touched; the {} that changed the host or were refused, "
        "drift or anomalies are cited",
        plural(records.size(), "record"), finding.blocks.size());
  }
  return finding;
}

Finding denied_attempts(const EvidenceInputs& inputs) {
  auto finding = make(EvidenceKind::denied_attempts, ControlStatus::pass, "");
  std::map<std::string, size_t> by_actor;
  for (const auto* record : in_period(inputs, "denied")) {
    cite(finding, *record);
    ++by_actor[who(record->block)];
    if (!missing_fields(record->block).empty()) finding.status = ControlStatus::fail;
  }
  finding.details = {{"attempts", finding.blocks.size()}, {"by_actor", by_actor}};
  if (finding.status == ControlStatus::fail)
    finding.reason = "a refused attempt is recorded without who tried";
  else if (finding.blocks.empty())
    finding.reason = "no write was refused in the period";
  else
    finding.reason = fmt::format("{} recorded with who tried and why it was refused",
                                 plural(finding.blocks.size(), "refused attempt"));
  return finding;
}

Finding detection(const EvidenceInputs& inputs) {
  auto finding = make(EvidenceKind::detection, ControlStatus::pass, "");
  const Record* started = nullptr;
  for (const auto& record : inputs.records)
    if (record.block.value("action", "") == "daemon.start" && record.time <= inputs.period.until)
      started = &record;
  auto drifts = in_period(inputs, "drift");
  finding.details = {{"drift_events", drifts.size()}};
  if (!started) {
    finding.status = ControlStatus::fail;
    finding.reason =
        "no record of op-dbus run (the drift detector) starting before the end of the period: "
        "changes made outside op-dbus were not being detected";
    return finding;
  }
  cite(finding, *started);
  for (const auto* drift : drifts) cite(finding, *drift);
  finding.details["detector_started"] = started->block.value("time", "");
  finding.reason = fmt::format(
      "op-dbus run watched the declared state from {} (block {}); {} in the period",
      started->block.value("time", ""), started->height, plural(drifts.size(), "drift event"));
  return finding;
}

// How a drift ended: the first reconcile after it, if any.
const Record* remediation_of(const EvidenceInputs& inputs, const Record& drift) {
  for (const auto& record : inputs.records)
    if (record.height > drift.height && record.block.value("action", "") == "reconcile")
      return &record;
  return nullptr;
}

Finding response(const EvidenceInputs& inputs) {
  auto finding = make(EvidenceKind::response, ControlStatus::pass, "");
  Json events = Json::array();
  std::vector<std::string> problems;
  for (const auto* record : in_period(inputs, "")) {
    if (record->kind != "drift" && record->kind != "anomaly") continue;
    cite(finding, *record);
    Json event = {{"height", record->height}, {"kind", record->kind}};
    const auto& result = record->block["result"];
    if (record->kind == "anomaly") {
      event["handled"] = "recorded for review";
    } else if (result.value("enforce", 0) == 0) {
      event["handled"] = "reported (observe mode)";
    } else if (const auto* fix = remediation_of(inputs, *record);
               fix && (outcome_of(*fix) == "applied" || outcome_of(*fix) == "no_changes")) {
      cite(finding, *fix);
      event["handled"] = fmt::format("restored by block {} ({})", fix->height, outcome_of(*fix));
    } else {
      if (fix) cite(finding, *fix);
      event["handled"] =
          fix ? fmt::format("restore failed in block {} ({})", fix->height, outcome_of(*fix))
              : std::string("not restored");
      problems.push_back(fmt::format("drift at block {} was {}", record->height,
                                     event["handled"].get<std::string>()));
    }
    events.push_back(event);
  }
  std::sort(finding.blocks.begin(), finding.blocks.end());
  finding.blocks.erase(std::unique(finding.blocks.begin(), finding.blocks.end()),
                       finding.blocks.end());
  finding.details = {{"events", events}};
  if (!problems.empty()) {
    finding.status = ControlStatus::fail;
    finding.reason = fmt::format("{}", fmt::join(problems, "; "));
  } else if (events.empty()) {
    finding.status = ControlStatus::not_applicable;
    finding.reason =
        "no drift or anomaly was detected in the period, so there was nothing to "
        "respond to";
  } else {
    finding.reason = fmt::format("each of {} was restored, reported or recorded for review",
                                 plural(events.size(), "detected event"));
  }
  return finding;
}

// polkit's implicit authorisations that let a caller write without proving who they are.
std::vector<std::string> polkit_problems(const Json& dbus) {
  std::vector<std::string> problems;
  if (!dbus.value("available", false)) return problems;
  const auto actions = dbus.value("actions", Json::array());
  for (const char* id : {"org.opdbus.apply", "org.opdbus.rollback"}) {
    const Json* found = nullptr;
    for (const auto& action : actions)
      if (action.value("id", "") == id) found = &action;
    if (!found) {
      problems.push_back(fmt::format("polkit does not know the action {}", id));
      continue;
    }
    for (const char* field : {"allow_any", "allow_inactive", "allow_active"})
      if (found->value(field, "") == "yes")
        problems.push_back(
            fmt::format("polkit allows {} to every {} caller without "
                        "authentication ({}: yes)",
                        id, std::string_view(field).substr(6), field));
  }
  return problems;
}

// Writes made through an interface by someone its policy does not admit.
std::vector<std::string> unauthorised_writers(const EvidenceInputs& inputs) {
  std::vector<std::string> problems;
  std::set<std::string> write_tokens;
  const auto& mcp = inputs.facts.access.value("mcp", Json::object());
  for (const auto& token : mcp.value("tokens", Json::array()))
    if (token.value("access", "") == "write") write_tokens.insert(token.value("name", ""));
  for (const auto* record : in_period(inputs, "change")) {
    const auto& actor = record->block["actor"];
    if (!actor.is_object() || !changed_something(outcome_of(*record))) continue;
    auto interface = actor.value("interface", "");
    auto user = actor.value("user", "");
    if (interface == "cli" && actor.value("uid", 0u) != 0u)
      problems.push_back(
          fmt::format("block {}: uid {} changed the host through the CLI, "
                      "which only root may",
                      record->height, actor.value("uid", 0u)));
    if (interface.starts_with("mcp") && user.starts_with("token:") &&
        mcp.value("configured", false) && !write_tokens.contains(user.substr(6)))
      problems.push_back(
          fmt::format("block {}: {} is not a write token of the MCP "
                      "configuration",
                      record->height, user));
  }
  return problems;
}

Finding access_control(const EvidenceInputs& inputs) {
  auto finding = make(EvidenceKind::access_control, ControlStatus::pass, "");
  const auto& access = inputs.facts.access;
  finding.details = access;
  auto problems = polkit_problems(access.value("dbus", Json::object()));
  auto writers = unauthorised_writers(inputs);
  problems.insert(problems.end(), writers.begin(), writers.end());
  if (!problems.empty()) {
    finding.status = ControlStatus::fail;
    finding.reason = fmt::format("{}", fmt::join(problems, "; "));
    return finding;
  }
  auto group = access.value("cli", Json::object()).value("group", "");
  std::vector<std::string> parts{fmt::format(
      "CLI writes need root; other users' apply, commit and rollback go to the daemon, which "
      "admits {}whom polkit allows, and every other refused attempt is recorded",
      group.empty() ? "" : "the group " + group + " and ")};
  const auto& dbus = access.value("dbus", Json::object());
  parts.push_back(dbus.value("available", false)
                      ? "D-Bus writes need polkit's org.opdbus.apply / org.opdbus.rollback "
                        "(no implicit 'yes')"
                      : "D-Bus: polkit was not reachable, its policy is not shown");
  const auto& mcp = access.value("mcp", Json::object());
  parts.push_back(mcp.value("configured", false)
                      ? fmt::format("MCP: {} with per-tool policy",
                                    plural(mcp.value("tokens", Json::array()).size(), "token"))
                      : "MCP: no token configuration (served on loopback or stdio only)");
  finding.reason =
      fmt::format("{}; every change in the period came through these", fmt::join(parts, "; "));
  return finding;
}

// Snapshots the ledger says were taken and not pruned.
std::map<std::string, uint64_t> recorded_snapshots(const std::vector<Record>& records) {
  std::map<std::string, uint64_t> kept;
  for (const auto& record : records) {
    const auto& refs = record.block["refs"];
    for (const auto& name : strings_at(refs, "snapshot")) kept[name] = record.height;
    for (const auto& name : strings_at(refs, "pruned")) kept.erase(name);
  }
  return kept;
}

Json tier_counts(const Json& items, const Json& policy) {
  Json tiers = Json::object();
  for (const auto& [tier, limit] : policy.items()) {
    size_t kept = 0;
    for (const auto& item : items)
      for (const auto& reason : item.value("kept_by", Json::array())) kept += reason == tier;
    tiers[tier] = {{"policy", limit}, {"kept", kept}};
  }
  return tiers;
}

Finding snapshots(const EvidenceInputs& inputs) {
  auto finding = make(EvidenceKind::snapshots, ControlStatus::pass, "");
  const auto& facts = inputs.facts.snapshots;
  if (!facts.value("available", false))
    return make(EvidenceKind::snapshots, ControlStatus::fail,
                "no snapshots could be listed: " + facts.value("reason", "unknown"));
  const auto& items = facts.value("items", Json::array());
  std::set<std::string> present;
  size_t overdue = 0;
  for (const auto& item : items) {
    present.insert(item.value("name", ""));
    overdue += item.value("kept_by", Json::array()).empty();
  }
  std::vector<std::string> missing;
  for (const auto& [name, height] : recorded_snapshots(inputs.records))
    if (!present.contains(name)) {
      missing.push_back(fmt::format("{} (taken at block {})", name, height));
      finding.blocks.push_back(height);
    }
  std::sort(finding.blocks.begin(), finding.blocks.end());
  finding.details = {{"snapshots", items.size()},
                     {"tiers", tier_counts(items, inputs.facts.retention)},
                     {"due_for_pruning", overdue}};
  if (!items.empty()) finding.details["newest"] = items.back().value("time", "");
  if (items.empty()) {
    finding.status = ControlStatus::fail;
    finding.reason = "no snapshot exists: there is no restore point";
  } else if (!missing.empty()) {
    finding.status = ControlStatus::fail;
    finding.reason = fmt::format("snapshots were removed without a recorded prune: {}",
                                 fmt::join(missing, ", "));
  } else {
    finding.reason = fmt::format(
        "{} kept under the declared retention policy, newest {}; every snapshot the ledger "
        "records as taken and not pruned is present{}",
        plural(items.size(), "snapshot"), items.back().value("time", ""),
        overdue ? fmt::format(" ({} past the policy, removed by the next prune)", overdue) : "");
  }
  return finding;
}

Finding replication(const EvidenceInputs& inputs) {
  auto finding = make(EvidenceKind::replication, ControlStatus::pass, "");
  std::set<std::string> targets;
  const Record* latest = nullptr;
  for (const auto* record : in_period(inputs, "snapshot")) {
    if (record->block.value("action", "") != "snapshot.send") continue;
    cite(finding, *record);
    latest = record;
    for (const auto& to : strings_at(record->block["refs"], "to")) targets.insert(to);
  }
  finding.details = {{"sends", finding.blocks.size()}, {"targets", targets}};
  if (!latest) {
    finding.status = ControlStatus::fail;
    finding.reason =
        "no snapshot or ledger copy was sent to another filesystem in the period "
        "(op-dbus snapshot send)";
    return finding;
  }
  finding.reason = fmt::format("{} of snapshots and the ledger to {}; the latest at {} (block {})",
                               plural(finding.blocks.size(), "send"), fmt::join(targets, ", "),
                               latest->block.value("time", ""), latest->height);
  return finding;
}

Finding decide_kind(EvidenceKind kind, const EvidenceInputs& inputs) {
  switch (kind) {
    case EvidenceKind::ledger_integrity:
      return ledger_integrity(inputs);
    case EvidenceKind::change_records:
      return change_records(inputs);
    case EvidenceKind::audit_content:
      return audit_content(inputs);
    case EvidenceKind::denied_attempts:
      return denied_attempts(inputs);
    case EvidenceKind::detection:
      return detection(inputs);
    case EvidenceKind::response:
      return response(inputs);
    case EvidenceKind::access_control:
      return access_control(inputs);
    case EvidenceKind::snapshots:
      return snapshots(inputs);
    case EvidenceKind::replication:
      return replication(inputs);
    case EvidenceKind::policy_checks:
      break;  // per control: decide_policy_checks
  }
  return make(kind, ControlStatus::fail, "unknown evidence kind");
}

// The latest result of one check in the period, and its failing runs.
struct CheckHistory {
  const Record* latest = nullptr;
  Json result;
  size_t runs = 0;
  std::vector<const Record*> failed;
};

bool maps_to(const Json& result, const std::string& framework_id, const std::string& control_id) {
  auto controls = result.value("controls", Json::object());
  auto ids = controls.value(framework_id, Json::array());
  return std::find(ids.begin(), ids.end(), Json(control_id)) != ids.end();
}

std::map<std::string, CheckHistory> check_histories(const EvidenceInputs& inputs,
                                                    const std::string& framework_id,
                                                    const std::string& control_id) {
  std::map<std::string, CheckHistory> histories;
  for (const auto* record : in_period(inputs, "system")) {
    if (record->block.value("action", "") != kCheckAction) continue;
    auto results = record->block.value("after", Json::object()).value("results", Json::array());
    for (const auto& result : results) {
      if (!maps_to(result, framework_id, control_id)) continue;
      auto& history = histories[result.value("id", "")];
      history.latest = record;
      history.result = result;
      ++history.runs;
      if (result.value("status", "") != "pass") history.failed.push_back(record);
    }
  }
  return histories;
}

Finding policy_checks(const std::map<std::string, CheckHistory>& histories) {
  auto finding = make(EvidenceKind::policy_checks, ControlStatus::pass, "");
  std::vector<std::string> failing, passing;
  size_t earlier_failures = 0;
  for (const auto& [id, history] : histories) {
    const auto& status = history.result.value("status", "");
    finding.details["checks"].push_back({{"id", id},
                                         {"status", status},
                                         {"reason", history.result.value("reason", "")},
                                         {"time", history.latest->block.value("time", "")},
                                         {"block", history.latest->height},
                                         {"runs", history.runs},
                                         {"failed_runs", history.failed.size()}});
    cite(finding, *history.latest);
    for (const auto* record : history.failed) cite(finding, *record);
    if (status == "pass") {
      passing.push_back(id);
      earlier_failures += history.failed.size();
    } else {
      failing.push_back(fmt::format("check {} {} on its latest run (block {}): {}", id,
                                    status == "error" ? "could not run" : "failed",
                                    history.latest->height, history.result.value("reason", "")));
    }
  }
  std::sort(finding.blocks.begin(), finding.blocks.end());
  finding.blocks.erase(std::unique(finding.blocks.begin(), finding.blocks.end()),
                       finding.blocks.end());
  if (!failing.empty()) {
    finding.status = ControlStatus::fail;
    finding.reason = fmt::format("{}", fmt::join(failing, "; "));
    return finding;
  }
  bool one = passing.size() == 1;
  finding.reason = fmt::format("{} mapped to this control {} on {} latest run in the period ({})",
                               plural(passing.size(), "check"), one ? "passes" : "pass",
                               one ? "its" : "their", fmt::join(passing, ", "));
  if (earlier_failures)
    finding.reason += fmt::format("; {} failed", plural(earlier_failures, "earlier run"));
  return finding;
}

}  // namespace

Result<std::vector<Record>> read_records(const ledger::LedgerData& data) {
  auto index = ledger::index_blocks(data);
  std::vector<Record> records;
  records.reserve(index.lines.size());
  for (size_t i = 0; i < index.lines.size(); ++i) {
    Record record;
    record.height = index.first + i;
    record.block = TRY(ledger::parse_block(index.lines[i]));
    record.hash = record.block["hash"].get<std::string>();
    bool check_run = record.block.value("action", "") == kCheckAction;
    for (const char* payload : {"hash", "before", "after", "diff"})
      if (!check_run || payload != std::string_view("after")) record.block.erase(payload);
    record.time = TRY(with_context(parse_rfc3339(record.block.value("time", "")),
                                   fmt::format("block {}", record.height)));
    record.kind = classify(record.block.value("action", ""));
    records.push_back(std::move(record));
  }
  return records;
}

std::string status_name(ControlStatus status) {
  switch (status) {
    case ControlStatus::pass:
      return "pass";
    case ControlStatus::fail:
      return "fail";
    case ControlStatus::not_applicable:
      return "not_applicable";
  }
  return "fail";
}

std::optional<Finding> decide_policy_checks(const EvidenceInputs& inputs,
                                            const std::string& framework_id,
                                            const std::string& control_id) {
  try {
    auto histories = check_histories(inputs, framework_id, control_id);
    if (histories.empty()) return std::nullopt;
    return policy_checks(histories);
  } catch (const Json::exception& error) {
    return make(EvidenceKind::policy_checks, ControlStatus::fail,
                fmt::format("the check results could not be read: {}", error.what()));
  }
}

Finding decide(EvidenceKind kind, const EvidenceInputs& inputs) {
  try {
    return decide_kind(kind, inputs);
  } catch (const Json::exception& error) {
    return make(kind, ControlStatus::fail,
                fmt::format("the evidence could not be read: {}", error.what()));
  }
}

}  // namespace opdbus::compliance
