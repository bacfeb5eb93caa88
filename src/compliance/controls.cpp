// The control catalogue; see controls.h.
#include "compliance/controls.h"

namespace opdbus::compliance {
namespace {

using enum EvidenceKind;

const FrameworkInfo kSoc2{
    Framework::soc2,
    "soc2",
    "SOC 2 (2017 Trust Services Criteria)",
    {{"CC6.1",
      "soc2-cc6.1",
      "Logical access security: who may change the system",
      {access_control, denied_attempts}},
     {"CC7.1",
      "soc2-cc7.1",
      "Detection of changes that introduce vulnerabilities",
      {detection, ledger_integrity}},
     {"CC7.2",
      "soc2-cc7.2",
      "Monitoring of system components for anomalies and response",
      {response}},
     {"CC8.1",
      "soc2-cc8.1",
      "Change management: changes are authorised, recorded and tracked",
      {change_records, ledger_integrity}},
     {"A1.2", "soc2-a1.2", "Backup and recovery infrastructure", {snapshots, replication}}}};

const FrameworkInfo kHipaa{
    Framework::hipaa,
    "hipaa",
    "HIPAA Security Rule (45 CFR 164)",
    {{"164.312(a)(1)", "hipaa-164.312.a.1", "Access control", {access_control, denied_attempts}},
     {"164.312(b)",
      "hipaa-164.312.b",
      "Audit controls: record and examine activity",
      {audit_content, ledger_integrity}},
     {"164.312(c)(1)",
      "hipaa-164.312.c.1",
      "Integrity: protect against improper alteration or destruction",
      {ledger_integrity, detection, response}},
     {"164.308(a)(7)(ii)(A)",
      "hipaa-164.308.a.7.ii.a",
      "Contingency plan: data backup (retrievable exact copies)",
      {snapshots, replication}}}};

const FrameworkInfo kPciDss{
    Framework::pci_dss,
    "pci-dss",
    "PCI DSS (v3.2.1 requirement numbering)",
    {{"7.1",
      "pci-dss-7.1",
      "Limit access to system components to those who need it",
      {access_control}},
     {"10.2",
      "pci-dss-10.2",
      "Automated audit trails: every change, action with privileges and invalid access attempt",
      {change_records, denied_attempts}},
     {"10.3",
      "pci-dss-10.3",
      "Audit trail entries: user, event type, date and time, success or failure, origin, "
      "affected resource",
      {audit_content}},
     {"10.5",
      "pci-dss-10.5",
      "Secure audit trails so they cannot be altered; back them up",
      {ledger_integrity, replication}},
     {"11.5",
      "pci-dss-11.5",
      "Change-detection mechanism alerts on unauthorised modification",
      {detection, response}}}};

const FrameworkInfo kPciDss4{
    Framework::pci_dss_4,
    "pci-dss-4",
    "PCI DSS v4.0.1",
    {{"6.5.1",
      "pci-dss-4-6.5.1",
      "Changes to system components follow change-control procedures, with a way back",
      {change_records, ledger_integrity}},
     {"7.2",
      "pci-dss-4-7.2",
      "Access to system components is appropriately defined and assigned",
      {access_control}},
     {"10.2.1",
      "pci-dss-4-10.2.1",
      "Audit logs are enabled and active: administrative actions and invalid access attempts",
      {change_records, denied_attempts}},
     {"10.2.2",
      "pci-dss-4-10.2.2",
      "Audit logs record user, event type, date and time, success or failure, origin, "
      "affected resource",
      {audit_content}},
     {"10.3",
      "pci-dss-4-10.3",
      "Audit logs are protected from destruction and unauthorised modification, and backed up",
      {ledger_integrity, replication}},
     {"11.5.2",
      "pci-dss-4-11.5.2",
      "A change-detection mechanism alerts on unauthorised modification",
      {detection, response}}}};

}  // namespace

Result<Framework> parse_framework(std::string_view text) {
  for (const auto* info : {&kSoc2, &kHipaa, &kPciDss, &kPciDss4})
    if (text == info->id) return info->framework;
  return fail(ErrorCode::invalid_input,
              "unknown framework '{}': expected soc2, hipaa, pci-dss (v3.2.1) or pci-dss-4 "
              "(v4.0.1)",
              text);
}

const FrameworkInfo& framework_info(Framework framework) {
  switch (framework) {
    case Framework::soc2:
      return kSoc2;
    case Framework::hipaa:
      return kHipaa;
    case Framework::pci_dss:
      return kPciDss;
    case Framework::pci_dss_4:
      return kPciDss4;
  }
  return kSoc2;
}

std::string evidence_kind_name(EvidenceKind kind) {
  switch (kind) {
    case ledger_integrity:
      return "ledger_integrity";
    case change_records:
      return "change_records";
    case audit_content:
      return "audit_content";
    case denied_attempts:
      return "denied_attempts";
    case detection:
      return "detection";
    case response:
      return "response";
    case access_control:
      return "access_control";
    case snapshots:
      return "snapshots";
    case replication:
      return "replication";
    case policy_checks:
      return "policy_checks";
  }
  return "unknown";
}

}  // namespace opdbus::compliance
