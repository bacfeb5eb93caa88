// op-dbus entry point: parses the command line (CLI11), builds the Context (explicit plugin
// registration), enters the requested network namespace, and dispatches to a command.
#include <unistd.h>

#include <iostream>

#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include "app/access_cli.h"
#include "app/anomaly_cli.h"
#include "app/commands.h"
#include "app/compliance_cli.h"
#include "app/container_cli.h"
#include "app/daemon.h"
#include "app/ledger_cli.h"
#include "app/logging.h"
#include "app/mcp_cli.h"
#include "app/mesh_cli.h"
#include "app/store_cli.h"
#include "app/topology_cli.h"
#include "engine/netns.h"
#include "plugins/builtin.h"

using namespace opdbus;

int main(int argc, char** argv) {
  CLI::App app{"op-dbus: keep a Linux host in its declared state through native protocols"};
  app.require_subcommand(1);
  app.fallthrough();
  Config config;
  cli::Output output;
  bool verbose = false;
  app.add_option("--state-dir", config.state_dir,
                 "checkpoints and records (default /var/lib/op-dbus)");
  app.add_option("--netns", config.netns,
                 "run inside the named network namespace (/run/netns/NAME)");
  app.add_option("--bus", config.bus_address,
                 "D-Bus address (default: the system bus; DBUS_SYSTEM_BUS_ADDRESS is honoured)");
  app.add_option("--root", config.root,
                 "the managed host's root for files op-dbus writes, such as unit files "
                 "(default /)")
      ->check(CLI::ExistingDirectory);
  app.add_option("--ovsdb", config.ovsdb_address,
                 "OVSDB server address: unix:PATH, tcp:HOST:PORT or ssl:HOST:PORT (default "
                 "unix:/var/run/openvswitch/db.sock)");
  app.add_option("--ovsdb-private-key", config.ovsdb_private_key,
                 "PEM private key for ssl: OVSDB addresses")
      ->check(CLI::ExistingFile);
  app.add_option("--ovsdb-certificate", config.ovsdb_certificate,
                 "PEM certificate for ssl: OVSDB addresses")
      ->check(CLI::ExistingFile);
  app.add_option("--ovsdb-ca-cert", config.ovsdb_ca_cert,
                 "PEM CA certificate the OVSDB server's certificate must be signed by")
      ->check(CLI::ExistingFile);
  app.add_option("--lxc-path", config.lxc_path,
                 "the LXC container directory (default: LXC's lxc.lxcpath, /var/lib/lxc)");
  app.add_flag("--json", output.json, "machine-readable output");
  app.add_flag("-v,--verbose", verbose, "log what is being done");

  std::optional<std::string> plugin;
  std::string file, out_file;
  ApplyOptions apply_options;
  bool introspect = false;

  auto* query = app.add_subcommand("query", "print the current state, normalised, as a state file");
  query->add_option("-p,--plugin", plugin, "only this plugin");
  auto* diff =
      app.add_subcommand("diff", "show what apply would change (exit 3 when changes are pending)");
  diff->add_option("file", file, "desired state (JSON or YAML)")->required();
  diff->add_option("-p,--plugin", plugin, "only this plugin");
  auto* apply = app.add_subcommand(
      "apply", "make the host match the desired state, verify, roll back on failure");
  apply->add_option("file", file, "desired state (JSON or YAML)")->required();
  apply->add_option("-p,--plugin", apply_options.only_plugin, "only this plugin");
  apply->add_flag("--dry-run", apply_options.dry_run,
                  "plan only (exit 3 when changes are pending)");
  bool no_verify = false;
  apply->add_flag("--no-verify", no_verify, "skip re-querying the host after apply");
  auto* no_commit =
      apply->add_flag("--no-commit", apply_options.no_commit,
                      "roll back automatically after --timeout unless 'op-dbus commit' runs");
  apply
      ->add_option("--timeout", apply_options.timeout_seconds,
                   "seconds to wait for commit (with --no-commit)")
      ->needs(no_commit)
      ->check(CLI::Range(1, 86400));
  auto* commit = app.add_subcommand("commit", "keep a change applied with --no-commit");
  auto* rollback = app.add_subcommand(
      "rollback", "undo the pending or the last apply, or return to a recorded point in time");
  std::string rollback_target;
  rollback->add_option("--to", rollback_target,
                       "ledger height or snapshot name: apply the state recorded there exactly");
  rollback->add_flag("--no-verify", no_verify, "skip re-querying the host (with --to)");
  auto* init = app.add_subcommand("init", "write a starting state file");
  init->add_flag("--introspect", introspect, "from the host's current state");
  init->add_option("-o,--output", out_file, "file to write (default: stdout)");
  auto* doctor =
      app.add_subcommand("doctor", "which subsystems and protocols are available, and why not");
  auto* schema = app.add_subcommand("schema", "print plugin descriptors and JSON Schemas");
  schema->add_option("-p,--plugin", plugin, "only this plugin");
  bool show_changes = false;
  auto* discover = app.add_subcommand(
      "discover", "every service on the bus with its objects, interfaces, methods and properties");
  discover->add_flag("--diff", show_changes, "also show what appeared or vanished since last time");
  auto* run = app.add_subcommand(
      "run", "the daemon: apply the state file(s), then keep the host in that state");
  daemon::DaemonOptions daemon_options;
  run->add_option("--state-file", daemon_options.state_files,
                  "desired state to apply and keep (repeatable; default "
                  "/etc/op-dbus/state.json when it exists)");
  run->add_option("--metrics", daemon_options.metrics_address,
                  "serve Prometheus metrics at http://ADDRESS:PORT/metrics (loopback only)");
  double fight_window = 5;
  run->add_option("--fight-window", fight_window,
                  "seconds: drift this soon after a re-apply counts as an agent fighting back, "
                  "and the next re-apply backs off (default 5; 0 never backs off)")
      ->check(CLI::Range(0.0, 3600.0));
  run->add_option("--max-reapplies", daemon_options.policy.max_per_minute,
                  "re-applies per plugin per minute at most (default 20)")
      ->check(CLI::Range(1, 100000));
  int snapshot_interval = 3600;
  run->add_option("--snapshot-interval", snapshot_interval,
                  "seconds between scheduled snapshots (0: none)")
      ->check(CLI::Range(0, 31536000));
  run->add_option("--config", daemon_options.config_file,
                  "the daemon's config: placement (default /etc/op-dbus/config.json when it "
                  "exists)");
  run->add_option("--mcp", daemon_options.mcp_address,
                  "serve MCP (Streamable HTTP at /mcp) and the web UI (at /) on ADDRESS:PORT");
  std::string mcp_config_file;
  run->add_option("--mcp-config", mcp_config_file,
                  "MCP config: bearer tokens and their tools, allowed origins, D-Bus method tools");
  run->add_option("--web", daemon_options.web_root, "the web UI's files")
      ->default_val(OPDBUS_WEB_DIR);
  auto* mcp = app.add_subcommand("mcp", "the Model Context Protocol server for AI agents");
  mcp->require_subcommand(1);
  auto* mcp_serve = mcp->add_subcommand("serve", "serve MCP over stdio or Streamable HTTP");
  cli::McpArgs mcp_args;
  cli::add_mcp_options(*mcp_serve, mcp_args);
  cli::LedgerArgs ledger_args;
  auto ledger_commands = cli::add_ledger_commands(app, ledger_args);
  cli::StoreArgs store_args;
  auto store_commands = cli::add_store_commands(app, store_args);
  cli::AnomalyArgs anomaly_args;
  auto anomaly_commands = cli::add_anomaly_commands(app, anomaly_args);
  cli::ContainerArgs container_args;
  auto container_commands = cli::add_container_commands(app, container_args);
  cli::MeshArgs mesh_args;
  auto mesh_commands = cli::add_mesh_commands(app, mesh_args);
  cli::ComplianceArgs compliance_args;
  auto compliance_commands = cli::add_compliance_commands(app, compliance_args);
  cli::TopologyArgs topology_args;
  auto topology_commands = cli::add_topology_commands(app, topology_args);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    int code = app.exit(error);
    return code == 0 ? 0 : cli::kBadInput;
  }
  if (apply_options.no_commit && apply_options.timeout_seconds == 0)
    apply_options.timeout_seconds = 60;
  apply_options.verify = !no_verify;
  output.colour = !output.json && ::isatty(STDOUT_FILENO);
  cli::configure_logging(verbose);
  if (app.got_subcommand("topology"))
    return cli::run_topology(output, topology_commands, topology_args);
  if (*run && !verbose) spdlog::set_level(spdlog::level::info);  // the daemon's journal

  Context context;
  context.config = config;
  if (auto registered = register_builtin_plugins(
          context.registry, {config.bus_address, config.root, config.state_dir,
                             config.ovsdb_address, config.ovsdb_private_key,
                             config.ovsdb_certificate, config.ovsdb_ca_cert, config.lxc_path});
      !registered)
    return cli::report_error(registered.error());
  cli::WriteRequest write{cli::command_path(app), file, apply_options, !rollback_target.empty()};
  if (auto gated = cli::gate_write(context, output, write)) return *gated;
  if (!config.netns.empty()) {
    if (auto entered = enter_network_namespace(config.netns); !entered)
      return cli::report_error(entered.error());
    spdlog::debug("entered network namespace {}", config.netns);
  }

  if (*query) return cli::run_query(context, plugin);
  if (*diff) return cli::run_diff(context, output, file, plugin);
  if (*apply) return cli::run_apply(context, output, file, apply_options);
  if (*commit) return cli::run_commit(context, output);
  if (*rollback && !rollback_target.empty())
    return cli::run_rollback_to(context, output, rollback_target, apply_options);
  if (*rollback) return cli::run_rollback(context, output);
  if (*init) return cli::run_init(context, output, introspect, out_file);
  if (*doctor) return cli::run_doctor(context, output);
  if (*schema) return cli::run_schema(context, plugin);
  if (*discover) return cli::run_discover(context, output, show_changes);
  daemon_options.snapshot_interval = std::chrono::seconds(snapshot_interval);
  daemon_options.policy.fight_window =
      std::chrono::duration_cast<std::chrono::steady_clock::duration>(
          std::chrono::duration<double>(fight_window));
  if (*run) return cli::run_daemon(context, daemon_options, mcp_config_file);
  if (*mcp_serve) return cli::run_mcp(context, mcp_args);
  if (app.got_subcommand("snapshot") || app.got_subcommand("retention"))
    return cli::run_store(context, output, store_commands, store_args);
  if (app.got_subcommand("anomaly"))
    return cli::run_anomaly(context, output, anomaly_commands, anomaly_args);
  if (app.got_subcommand("container"))
    return cli::run_container(context, output, container_commands, container_args, apply_options);
  if (app.got_subcommand("mesh")) return cli::run_mesh(context, output, mesh_commands, mesh_args);
  if (app.got_subcommand("compliance"))
    return cli::run_compliance(context, output, compliance_commands, compliance_args);
  if (app.got_subcommand("ledger"))
    return cli::run_ledger(context, output, ledger_commands, ledger_args);
  return cli::kBadInput;
}
