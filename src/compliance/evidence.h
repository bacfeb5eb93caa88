// Evidence: what the ledger records and what the host's configuration says, decided per kind
// (see controls.h) into pass / fail / not applicable with the reason and the blocks it rests on.
// Invariants: deciding is a pure function of the records, the period and the host facts (no
// clock, no I/O), so a fixed ledger gives the same report every time; a finding cites only
// blocks that exist in the records it was given.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/json_util.h"
#include "compliance/controls.h"
#include "ledger/verify.h"

namespace opdbus::compliance {

// What the host's configuration says now, gathered by the caller (see app/compliance_cli.cpp):
//   snapshots: {"available": true, "items": [{"name", "time", "kept_by": ["daily", ...]}]}
//              or {"available": false, "reason": "..."}
//   retention: the declared policy, {"hourly": 5, "daily": 5, "weekly": 5, "quarterly": 5}
//   access:    {"cli": {"group": "NAME" or absent}, "dbus": {"available", "actions": [{"id",
//   "allow_any",
//              "allow_inactive", "allow_active"}]}, "mcp": {"configured", "tokens": [...]}}
struct HostFacts {
  Json snapshots = {{"available", false}, {"reason", "not gathered"}};
  Json retention = Json::object();
  Json access = Json::object();
};

struct Period {
  std::optional<TimePoint> since;
  TimePoint until;
  bool contains(TimePoint time) const { return (!since || time >= *since) && time <= until; }
};

// One block as evidence sees it: its header, actor, plugins, result and refs (the before and
// after payloads and the diff are dropped, and a year of them is large; a check run keeps its
// "after", the results policy_checks reads).
struct Record {
  uint64_t height = 0;
  std::string hash;  // hex SHA-256 of the block line
  TimePoint time;
  std::string kind;  // change, drift, anomaly, denied, snapshot, system
  Json block;
};

// Every block of the ledger data, oldest first.
Result<std::vector<Record>> read_records(const ledger::LedgerData& data);

enum class ControlStatus { pass, fail, not_applicable };
std::string status_name(ControlStatus status);

struct Finding {
  EvidenceKind kind = EvidenceKind::ledger_integrity;
  ControlStatus status = ControlStatus::pass;
  std::string reason;
  Json details = Json::object();
  std::vector<uint64_t> blocks;  // cited heights, ascending
};

struct EvidenceInputs {
  const std::vector<Record>& records;
  Period period;
  const HostFacts& facts;
  Json verify;  // {"ok": true, "blocks", ...} or {"ok": false, "error"}
};

Finding decide(EvidenceKind kind, const EvidenceInputs& inputs);

// policy_checks for one control: the latest result in the period of each check mapped to it
// (framework id "soc2", control id "CC8.1"); fails when one failed or could not run. None when
// no check run in the period maps to the control.
std::optional<Finding> decide_policy_checks(const EvidenceInputs& inputs,
                                            const std::string& framework_id,
                                            const std::string& control_id);

}  // namespace opdbus::compliance
