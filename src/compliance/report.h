// Compliance reports: a framework's controls decided from the ledger and the host's facts, with
// one multi-leaf inclusion proof of all cited blocks against the ledger's signed checkpoint,
// signed with the ledger key; and the offline check an auditor runs on a report, a ledger export
// and a key.
// The report's JSON form (schema "op-dbus/compliance-report/1") is documented in
// docs/compliance.md and described by data/compliance/report.schema.json.
// Invariants: build_report is a pure function of its inputs (a fixed ledger and clock give the
// same bytes); the signature covers the RFC 8785 canonical form of everything but "signature";
// verify_report never trusts the report: each claim is re-derived from the export and the key.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "compliance/evidence.h"
#include "ledger/signed_note.h"

namespace opdbus::compliance {

inline constexpr const char* kReportSchema = "op-dbus/compliance-report/1";
inline constexpr const char* kReportAction = "compliance.report";

struct ReportRequest {
  Framework framework = Framework::soc2;
  std::optional<TimePoint> since;
  std::optional<TimePoint> until;  // default: generated
  TimePoint generated;
};

Result<Json> build_report(const ledger::LedgerData& ledger, const HostFacts& facts,
                          const ReportRequest& request);
// Hex SHA-256 of the canonical JSON of `report` without its "signature".
Result<std::string> report_digest(const Json& report);
// Adds "signature": a C2SP signed note over "op-dbus compliance report\n<digest>\n".
Result<Json> sign_report(Json report, const ledger::SigningKey& key);
bool report_passed(const Json& report);

// The report inside a file written by `compliance report`: the JSON itself, the JSON embedded
// in the HTML, or the back-matter resource of the OSCAL Assessment Results.
Result<Json> extract_report(std::string_view file_text);

// Checks, offline, a report file against a ledger export and the trusted key: the signature,
// the ledger (including that it still holds the report's checkpoint), every cited block and their
// inclusion proof, and the ledger's record of the report and of the file's hash. Returns what
// was checked; fails with verify_failed naming the first claim that does not hold.
Result<std::vector<std::string>> verify_report(std::string_view file_text,
                                               const ledger::LedgerData& ledger,
                                               const ledger::VerifierKey& key);

}  // namespace opdbus::compliance
