// `op-dbus topology ...`; see topology_cli.h.
#include "app/topology_cli.h"

#include "ml/gpu.h"
#include "topology/placement.h"

namespace opdbus::cli {

TopologyCommands add_topology_commands(CLI::App& app, TopologyArgs& args) {
  auto* topology =
      app.add_subcommand("topology", "NUMA nodes, L3 domains, GPUs/NICs and placement");
  topology->require_subcommand(1);
  TopologyCommands commands;
  commands.show = topology->add_subcommand("show", "the machine's topology");
  commands.place = topology->add_subcommand("place", "where the daemon's hot paths would run");
  for (auto* command : {commands.show, commands.place})
    command->add_option("--input", args.input,
                        "an hwloc synthetic description (\"package:2 numa:1 l3:2 core:8 pu:2\") or "
                        "XML file instead of this system");
  commands.place->add_option("--policy", args.policy, "auto, off or node:N (default auto)");
  commands.place->add_option("--device", args.device,
                             "place near this GPU or NIC (cuda0, eth0, or a PCI bus id)");
  return commands;
}

int run_topology(const Output& output, const TopologyCommands& commands, const TopologyArgs& args) {
  auto hwloc = topology::Hwloc::from_input(args.input);
  if (!hwloc) return report_error(hwloc.error());
  auto described = hwloc->describe();
  if (*commands.show) {
    // Whether the encoder and batched searches would run on a CUDA device (ml/gpu.h).
    auto device = ml::gpu::device();
    auto cuda = device ? *device : device.error().message;
    if (output.json) {
      auto json = described.to_json();
      json["cuda"] = {{"available", static_cast<bool>(device)}, {"detail", cuda}};
      print_json(json);
    } else {
      fmt::print("{}CUDA backend: {}\n", described.to_text(), cuda);
    }
    return kOk;
  }
  auto policy = topology::PlacementPolicy::parse(args.policy, args.device);
  if (!policy) return report_error(policy.error());
  auto placement = topology::decide(described, *policy);
  if (!placement) return report_error(placement.error());
  if (output.json) {
    auto json = placement->to_json();
    json["policy"] = policy->describe();
    print_json(json);
  } else if (placement->active) {
    fmt::print("policy {}: NUMA node {}, CPUs {} ({})\n", policy->describe(), placement->node,
               topology::cpu_list(placement->cpus), placement->reason);
  } else {
    fmt::print("policy {}: no placement ({})\n", policy->describe(), placement->reason);
  }
  return kOk;
}

}  // namespace opdbus::cli
