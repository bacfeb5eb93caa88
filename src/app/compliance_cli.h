// `op-dbus compliance report|verify|check`: evidence reports for SOC 2, HIPAA and PCI DSS from
// the ledger and the host's configuration, signed and recorded in the ledger; the auditor's
// offline check of a report against a ledger export and the verifier key; and a declarative check
// policy run against the host (daemon/compliance_checks.h), its results recorded.
// Exit codes follow OpenSCAP's, not the rest of the CLI's: 0 every control or check passes (or
// is not applicable) / the report verifies, 2 some control or check fails, 1 an error or a
// failed verification.
#pragma once

#include <optional>
#include <string>

#include <CLI/CLI.hpp>

#include "app/commands.h"

namespace opdbus::cli {

struct ComplianceArgs {
  std::string framework;
  std::optional<std::string> since, until;
  std::string format = "json";
  std::string out_file;
  std::string mcp_config;
  std::string report_file, export_file, pubkey_file;
  std::string policy_file;
};

struct ComplianceCommands {
  CLI::App* report = nullptr;
  CLI::App* verify = nullptr;
  CLI::App* check = nullptr;
};

ComplianceCommands add_compliance_commands(CLI::App& app, ComplianceArgs& args);
int run_compliance(Context& context, const Output& output, const ComplianceCommands& commands,
                   const ComplianceArgs& args);

}  // namespace opdbus::cli
