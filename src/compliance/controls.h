// The control catalogue: for SOC 2 (2017 Trust Services Criteria), HIPAA (45 CFR 164 Security
// Rule) and PCI DSS (v3.2.1 requirement numbering as "pci-dss", v4.0.1 as "pci-dss-4"), the
// controls op-dbus holds evidence for and which kinds of evidence decide each one.
// Invariants: the catalogue is constant data; every control names at least one evidence kind; a
// control's OSCAL id is an OSCAL token (a letter first, then letters, digits, '.', '-', '_').
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace opdbus::compliance {

enum class Framework { soc2, hipaa, pci_dss, pci_dss_4 };

// What one piece of evidence shows; see evidence.h for how each is decided.
enum class EvidenceKind {
  ledger_integrity,  // the ledger verifies: hashes, chain, Merkle root, signed checkpoint
  change_records,    // every change in the period has actor, interface, plan and outcome
  audit_content,     // every record in the period has who, what, when, where and the outcome
  denied_attempts,   // refused writes are recorded with who tried
  detection,         // the drift detector (op-dbus run) was running in the period
  response,          // each drift and anomaly in the period was remediated or reported
  access_control,    // who may write, through each interface, and that only they did
  snapshots,         // restore points exist and the kept set matches the retention policy
  replication,       // snapshots (and the ledger) were sent to another filesystem
  policy_checks,     // the operator's checks mapped to the control pass (not in the catalogue:
                     // a control has this evidence when a check run in the period maps to it)
};

struct Control {
  std::string id;        // as the framework writes it: "CC8.1", "164.312(b)", "10.5"
  std::string oscal_id;  // "soc2-cc8.1", "hipaa-164.312.b"
  std::string title;
  std::vector<EvidenceKind> evidence;
};

struct FrameworkInfo {
  Framework framework;
  std::string id;     // "soc2", "hipaa", "pci-dss", "pci-dss-4"
  std::string title;  // "SOC 2 (2017 Trust Services Criteria)"
  std::vector<Control> controls;
};

Result<Framework> parse_framework(std::string_view text);
const FrameworkInfo& framework_info(Framework framework);
std::string evidence_kind_name(EvidenceKind kind);

}  // namespace opdbus::compliance
