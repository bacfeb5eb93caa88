// The CLI's write gate; see access_cli.h.
#include "app/access_cli.h"

#include <unistd.h>

#include <set>

#include "base/fs.h"
#include "engine/access.h"
#include "engine/state_file.h"
#include "proto/dbus/bus.h"

namespace opdbus::cli {
namespace {

const std::set<std::string> kWrites = {"apply",
                                       "commit",
                                       "rollback",
                                       "snapshot.create",
                                       "snapshot.prune",
                                       "snapshot.send",
                                       "snapshot.receive",
                                       "retention.set",
                                       "container.start",
                                       "container.stop",
                                       "container.destroy",
                                       "mesh.enroll",
                                       "mesh.leave",
                                       "mesh.join",
                                       "mesh.export",
                                       "anomaly.baseline",
                                       "anomaly.scan",
                                       "ledger.seal",
                                       "compliance.report",
                                       "compliance.check",
                                       "run",
                                       "mcp.serve"};

int refuse(const Context& context, const std::string& command, const std::string& reason) {
  auto noted = note_denial(context.config.state_dir, command, reason);
  fmt::print(stderr, "op-dbus: not authorised: {}{}\n", reason,
             noted ? "; the attempt is recorded"
                   : fmt::format(" (the attempt could not be noted: {})", noted.error().message));
  return kNotAuthorised;
}

int exit_for_outcome(const std::string& outcome) {
  if (outcome == "planned") return kChangesPending;
  if (outcome == "rolled_back") return kFailed;
  if (outcome == "rollback_failed") return kRollbackFailed;
  return kOk;
}

Result<dbus::MethodCall> daemon_call(const WriteRequest& request, const Registry& registry) {
  dbus::MethodCall call{"org.opdbus", "/org/opdbus/Manager1", "org.opdbus.Manager1",   "",
                        "",           Json::array(),          std::chrono::minutes(10)};
  if (request.command == "commit" || request.command == "rollback") {
    call.member = request.command == "commit" ? "Commit" : "Rollback";
    return call;
  }
  auto document = TRY(load_state_document(request.file, registry));
  Json options = {{"dry_run", {{"signature", "b"}, {"value", request.options.dry_run}}},
                  {"no_commit", {{"signature", "b"}, {"value", request.options.no_commit}}}};
  if (request.options.no_commit)
    options["timeout"] = {{"signature", "u"}, {"value", request.options.timeout_seconds}};
  call.member = "Apply";
  call.signature = "sa{sv}";
  call.arguments = Json::array({document.text, options});
  return call;
}

void print_daemon_result(const Output& output, const WriteRequest& request, const Json& result) {
  if (output.json) return print_json(result);
  if (request.command != "apply") {
    fmt::print("The op-dbus daemon: {}\n", result.dump());
    return;
  }
  fmt::print("Applied by the op-dbus daemon: {}, {} write(s){}.\n", result.value("outcome", "?"),
             result.value("writes", 0),
             result.contains("error") ? "; " + result["error"].get<std::string>() : "");
}

// apply, commit and rollback of a user other than root, done by the daemon if it allows them.
int send_to_daemon(const Context& context, const Output& output, const WriteRequest& request) {
  auto call = daemon_call(request, context.registry);
  if (!call) return report_error(call.error());
  auto bus = dbus::Bus::open(context.config.bus_address);
  auto reply = bus ? bus->call(*call) : make_failure(bus.error());
  if (!reply && reply.error().code == ErrorCode::conflict) {
    fmt::print(stderr, "op-dbus: not authorised: the daemon refused: {}\n", reply.error().message);
    return kNotAuthorised;
  }
  if (!reply && reply.error().code == ErrorCode::unavailable)
    return refuse(context, request.command,
                  fmt::format("{} needs root, or the op-dbus daemon on the bus to authorise "
                              "uid {} ({})",
                              request.command, ::getuid(), reply.error().message));
  if (!reply) return report_error(reply.error());
  auto result = Json::parse(reply->at(0).get<std::string>(), nullptr, false);
  print_daemon_result(output, request, result);
  return exit_for_outcome(result.value("outcome", ""));
}

}  // namespace

std::string command_path(const CLI::App& app) {
  std::string path;
  for (const auto* command = &app; !command->get_subcommands().empty();) {
    command = command->get_subcommands().front();
    path += (path.empty() ? "" : ".") + command->get_name();
  }
  return path;
}

bool is_write(const WriteRequest& request) {
  if (request.command == "apply" && request.options.dry_run) return false;
  return kWrites.contains(request.command);
}

std::optional<int> gate_write(const Context& context, const Output& output,
                              const WriteRequest& request) {
  if (::geteuid() == 0 || !is_write(request)) return std::nullopt;
  bool daemon_can = (request.command == "apply" || request.command == "commit" ||
                     request.command == "rollback") &&
                    !request.rollback_to;
  if (!context.config.netns.empty())
    return refuse(context, request.command,
                  fmt::format("{} with --netns needs root", request.command));
  if (!daemon_can)
    return refuse(
        context, request.command,
        fmt::format("{} changes the host or op-dbus's records and needs root", request.command));
  return send_to_daemon(context, output, request);
}

}  // namespace opdbus::cli
