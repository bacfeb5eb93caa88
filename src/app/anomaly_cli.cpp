// `op-dbus anomaly ...`; see anomaly_cli.h.
#include "app/anomaly_cli.h"

#include "daemon/config.h"
#include "engine/anomalies.h"
#include "engine/record.h"

namespace opdbus::cli {
namespace {

void print_verdicts(const std::vector<ml::Verdict>& verdicts) {
  fmt::print("{:<14} {:<40} {:>6} {:>10}  {}\n", "PLUGIN", "RESOURCE", "SCORE", "SIMILARITY",
             "MOST SIMILAR NORMAL STATE");
  for (const auto& verdict : verdicts)
    fmt::print("{:<14} {:<40} {:>6.3f} {:>10.3f}  {}\n", verdict.plugin,
               verdict.resource.empty() ? "(whole state)" : verdict.resource, verdict.score(),
               verdict.similarity,
               verdict.nearest ? fmt::format("{} {} at height {}", verdict.nearest->resource,
                                             verdict.nearest->source, verdict.nearest->height)
                               : "-");
}

Result<ml::AnomalyConfig> config_of(const AnomalyArgs& args) {
  auto config = TRY(daemon::load_daemon_config_or_defaults(args.config_file)).anomaly;
  if (args.threshold) config.threshold = *args.threshold;
  return config;
}

Result<std::unique_ptr<Anomalies>> open_anomalies(Context& context, const AnomalyArgs& args) {
  return Anomalies::open(context, TRY(config_of(args)));
}

Result<Json> current_states(Context& context, const std::optional<std::string>& plugin) {
  Engine engine(context);
  return TRY(engine.query(plugin)).document["plugins"];
}

int scan(Context& context, const Output& output, const AnomalyArgs& args) {
  auto anomalies = open_anomalies(context, args);
  if (!anomalies) return report_error(anomalies.error());
  auto states = current_states(context, args.plugin);
  if (!states) return report_error(states.error());
  auto found = (*anomalies)->observe(*states, "scan");
  if (!found) return report_error(found.error());
  if (output.json) {
    Json list = Json::array();
    for (const auto& verdict : *found) list.push_back(verdict.to_json());
    print_json({{"anomalies", list}, {"plugins", states->size()}});
  } else if (found->empty()) {
    fmt::print("No anomalies: {} plugin(s) are like states seen before.\n", states->size());
  } else {
    print_verdicts(*found);
    fmt::print("{} anomal{} recorded in the ledger.\n", found->size(),
               found->size() == 1 ? "y" : "ies");
  }
  return found->empty() ? kOk : kAnomalies;
}

int history(Context& context, const Output& output, const AnomalyArgs& args) {
  auto blocks = Anomalies::history(context, args.count);
  if (!blocks) return report_error(blocks.error());
  if (output.json) {
    print_json(*blocks);
    return kOk;
  }
  fmt::print("{:>7} {:<28} {:<12} {:<40} {:>6} {}\n", "HEIGHT", "TIME", "PLUGIN", "RESOURCE",
             "SCORE", "SEEN IN");
  for (const auto& block : *blocks) {
    const auto& refs = block["refs"];
    fmt::print("{:>7} {:<28} {:<12} {:<40} {:>6.3f} {}\n", block.value("height", 0),
               block.value("time", ""), refs.value("plugin", ""),
               refs.value("resource", "").empty() ? "(whole state)" : refs.value("resource", ""),
               refs.value("score", 0.0), refs.value("source", ""));
  }
  if (blocks->empty()) fmt::print("No anomalies recorded.\n");
  return kOk;
}

// Records a change of the baseline in the ledger: who said what is normal.
Status record_baseline(Context& context, const std::string& what, Json details) {
  auto* ledger = TRY(open_ledger(context));
  details["change"] = what;
  TRY(ledger->append(store_record(context, "anomaly.baseline", Json::object(), Json::object(),
                                  std::move(details))));
  return ok();
}

int baseline(Context& context, const Output& output, const AnomalyCommands& commands,
             const AnomalyArgs& args) {
  auto anomalies = open_anomalies(context, args);
  if (!anomalies) return report_error(anomalies.error());
  auto& store = (*anomalies)->store();
  Status done = ok();
  if (*commands.reset) {
    auto cleared = store.clear_baseline(args.plugin.value_or(""));
    done = cleared ? record_baseline(context, "reset",
                                     {{"plugin", args.plugin.value_or("")}, {"vectors", *cleared}})
                   : make_failure(cleared.error());
  } else if (*commands.accept) {
    done = store.set_baseline(args.vector, true);
    if (done) done = record_baseline(context, "accept", {{"vector", args.vector}});
  } else if (*commands.learn) {
    auto states = current_states(context, args.plugin);
    auto found = states ? (*anomalies)->observe(*states, "learn")
                        : Result<std::vector<ml::Verdict>>(make_failure(states.error()));
    for (const auto& verdict : found.value_or(std::vector<ml::Verdict>{}))
      if (done) done = store.set_baseline(verdict.vector_id, true);
    if (!found) done = make_failure(found.error());
    if (done) done = record_baseline(context, "learn", {{"plugin", args.plugin.value_or("")}});
  }
  if (!done) return report_error(done.error());
  auto counts = store.baseline_counts();
  if (!counts) return report_error(counts.error());
  if (output.json) {
    print_json({{"baseline", *counts}});
    return kOk;
  }
  for (const auto& [key, count] : *counts) fmt::print("{:<60} {:>6}\n", key, count);
  if (counts->empty()) fmt::print("The baseline is empty: the next observation defines it.\n");
  return kOk;
}

}  // namespace

AnomalyCommands add_anomaly_commands(CLI::App& app, AnomalyArgs& args) {
  auto* anomaly = app.add_subcommand("anomaly", "states unlike anything seen before");
  anomaly->require_subcommand(1);
  AnomalyCommands commands;
  commands.scan = anomaly->add_subcommand(
      "scan", "embed the current state and compare it with the baseline (exit 6: anomalies)");
  commands.history = anomaly->add_subcommand("history", "anomalies recorded in the ledger");
  auto* baseline = anomaly->add_subcommand("baseline", "what counts as normal");
  baseline->require_subcommand(1);
  commands.show = baseline->add_subcommand("show", "baseline sizes per plugin and resource");
  commands.reset =
      baseline->add_subcommand("reset", "forget the baseline (the next state defines it)");
  commands.learn = baseline->add_subcommand("learn", "take the current state as normal");
  commands.accept =
      baseline->add_subcommand("accept", "take a recorded anomaly's vector as normal");
  commands.accept->add_option("VECTOR", args.vector, "the vector id (refs.vector of the block)")
      ->required();
  for (auto* command : {commands.scan, commands.reset, commands.learn})
    command->add_option("-p,--plugin", args.plugin, "only this plugin");
  for (auto* command :
       {commands.scan, commands.show, commands.reset, commands.learn, commands.accept})
    command->add_option("--config", args.config_file,
                        "the daemon's config file (default /etc/op-dbus/config.json if present)");
  commands.scan
      ->add_option("--threshold", args.threshold,
                   "similarity below which a state is an anomaly (default 0.85)")
      ->check(CLI::Range(0.0, 1.0));
  commands.history->add_option("-n,--count", args.count, "newest N (default 20)");
  return commands;
}

int run_anomaly(Context& context, const Output& output, const AnomalyCommands& commands,
                const AnomalyArgs& args) {
  if (*commands.scan) return scan(context, output, args);
  if (*commands.history) return history(context, output, args);
  return baseline(context, output, commands, args);
}

}  // namespace opdbus::cli
