// `op-dbus snapshot|retention ...` and `rollback --to`; see store_cli.h.
#include "app/store_cli.h"

#include <signal.h>
#include <unistd.h>

#include "engine/render.h"
#include "ledger/verify.h"

namespace opdbus::cli {
namespace {

std::string joined(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out += ",";
    out += item;
  }
  return out;
}

int run_list(Context& context, const Output& output) {
  Engine engine(context);
  auto statuses = engine.snapshot_status();
  if (!statuses) return report_error(statuses.error());
  auto policy = engine.retention();
  if (!policy) return report_error(policy.error());
  auto store = open_store(context);
  if (!store) return report_error(store.error());
  if (output.json) {
    print_json(render_snapshots_json(*statuses, *policy, (*store)->on_btrfs()));
    return kOk;
  }
  fmt::print("{:<20} {:<25} {:<12} {}\n", "SNAPSHOT", "TAKEN (local time)", "AFTER", "KEPT BY");
  for (const auto& status : *statuses)
    fmt::print("{:<20} {:<25} {:<12} {}\n", status.info.name,
               format_local(status.info.time, "%Y-%m-%d %H:%M:%S %Z"),
               status.info.meta.value("reason", "-"),
               status.reasons.empty() ? "(pruned next)" : joined(status.reasons));
  fmt::print("{} snapshot(s) in {} ({}); retention {}\n", statuses->size(),
             (*store)->snapshots_path().string(),
             (*store)->on_btrfs() ? "BTRFS read-only snapshots" : "read-only copies",
             policy->to_json().dump());
  return kOk;
}

int run_create(Context& context, const Output& output) {
  Engine engine(context);
  auto name = engine.create_snapshot();
  if (!name) return report_error(name.error());
  if (output.json)
    print_json({{"snapshot", *name}});
  else
    fmt::print("Snapshot {} taken.\n", *name);
  return kOk;
}

int run_prune(Context& context, const Output& output, bool dry_run) {
  Engine engine(context);
  auto pruned = engine.prune_snapshots(dry_run);
  if (!pruned) return report_error(pruned.error());
  if (output.json) {
    print_json({{"dry_run", dry_run}, {"pruned", *pruned}});
    return kOk;
  }
  for (const auto& name : *pruned)
    fmt::print("{} {}\n", dry_run ? "would delete" : "deleted", name);
  fmt::print("{} snapshot(s) {}.\n", pruned->size(), dry_run ? "would be deleted" : "deleted");
  return kOk;
}

int run_send(Context& context, const Output& output, const std::string& replica) {
  if (replica.empty() && ::isatty(STDOUT_FILENO))
    return report_error(Error{ErrorCode::invalid_input,
                              "refusing to write a binary stream to a terminal: pass --to DIR or "
                              "redirect stdout",
                              {}});
  ::signal(SIGPIPE, SIG_IGN);  // a receiver that stops reading is an error to report, not death
  Engine engine(context);
  std::optional<std::filesystem::path> target;
  if (!replica.empty()) target = replica;
  auto items = engine.send_snapshots(target, STDOUT_FILENO);
  if (!items) return report_error(items.error());
  if (!target) {
    fmt::print(stderr, "Sent {} snapshot(s).\n", items->size());
    return kOk;
  }
  auto data = ledger::load_local_ledger(*target);
  auto report = data ? ledger::verify_ledger(*data, {}) : make_failure(data.error());
  if (output.json) {
    Json sent = Json::array();
    for (const auto& item : *items) sent.push_back(item.kind + " " + item.name);
    print_json({{"sent", sent}, {"replica_verified", report.has_value()}});
  } else {
    for (const auto& item : *items)
      fmt::print("sent {} {}{}\n", item.kind, item.name,
                 item.parent.empty() ? " (full)" : " (incremental from " + item.parent + ")");
    if (report)
      fmt::print("Replica {} verified: {} blocks match the signed checkpoint.\n", replica,
                 report->blocks);
  }
  if (!report) return report_error(report.error());
  return kOk;
}

int run_receive(const Output& output, const std::string& replica) {
  auto received = store::receive_stream(replica, STDIN_FILENO);
  if (!received) return report_error(received.error());
  if (output.json)
    print_json({{"received", *received}});
  else
    for (const auto& name : *received) fmt::print("received {}\n", name);
  return kOk;
}

int run_retention_show(Context& context) {
  Engine engine(context);
  auto policy = engine.retention();
  if (!policy) return report_error(policy.error());
  print_json(policy->to_json());
  return kOk;
}

int run_retention_set(Context& context, const std::vector<std::string>& assignments) {
  Engine engine(context);
  if (auto set = engine.set_retention(assignments); !set) return report_error(set.error());
  return run_retention_show(context);
}

}  // namespace

StoreCommands add_store_commands(CLI::App& app, StoreArgs& args) {
  StoreCommands commands;
  auto* snapshot = app.add_subcommand("snapshot", "state snapshots taken after every change");
  snapshot->require_subcommand(1);
  commands.snapshot_list = snapshot->add_subcommand("list", "snapshots and which tier keeps each");
  commands.snapshot_create = snapshot->add_subcommand("create", "take a snapshot now");
  commands.snapshot_prune =
      snapshot->add_subcommand("prune", "delete what retention does not keep");
  commands.snapshot_prune->add_flag("--dry-run", args.dry_run, "only list what would be deleted");
  commands.snapshot_send = snapshot->add_subcommand(
      "send", "replicate snapshots and the ledger to another BTRFS filesystem (or stdout)");
  commands.snapshot_send->add_option("--to", args.replica, "replica directory on BTRFS");
  commands.snapshot_receive =
      snapshot->add_subcommand("receive", "receive a 'snapshot send' stream from stdin");
  commands.snapshot_receive->add_option("dir", args.replica, "replica directory on BTRFS")
      ->required();
  auto* retention =
      app.add_subcommand("retention", "how many hourly/daily/weekly/quarterly to keep");
  retention->require_subcommand(1);
  commands.retention_show = retention->add_subcommand("show", "print the policy");
  commands.retention_set = retention->add_subcommand("set", "change the policy (recorded)");
  commands.retention_set
      ->add_option("tiers", args.assignments, "hourly=N daily=N weekly=N quarterly=N")
      ->required();
  return commands;
}

int run_store(Context& context, const Output& output, const StoreCommands& commands,
              const StoreArgs& args) {
  if (*commands.snapshot_list) return run_list(context, output);
  if (*commands.snapshot_create) return run_create(context, output);
  if (*commands.snapshot_prune) return run_prune(context, output, args.dry_run);
  if (*commands.snapshot_send) return run_send(context, output, args.replica);
  if (*commands.snapshot_receive) return run_receive(output, args.replica);
  if (*commands.retention_show) return run_retention_show(context);
  if (*commands.retention_set) return run_retention_set(context, args.assignments);
  return kBadInput;
}

}  // namespace opdbus::cli
