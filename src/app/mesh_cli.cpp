// The mesh commands; see mesh_cli.h.
#include "app/mesh_cli.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cstdlib>
#include <ctime>
#include <fstream>

#include <fmt/chrono.h>

#include "base/fs.h"
#include "engine/record.h"
#include "ledger/ledger.h"
#include "mesh/interface.h"
#include "mesh/join.h"
#include "plugins/mesh/mesh_plugin.h"
#include "proto/lxc/container.h"
#include "proto/wireguard/key.h"

namespace opdbus::cli {
namespace {

Result<mesh::MeshState> open_mesh(Context& context, const std::string& name) {
  auto config = TRY(meshplugin::applied_config(context.config.state_dir, name));
  return mesh::MeshState::open(context.config.state_dir, TRY(mesh::parse_config(name, config)));
}

// The container a command names, or the one an LXC hook runs for.
Result<std::string> container_of(const MeshArgs& args) {
  if (!args.rest.empty()) return args.rest.front();
  if (const char* name = std::getenv("LXC_NAME")) return std::string(name);
  return fail(ErrorCode::invalid_input, "which container? (name it, or run as an LXC hook)");
}

// The container's init PID: LXC_PID in a start-host hook, else liblxc's (0: not running).
Result<pid_t> init_pid_of(Context& context, const std::string& container) {
  const char* hook_name = std::getenv("LXC_NAME");
  const char* hook_pid = std::getenv("LXC_PID");
  if (hook_name && hook_pid && container == hook_name)
    return static_cast<pid_t>(std::atoi(hook_pid));
  auto path = context.config.lxc_path.empty() ? lxc::default_path() : context.config.lxc_path;
  auto handle = TRY(lxc::Container::open(container, path));
  return handle.running() ? handle.init_pid() : 0;
}

Status record(Context& context, const std::string& action, Json after, Json refs) {
  auto* ledger = TRY(open_ledger(context));
  TRY(ledger->append(
      store_record(context, action, Json::object(), std::move(after), std::move(refs))));
  return ok();
}

Result<Json> show(Context& context, const MeshArgs& args) {
  auto* plugin = context.registry.find("mesh");
  if (!plugin) return fail(ErrorCode::not_found, "this op-dbus has no mesh plugin");
  auto all = TRY(plugin->query());
  if (args.mesh.empty()) return all;
  if (!all.contains(args.mesh))
    return fail(ErrorCode::invalid_input, "mesh {} is not set up on this host", args.mesh);
  return all[args.mesh];
}

Result<Json> enroll(Context& context, const MeshArgs& args) {
  auto container = TRY(container_of(args));
  auto pid = TRY(init_pid_of(context, container));
  if (pid == 0) return fail(ErrorCode::invalid_input, "container {} is not running", container);
  auto state = TRY(open_mesh(context, args.mesh));
  TRY(mesh::enroll(state, container, pid, {}));
  const auto& member = state.members().at(container);
  Json after = {{"mesh", args.mesh},
                {"container", container},
                {"address", member.address},
                {"public_key", member.public_key}};
  TRY(record(context, "mesh.enroll", after, {{"init_pid", pid}}));
  return after;
}

Result<Json> leave(Context& context, const MeshArgs& args) {
  auto container = TRY(container_of(args));
  auto state = TRY(open_mesh(context, args.mesh));
  TRY(mesh::leave(state, container, args.release, {}));
  Json after = {{"mesh", args.mesh}, {"container", container}, {"released", args.release}};
  TRY(record(context, "mesh.leave", after, Json::object()));
  return after;
}

Result<Json> export_description(Context& context, const MeshArgs& args) {
  auto state = TRY(open_mesh(context, args.mesh));
  auto key = TRY(wireguard::load_or_create_private_key(state.host_key_file()));
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  auto description = TRY(mesh::describe_host(state.config(), host, TRY(key.public_key()).base64()));
  auto signer = TRY(ledger::SigningKey::load_or_create(
      ledger::LedgerFiles(context.config.state_dir).private_key, ledger::default_origin()));
  fmt::print("{}", TRY(mesh::sign_description(description, signer)));
  return Json();
}

Result<Json> join(Context& context, const MeshArgs& args) {
  if (args.rest.empty())
    return fail(ErrorCode::invalid_input, "mesh join MESH FILE: which description file?");
  auto text = TRY(read_file(args.rest.front()));
  auto state = TRY(open_mesh(context, args.mesh));
  auto remote = TRY(mesh::read_description(text, state.config(), args.verifier));
  state.add_host(remote);
  TRY(mesh::converge_host_interface(state, {}));
  TRY(state.save());
  Json after = {{"mesh", args.mesh},
                {"host", remote.host},
                {"public_key", remote.public_key},
                {"endpoint", remote.endpoint},
                {"allowed_ips", remote.allowed_ips}};
  TRY(record(context, "mesh.join", after,
             {{"verifier", remote.verifier}, {"pinned", args.verifier.has_value()}}));
  if (!args.verifier)
    spdlog::warn("joined {} on the strength of its own key {}; pass --verifier to pin the key",
                 remote.host, remote.verifier);
  return after;
}

// LXC keeps no trace of why a hook failed: the reason goes to STATE/mesh/MESH/hooks.log.
void note_hook_failure(Context& context, const MeshArgs& args, const Error& error) {
  auto directory = mesh::MeshState::directory_of(context.config.state_dir, args.mesh);
  if (!ensure_directory(directory, 0700)) return;
  const char* container = std::getenv("LXC_NAME");
  std::ofstream log(directory / "hooks.log", std::ios::app);
  // LXC appends the container's name, "lxc" and the hook type to the command.
  auto hook = args.rest.size() >= 3 ? args.rest[2] : std::string("hook");
  log << fmt::format("{:%FT%TZ} {} {}: {}\n", fmt::gmtime(std::time(nullptr)),
                     container ? container : "?", hook, error.describe());
}

}  // namespace

MeshCommands add_mesh_commands(CLI::App& app, MeshArgs& args) {
  auto* mesh = app.add_subcommand("mesh", "WireGuard meshes of this host and its containers");
  mesh->require_subcommand(1);
  MeshCommands commands;
  commands.show = mesh->add_subcommand("show", "the meshes (or one): interface, members, hosts");
  commands.show->add_option("mesh", args.mesh, "the mesh");
  commands.enroll = mesh->add_subcommand("enroll", "give a running container its mesh interface");
  commands.leave = mesh->add_subcommand("leave", "take a container out of a mesh");
  commands.leave->add_flag("--release", args.release, "free its address as well");
  commands.export_ = mesh->add_subcommand("export", "print this host's side, signed, for join");
  commands.join = mesh->add_subcommand("join", "add another host from its exported description");
  commands.join->add_option("--verifier", args.verifier,
                            "the ledger verifier key the description must be signed with");
  for (auto* command : {commands.enroll, commands.leave, commands.export_, commands.join})
    command->add_option("mesh", args.mesh, "the mesh")->required();
  for (auto* command : {commands.enroll, commands.leave, commands.join})
    command->add_option("rest", args.rest, "CONTAINER (enroll, leave) or FILE (join)");
  return commands;
}

int run_mesh(Context& context, const Output& output, const MeshCommands& commands,
             const MeshArgs& args) {
  auto result = *commands.show     ? show(context, args)
                : *commands.enroll ? enroll(context, args)
                : *commands.leave  ? leave(context, args)
                : *commands.join   ? join(context, args)
                                   : export_description(context, args);
  if (!result) {
    if (std::getenv("LXC_NAME")) note_hook_failure(context, args, result.error());
    return report_error(result.error());
  }
  if (!result->is_null()) {
    if (output.json || *commands.show)
      print_json(*result);
    else
      fmt::print("{}\n", result->dump());
  }
  return kOk;
}

}  // namespace opdbus::cli
