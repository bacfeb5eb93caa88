// Continuous compliance checks: a small declarative policy (JSON or YAML, in the manner of Wazuh
// SCA and InSpec) of conditions over the state op-dbus queries, each mapped to controls:
//   {"checks": [{"id": "no-telnet", "title": "...", "controls": {"pci-dss": ["2.2.2"]},
//                "query": "systemd",            plugin whose normalised state is checked, or
//                "ledger" "select": "/units",            JSON pointer to a collection (default: the
//                state) "where": {"key": {"matches": "^telnet\\."}},     which members are meant
//                "expect": {"enabled": {"equals": false}}}]}      what each must satisfy
// or "expect_none": true (no member may match `where`). A condition names a field of the member
// (a JSON pointer, "/" optional; "key" is the member's name or index) and one operator: equals,
// not_equals, in, matches (ECMAScript regex), exists, less_than, greater_than, within (a
// duration such as "24h" that an RFC 3339 time must be newer than).
// The "ledger" source is {"verified", "blocks", "checkpoint_time", "last_verified"}.
// Invariants: parsing rejects every unknown key and operator, naming its pointer; evaluation is
// a pure function of the sources and `now`; a check whose source is missing is an error, never
// a pass.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/json_util.h"
#include "base/result.h"

namespace opdbus::compliance {

// The ledger action of a recorded check run; its "after" holds the results (see results_json).
inline constexpr const char* kCheckAction = "compliance.check";

struct Condition {
  std::string field;  // JSON pointer into the member, or "key"
  std::string op;
  Json operand;
};

struct Check {
  std::string id;
  std::string title;
  Json controls = Json::object();  // framework -> [control ids]
  std::string query;
  std::string select;
  std::vector<Condition> where;
  std::vector<Condition> expect;
  bool expect_none = false;
};

// Where a pointer of the policy file is written ("checks.yaml:4:7"), for error messages.
using Locate = std::function<std::string(const std::string& pointer)>;

Result<std::vector<Check>> parse_checks(const Json& policy, const Locate& locate);

struct CheckResult {
  std::string id;
  std::string status;  // pass, fail, error
  std::string reason;
  Json controls;
};

// The sources each check reads: plugin name (or "ledger") -> state.
using Sources = std::map<std::string, Json>;
std::vector<CheckResult> run_checks(const std::vector<Check>& checks, const Sources& sources,
                                    TimePoint now);
Json results_json(const std::vector<CheckResult>& results);

}  // namespace opdbus::compliance
