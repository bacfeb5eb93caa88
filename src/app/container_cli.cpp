// The container commands; see container_cli.h.
#include "app/container_cli.h"

#include <fmt/format.h>

namespace opdbus::cli {
namespace {

Result<Json> containers(Context& context) {
  auto* plugin = context.registry.find("lxc");
  if (!plugin) return fail(ErrorCode::not_found, "this op-dbus has no lxc plugin");
  auto state = TRY(plugin->query());
  return state["containers"];
}

std::string first_address(const Json& container) {
  for (const auto& entry : container.value("network", Json::array()))
    if (entry.contains("ipv4")) return entry["ipv4"].get<std::string>();
  return "-";
}

int list(Context& context, const Output& output) {
  auto all = containers(context);
  if (!all) return report_error(all.error());
  if (output.json) {
    print_json(*all);
    return kOk;
  }
  fmt::print("{:<24} {:<8} {:<9} {:<18} {}\n", "NAME", "STATE", "AUTOSTART", "IPV4", "TEMPLATE");
  for (const auto& [name, container] : all->items())
    fmt::print("{:<24} {:<8} {:<9} {:<18} {}\n", name, container.value("state", "?"),
               container.value("autostart", false) ? "yes" : "no", first_address(container),
               container.value("template", "-"));
  return kOk;
}

int show(Context& context, const std::string& name) {
  auto all = containers(context);
  if (!all) return report_error(all.error());
  if (!all->contains(name))
    return report_error({ErrorCode::invalid_input, fmt::format("no container named {}", name), {}});
  print_json((*all)[name]);
  return kOk;
}

// Applies {"lxc": {"containers": {NAME: {"state": STATE}}}} through the engine.
int change_state(Context& context, const Output& output, const std::string& name,
                 const std::string& state, const ApplyOptions& options) {
  auto all = containers(context);
  if (!all) return report_error(all.error());
  if (!all->contains(name))
    return report_error({ErrorCode::invalid_input, fmt::format("no container named {}", name), {}});
  Json root = {{"version", 1},
               {"plugins", {{"lxc", {{"containers", {{name, {{"state", state}}}}}}}}}};
  auto document = parse_state_text(fmt::format("container {}", name), root.dump());
  if (!document) return report_error(document.error());
  if (auto valid = validate_state_document(*document, context.registry); !valid)
    return report_error(valid.error());
  return run_apply_document(context, output, *document, options);
}

}  // namespace

ContainerCommands add_container_commands(CLI::App& app, ContainerArgs& args) {
  auto* container = app.add_subcommand("container", "LXC containers (through the lxc plugin)");
  container->require_subcommand(1);
  ContainerCommands commands;
  commands.list = container->add_subcommand("list", "every container, its state and address");
  commands.show = container->add_subcommand("show", "one container as the lxc plugin sees it");
  commands.start = container->add_subcommand("start", "start a container (recorded like apply)");
  commands.stop = container->add_subcommand("stop", "stop a container: clean, then forced");
  commands.destroy =
      container->add_subcommand("destroy", "stop and destroy a container and its root filesystem");
  for (auto* command : {commands.show, commands.start, commands.stop, commands.destroy})
    command->add_option("name", args.name, "the container")->required();
  return commands;
}

int run_container(Context& context, const Output& output, const ContainerCommands& commands,
                  const ContainerArgs& args, const ApplyOptions& options) {
  if (*commands.list) return list(context, output);
  if (*commands.show) return show(context, args.name);
  if (*commands.start) return change_state(context, output, args.name, "running", options);
  if (*commands.stop) return change_state(context, output, args.name, "stopped", options);
  if (*commands.destroy) return change_state(context, output, args.name, "absent", options);
  return kBadInput;
}

}  // namespace opdbus::cli
