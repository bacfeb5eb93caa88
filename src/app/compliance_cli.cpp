// `op-dbus compliance ...`; see compliance_cli.h.
#include "app/compliance_cli.h"

#include <unistd.h>

#include <fmt/ranges.h>

#include "base/fs.h"
#include "compliance/render.h"
#include "compliance/report.h"
#include "daemon/compliance_checks.h"
#include "daemon/config.h"
#include "engine/record.h"
#include "ledger/digest.h"
#include "mcp/config.h"
#include "proto/dbus/bus.h"

namespace opdbus::cli {
namespace {

using namespace compliance;

constexpr int kControlsFail = 2;
constexpr int kComplianceError = 1;

int compliance_error(const Error& error) {
  fmt::print(stderr, "op-dbus: error: {}\n", error.describe());
  return kComplianceError;
}

Json snapshot_facts(Engine& engine) {
  auto statuses = engine.snapshot_status();
  if (!statuses) return {{"available", false}, {"reason", statuses.error().describe()}};
  Json items = Json::array();
  for (const auto& status : *statuses)
    items.push_back({{"name", status.info.name},
                     {"time", format_rfc3339(status.info.time, false)},
                     {"kept_by", status.reasons}});
  return {{"available", true}, {"items", items}};
}

// polkit's PolkitImplicitAuthorization values, as the .policy files spell them.
std::string implicit_name(uint32_t value) {
  constexpr const char* kNames[] = {
      "no", "auth_self", "auth_admin", "auth_self_keep", "auth_admin_keep", "yes"};
  return value < std::size(kNames) ? kNames[value] : "unknown";
}

// The D-Bus API's write actions as polkit itself reports them (EnumerateActions).
Json polkit_facts(const Context& context) {
  auto bus = dbus::Bus::open(context.config.bus_address);
  if (!bus) return {{"available", false}, {"reason", bus.error().describe()}};
  auto reply = bus->call({"org.freedesktop.PolicyKit1", "/org/freedesktop/PolicyKit1/Authority",
                          "org.freedesktop.PolicyKit1.Authority", "EnumerateActions", "s",
                          Json::array({""}), std::chrono::milliseconds(5000)});
  if (!reply) return {{"available", false}, {"reason", reply.error().describe()}};
  Json actions = Json::array();
  for (const auto& action : reply->at(0)) {
    auto id = action.at(0).get<std::string>();
    if (!id.starts_with("org.opdbus.")) continue;
    actions.push_back({{"id", id},
                       {"allow_any", implicit_name(action.at(6).get<uint32_t>())},
                       {"allow_inactive", implicit_name(action.at(7).get<uint32_t>())},
                       {"allow_active", implicit_name(action.at(8).get<uint32_t>())}});
  }
  return {{"available", true},
          {"actions", actions},
          {"note", "polkit rules (rules.d) may grant more than these defaults"}};
}

Result<Json> mcp_facts(const std::string& file) {
  if (file.empty()) return Json{{"configured", false}};
  auto config = TRY(mcp::load_mcp_config(file));
  Json tokens = Json::array();
  for (const auto& token : config.tokens)
    tokens.push_back({{"name", token.name},
                      {"access", token.principal.may_write ? "write" : "read"},
                      {"tools", token.principal.patterns}});
  return Json{{"configured", true}, {"file", file}, {"tokens", tokens}};
}

Result<HostFacts> gather_facts(Context& context, const ComplianceArgs& args) {
  Engine engine(context);
  HostFacts facts;
  facts.snapshots = snapshot_facts(engine);
  facts.retention = TRY(engine.retention()).to_json();
  Json cli = {{"writes", "root; other users' apply, commit and rollback through the daemon"}};
  if (auto daemon_config = daemon::load_daemon_config_or_defaults({});
      daemon_config && daemon_config->access.group)
    cli["group"] = daemon_config->access.group_name;
  facts.access = {
      {"cli", cli}, {"dbus", polkit_facts(context)}, {"mcp", TRY(mcp_facts(args.mcp_config))}};
  return facts;
}

Result<std::optional<TimePoint>> parse_time_option(const std::optional<std::string>& text,
                                                   const char* name) {
  if (!text) return std::optional<TimePoint>();
  return with_context(parse_rfc3339(*text), fmt::format("{} (an RFC 3339 time)", name));
}

Result<std::string> render(const Json& report, const std::string& format) {
  if (format == "html") return render_html(report);
  if (format == "oscal") return TRY(render_oscal(report)).dump(2) + "\n";
  return report.dump(2) + "\n";
}

// Builds, signs and writes the report, then records it; returns the signed report.
Result<Json> produce_report(Context& context, const ComplianceArgs& args) {
  ReportRequest request;
  request.framework = TRY(parse_framework(args.framework));
  request.since = TRY(parse_time_option(args.since, "--since"));
  request.until = TRY(parse_time_option(args.until, "--until"));
  request.generated = context.clock();
  auto* ledger = TRY(open_ledger(context));
  auto facts = TRY(gather_facts(context, args));
  auto report = TRY([&]() -> Result<Json> {
    auto data = TRY(ledger::load_local_ledger(context.config.state_dir));
    return build_report(data, facts, request);
  }());
  auto key = TRY(ledger::SigningKey::load(ledger::LedgerFiles(context.config.state_dir).private_key,
                                          ledger->verifier().name()));
  auto digest = TRY(report_digest(report));  // of the unsigned report: no copy to strip
  report = TRY(sign_report(std::move(report), key));
  auto text = TRY(render(report, args.format));
  if (args.out_file.empty())
    fmt::print("{}", text);
  else
    TRY(write_file_atomic(args.out_file, text));
  Json after = {{"framework", args.framework},
                {"format", args.format},
                {"report_sha256", digest},
                {"file_sha256", ledger::to_hex(ledger::sha256(text))},
                {"result", report["summary"]["result"]},
                {"summary", report["summary"]},
                {"period", report["period"]}};
  if (!args.out_file.empty()) after["file"] = args.out_file;
  TRY(ledger->append(store_record(context, kReportAction, Json::object(), std::move(after),
                                  {{"checkpoint_size", report["ledger"]["size"]}})));
  return report;
}

int run_report(Context& context, const Output& output, const ComplianceArgs& args) {
  if (args.format != "json" && args.format != "html" && args.format != "oscal")
    return compliance_error(
        Error{ErrorCode::invalid_input, "--format: expected json, html or oscal", {}});
  auto report = produce_report(context, args);
  if (!report) return compliance_error(report.error());
  const auto& summary = (*report)["summary"];
  if (!args.out_file.empty() || output.json)
    fmt::print(stderr, "{}: {} passed, {} failed, {} not applicable{}\n",
               (*report)["framework"]["title"].get<std::string>(), summary["pass"].get<int>(),
               summary["fail"].get<int>(), summary["not_applicable"].get<int>(),
               args.out_file.empty() ? "" : "; written to " + args.out_file);
  return report_passed(*report) ? kOk : kControlsFail;
}

Result<std::vector<std::string>> verify_files(const ComplianceArgs& args) {
  auto text = TRY(read_file(args.report_file));
  auto key = TRY(
      with_context(ledger::VerifierKey::parse(TRY(read_file(args.pubkey_file))), args.pubkey_file));
  auto data = TRY(ledger::load_export(args.export_file));
  return verify_report(text, data, key);
}

int run_verify_report(const Output& output, const ComplianceArgs& args) {
  auto checked = verify_files(args);
  if (!checked) {
    if (output.json)
      print_json({{"ok", false}, {"error", checked.error().describe()}});
    else
      fmt::print(stderr, "op-dbus: the report does not verify: {}\n", checked.error().describe());
    return kComplianceError;
  }
  if (output.json) {
    print_json({{"ok", true}, {"checked", *checked}});
  } else {
    for (const auto& line : *checked) fmt::print("ok: {}\n", line);
    fmt::print("The report verifies.\n");
  }
  return kOk;
}

void print_check_results(const Json& run) {
  for (const auto& result : run["results"]) {
    std::vector<std::string> controls;
    for (const auto& [framework, ids] : result["controls"].items())
      for (const auto& id : ids) controls.push_back(framework + " " + id.get<std::string>());
    fmt::print("{:<5}  {}: {}{}\n", result["status"].get<std::string>(),
               result["id"].get<std::string>(), result["reason"].get<std::string>(),
               controls.empty() ? "" : fmt::format(" [{}]", fmt::join(controls, ", ")));
  }
  const auto& summary = run["summary"];
  fmt::print("{} passed, {} failed, {} errors; recorded in the ledger.\n",
             summary["pass"].get<int>(), summary["fail"].get<int>(), summary["error"].get<int>());
}

int run_check(Context& context, const Output& output, const ComplianceArgs& args) {
  auto run = daemon::run_compliance_checks(context, args.policy_file);
  if (!run) return compliance_error(run.error());
  if (output.json)
    print_json(*run);
  else
    print_check_results(*run);
  const auto& summary = (*run)["summary"];
  if (summary["error"].get<int>() > 0) return kComplianceError;
  return summary["fail"].get<int>() > 0 ? kControlsFail : kOk;
}

}  // namespace

ComplianceCommands add_compliance_commands(CLI::App& app, ComplianceArgs& args) {
  auto* compliance = app.add_subcommand("compliance", "evidence for SOC 2, HIPAA and PCI DSS");
  compliance->require_subcommand(1);
  ComplianceCommands commands;
  commands.report = compliance->add_subcommand(
      "report", "decide a framework's controls from the ledger; exit 2 when one fails");
  commands.report
      ->add_option("--framework", args.framework,
                   "soc2, hipaa, pci-dss (v3.2.1 numbering) or pci-dss-4 (v4.0.1)")
      ->required();
  commands.report->add_option("--since", args.since, "period start (RFC 3339)");
  commands.report->add_option("--until", args.until, "period end (RFC 3339; default now)");
  commands.report->add_option("--format", args.format, "json (default), html or oscal");
  commands.report->add_option("-o,--output", args.out_file, "file (default: stdout)");
  commands.report->add_option("--mcp-config", args.mcp_config,
                              "the MCP server's token configuration, shown as access evidence");
  commands.verify = compliance->add_subcommand(
      "verify", "check a report offline against a ledger export and the verifier key");
  commands.verify->add_option("report", args.report_file, "report (json, html or oscal)")
      ->required();
  commands.verify->add_option("--export", args.export_file, "ledger export taken after the report")
      ->required();
  commands.verify->add_option("--pubkey", args.pubkey_file, "trusted verifier key file")
      ->required();
  commands.check = compliance->add_subcommand(
      "check", "run a declarative check policy against this host and record the results");
  commands.check->add_option("policy", args.policy_file, "check policy (JSON or YAML)")->required();
  return commands;
}

int run_compliance(Context& context, const Output& output, const ComplianceCommands& commands,
                   const ComplianceArgs& args) {
  if (*commands.report) return run_report(context, output, args);
  if (*commands.verify) return run_verify_report(output, args);
  if (*commands.check) return run_check(context, output, args);
  return kComplianceError;
}

}  // namespace opdbus::cli
