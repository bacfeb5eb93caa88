// Runs a compliance check policy (compliance/checks.h) against this host: queries each plugin a
// check names, adds the ledger's own facts, decides every check and records the results in the
// ledger as a "compliance.check" block. `op-dbus compliance check` runs it once; the daemon runs
// it on its configured schedule.
// Invariant: a policy file that does not parse is an error naming file:line:column and pointer,
// and nothing is recorded.
#pragma once

#include <filesystem>

#include "engine/context.h"

namespace opdbus::daemon {

// {"policy", "results": [{"id", "status", "reason", "controls"}], "summary": {"pass", "fail",
// "error"}, "ledger_verified"}
Result<Json> run_compliance_checks(Context& context, const std::filesystem::path& policy_file);

}  // namespace opdbus::daemon
