// CLI command implementations; see commands.h.
#include "app/commands.h"

#include <unistd.h>

#include <chrono>

#include "base/fs.h"
#include "engine/render.h"
#include "ledger/checkpoint.h"
#include "ledger/ledger.h"
#include "plugins/dbus/discovery.h"

namespace opdbus::cli {
namespace {

using Clock = std::chrono::steady_clock;

double milliseconds_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

void note_unavailable(const HostState& state) {
  for (const auto& [name, why] : state.unavailable)
    fmt::print(stderr, "op-dbus: note: {} left out: {}\n", name, why);
}

int print_outcome(const ApplyResult& result, const Output& output, double elapsed_ms) {
  if (output.json) {
    auto json = render_apply_json(result);
    json["elapsed_ms"] = elapsed_ms;
    print_json(json);
  } else {
    fmt::print("{}", render_plan_text(result.plan, output.colour));
  }
  switch (result.outcome) {
    case Outcome::no_changes:
      return kOk;
    case Outcome::planned:
      if (!output.json) fmt::print("Dry run: nothing was changed.\n");
      return kChangesPending;
    case Outcome::applied:
      if (!output.json)
        fmt::print(
            "Apply complete: {} change(s), {} request(s) in {:.1f} ms; verified. Checkpoint {}.\n",
            result.plan.enforce_count(), result.writes, elapsed_ms, result.checkpoint_id);
      return kOk;
    case Outcome::awaiting_commit:
      if (!output.json)
        fmt::print(
            "Applied {} change(s) in {:.1f} ms. Run 'op-dbus commit' before {} or it is rolled "
            "back.\n",
            result.plan.enforce_count(), elapsed_ms, rfc3339_utc(result.deadline));
      return kOk;
    case Outcome::rolled_back:
      fmt::print(stderr,
                 "op-dbus: apply failed and was rolled back; the host is as it was.\n  {}\n",
                 result.failure);
      return kFailed;
    case Outcome::rollback_failed:
      fmt::print(stderr,
                 "op-dbus: apply failed and the rollback failed too; inspect the host.\n  {}\n",
                 result.failure);
      return kRollbackFailed;
  }
  return kFailed;
}

// The ledger's size and latest signed checkpoint, without a full verification.
std::pair<bool, std::string> describe_ledger(const std::filesystem::path& state_dir) {
  ledger::LedgerFiles files(state_dir);
  auto note = read_file(files.checkpoint);
  auto key_text = read_file(files.public_key);
  if (!note || !key_text) return {true, "no ledger yet (created by the first apply)"};
  auto key = ledger::VerifierKey::parse(*key_text);
  auto checkpoint = key ? ledger::open_checkpoint(*note, *key) : make_failure(key.error());
  if (!checkpoint) return {false, "checkpoint does not verify: " + checkpoint.error().describe()};
  return {true,
          fmt::format("{} blocks, checkpoint signed {} by {}; 'op-dbus ledger verify' checks all",
                      checkpoint->size, checkpoint->time, key->name())};
}

}  // namespace

void print_json(const Json& value) {
  fmt::print("{}\n", value.dump(2));
}

int exit_code_for(const Error& error) {
  switch (error.code) {
    case ErrorCode::invalid_input:
      return kBadInput;
    case ErrorCode::conflict:
      return kBusy;
    default:
      return kFailed;
  }
}

int report_error(const Error& error) {
  fmt::print(stderr, "op-dbus: error: {}\n", error.describe());
  return exit_code_for(error);
}

int run_query(Context& context, const std::optional<std::string>& plugin) {
  Engine engine(context);
  auto state = engine.query(plugin);
  if (!state) return report_error(state.error());
  note_unavailable(*state);
  print_json(state->document);
  return kOk;
}

int run_diff(Context& context, const Output& output, const std::string& file,
             const std::optional<std::string>& plugin) {
  auto document = load_state_document(file, context.registry);
  if (!document) return report_error(document.error());
  Engine engine(context);
  auto plan = engine.plan(*document, plugin);
  if (!plan) return report_error(plan.error());
  if (output.json)
    print_json(render_plan_json(*plan));
  else
    fmt::print("{}", render_plan_text(*plan, output.colour));
  return plan->enforce_count() == 0 ? kOk : kChangesPending;
}

int run_apply(Context& context, const Output& output, const std::string& file,
              const ApplyOptions& options) {
  auto document = load_state_document(file, context.registry);
  if (!document) return report_error(document.error());
  return run_apply_document(context, output, *document, options);
}

int run_apply_document(Context& context, const Output& output, const StateDocument& document,
                       const ApplyOptions& options) {
  auto start = Clock::now();
  Engine engine(context);
  auto result = engine.apply(document, options);
  if (!result) return report_error(result.error());
  return print_outcome(*result, output, milliseconds_since(start));
}

int run_commit(Context& context, const Output& output) {
  Engine engine(context);
  auto record = engine.commit();
  if (!record) return report_error(record.error());
  if (output.json)
    print_json({{"committed", record->id}});
  else
    fmt::print("Committed {}.\n", record->id);
  return kOk;
}

int run_rollback(Context& context, const Output& output) {
  auto start = Clock::now();
  Engine engine(context);
  auto result = engine.rollback();
  if (!result) return report_error(result.error());
  if (output.json)
    print_json({{"rolled_back", result->checkpoint_id}, {"writes", result->writes}});
  else
    fmt::print("Rolled back {} ({} request(s) in {:.1f} ms).\n", result->checkpoint_id,
               result->writes, milliseconds_since(start));
  return kOk;
}

int run_rollback_to(Context& context, const Output& output, const std::string& target,
                    const ApplyOptions& options) {
  auto start = Clock::now();
  Engine engine(context);
  auto result = engine.rollback_to(target, options);
  if (!result) return report_error(result.error());
  return print_outcome(*result, output, milliseconds_since(start));
}

int run_init(Context& context, const Output& output, bool introspect, const std::string& out_file) {
  Json document = {{"version", 1}, {"plugins", Json::object()}};
  if (introspect) {
    Engine engine(context);
    auto state = engine.query(std::nullopt);
    if (!state) return report_error(state.error());
    note_unavailable(*state);
    document = without_read_only(state->document, context.registry);
  }
  if (out_file.empty() || out_file == "-") {
    print_json(document);
    return kOk;
  }
  if (std::filesystem::exists(out_file))
    return report_error(
        {ErrorCode::invalid_input, fmt::format("{} exists; not overwriting it", out_file), {}});
  auto written = write_file_atomic(out_file, document.dump(2) + "\n");
  if (!written) return report_error(written.error());
  if (!output.json) fmt::print("Wrote {}.\n", out_file);
  return kOk;
}

namespace {

size_t interface_count(const dbusplugin::DiscoveredService& service) {
  size_t count = 0;
  for (const auto& object : service.objects) count += object.interfaces.size();
  return count;
}

void print_discovery(const std::vector<dbusplugin::DiscoveredService>& services) {
  fmt::print("{:<44} {:<22} {:>7} {:>10}\n", "SERVICE", "STATE", "OBJECTS", "INTERFACES");
  for (const auto& service : services) {
    std::string state = service.running && service.activatable ? "running, activatable"
                        : service.running                      ? "running"
                                                               : "activatable";
    if (!service.running)
      fmt::print("{:<44} {:<22} {:>7} {:>10}\n", service.name, state, "-", "-");
    else if (!service.error.empty())
      fmt::print("{:<44} {:<22} error: {}\n", service.name, state, service.error);
    else
      fmt::print("{:<44} {:<22} {:>7} {:>10}\n", service.name, state, service.objects.size(),
                 interface_count(service));
  }
}

}  // namespace

int run_discover(Context& context, const Output& output, bool show_changes) {
  auto bus = dbus::Bus::open(context.config.bus_address);
  if (!bus) return report_error(bus.error());
  auto services = dbusplugin::discover(*bus, {});
  if (!services) return report_error(services.error());
  if (auto dir = ensure_directory(context.config.state_dir, kStateDirectoryMode); !dir)
    return report_error(dir.error());
  auto changes =
      dbusplugin::replace_index(context.config.state_dir / "discovery.sqlite", *services);
  if (!changes) return report_error(changes.error());
  if (output.json) {
    Json out = {{"services", dbusplugin::discovery_json(*services)}};
    if (show_changes)
      out["changes"] = {{"appeared", changes->appeared}, {"vanished", changes->vanished}};
    print_json(out);
    return kOk;
  }
  print_discovery(*services);
  if (show_changes) {
    for (const auto& line : changes->appeared) fmt::print("+ {}\n", line);
    for (const auto& line : changes->vanished) fmt::print("- {}\n", line);
    fmt::print("{} appeared, {} vanished since the last discovery.\n", changes->appeared.size(),
               changes->vanished.size());
  }
  return kOk;
}

int run_doctor(Context& context, const Output& output) {
  Json checks = Json::array();
  bool all_ok = true;
  // A plugin whose subsystem this host lacks is reported, not a failure of op-dbus itself.
  auto add = [&](const std::string& name, bool passed, const std::string& detail,
                 bool required = true) {
    checks.push_back({{"check", name}, {"ok", passed}, {"required", required}, {"detail", detail}});
    all_ok = all_ok && (passed || !required);
  };
  add("privileges", ::geteuid() == 0,
      ::geteuid() == 0 ? "running as root" : "not root: applies will be refused");
  add("network namespace", true,
      context.config.netns.empty() ? "the namespace op-dbus runs in" : context.config.netns);
  auto dir = ensure_directory(context.config.state_dir, kStateDirectoryMode);
  add("state directory", dir.has_value(),
      dir ? context.config.state_dir.string() : dir.error().describe());
  if (dir) {
    auto store = open_store(context);
    add("snapshots", store.has_value(),
        !store ? store.error().describe()
        : (*store)->on_btrfs()
            ? "BTRFS: subvolumes, read-only snapshots, send/receive"
            : "not BTRFS: snapshots are read-only copies; send/receive needs BTRFS");
    auto [ledger_ok, ledger_detail] = describe_ledger(context.config.state_dir);
    add("ledger", ledger_ok, ledger_detail);
  }
  for (auto* plugin : context.registry.ordered()) {
    auto availability = plugin->probe();
    add("plugin " + plugin->descriptor().name, availability.available, availability.detail, false);
  }
  if (output.json) {
    print_json({{"ok", all_ok}, {"checks", checks}});
  } else {
    for (const auto& check : checks)
      fmt::print("{} {:<20} {}\n",
                 check["ok"].get<bool>()         ? "[ok]  "
                 : check["required"].get<bool>() ? "[FAIL]"
                                                 : "[n/a] ",
                 check["check"].get<std::string>(), check["detail"].get<std::string>());
  }
  return all_ok ? kOk : kFailed;
}

int run_schema(Context& context, const std::optional<std::string>& plugin) {
  Json out = Json::object();
  for (auto* each : context.registry.ordered()) {
    const auto& descriptor = each->descriptor();
    if (plugin && *plugin != descriptor.name) continue;
    out[descriptor.name] = {{"version", descriptor.version},
                            {"description", descriptor.description},
                            {"schema", descriptor.schema},
                            {"read_only_fields", descriptor.read_only_fields}};
  }
  if (plugin && out.empty())
    return report_error({ErrorCode::invalid_input, "unknown plugin '" + *plugin + "'", {}});
  print_json(out);
  return kOk;
}

}  // namespace opdbus::cli
