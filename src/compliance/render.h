// The two other forms of a signed report: a self-contained HTML page a person reads (summary,
// timeline chart of changes, drift, anomalies and refusals, per-control tables, cited blocks) and
// OSCAL Assessment Results (JSON, OSCAL 1.0.4). Both carry the signed JSON report itself, so
// `compliance verify` checks any of the three forms.
// Invariants: rendering is a pure function of the report (UUIDs are derived from its digest);
// nothing in the HTML is fetched from elsewhere; text from the ledger is always escaped.
#pragma once

#include <string>

#include "base/json_util.h"
#include "base/result.h"

namespace opdbus::compliance {

Result<std::string> render_html(const Json& report);
Result<Json> render_oscal(const Json& report);

}  // namespace opdbus::compliance
