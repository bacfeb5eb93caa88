// Placement decisions and thread binding; see placement.h.
#include "topology/placement.h"

#include <hwloc.h>

#include <algorithm>

namespace opdbus::topology {
namespace {

struct BitmapFree {
  void operator()(hwloc_bitmap_s* bitmap) const { hwloc_bitmap_free(bitmap); }
};
using Bitmap = std::unique_ptr<hwloc_bitmap_s, BitmapFree>;

Bitmap bitmap_of(const std::vector<unsigned>& members) {
  Bitmap bitmap(hwloc_bitmap_alloc());
  for (auto member : members) hwloc_bitmap_set(bitmap.get(), member);
  return bitmap;
}

// The node with the most free memory (capacity where free is unknown); ties: the lowest index.
const NumaNode& roomiest(const std::vector<NumaNode>& nodes) {
  return *std::max_element(nodes.begin(), nodes.end(), [](const NumaNode& a, const NumaNode& b) {
    return a.free_bytes.value_or(a.memory_bytes) < b.free_bytes.value_or(b.memory_bytes);
  });
}

// The CPUs of the node's largest L3 domain (most CPUs, then the first), so threads sharing data
// share a cache; the node's CPUs when the topology has no L3 data for it.
std::vector<unsigned> cache_local_cpus(const Topology& topology, const NumaNode& node) {
  const CacheDomain* best = nullptr;
  for (const auto& domain : topology.l3) {
    bool in_node = !domain.cpus.empty() &&
                   std::all_of(domain.cpus.begin(), domain.cpus.end(), [&](unsigned cpu) {
                     return std::find(node.cpus.begin(), node.cpus.end(), cpu) != node.cpus.end();
                   });
    if (in_node && (!best || domain.cpus.size() > best->cpus.size())) best = &domain;
  }
  return best ? best->cpus : node.cpus;
}

Placement on_node(const Topology& topology, const NumaNode& node, std::string reason) {
  return {true, node.os_index, cache_local_cpus(topology, node), std::move(reason)};
}

}  // namespace

Result<PlacementPolicy> PlacementPolicy::parse(const std::string& text, std::string device) {
  PlacementPolicy policy;
  policy.device = std::move(device);
  if (text == "auto") return policy;
  if (text == "off") {
    policy.mode = Mode::off;
    return policy;
  }
  if (text.rfind("node:", 0) == 0 && text.size() > 5 && text.size() < 10 &&
      text.find_first_not_of("0123456789", 5) == std::string::npos) {
    policy.mode = Mode::node;
    policy.node = static_cast<unsigned>(std::stoul(text.substr(5)));
    return policy;
  }
  return fail(ErrorCode::invalid_input, "placement '{}': expected auto, off or node:N", text);
}

std::string PlacementPolicy::describe() const {
  switch (mode) {
    case Mode::off:
      return "off";
    case Mode::node:
      return fmt::format("node:{}", node);
    default:
      return device.empty() ? "auto" : "auto near " + device;
  }
}

Json Placement::to_json() const {
  Json out = {{"active", active}, {"reason", reason}};
  if (active) {
    out["numa_node"] = node;
    out["cpus"] = cpus;
  }
  return out;
}

Result<Placement> decide(const Topology& topology, const PlacementPolicy& policy) {
  using Mode = PlacementPolicy::Mode;
  if (policy.mode == Mode::off) return Placement{false, 0, {}, "placement is off"};
  if (policy.mode == Mode::node) {
    const auto* node = topology.node(policy.node);
    if (!node)
      return fail(ErrorCode::invalid_input, "placement node:{}: this machine has no NUMA node {}",
                  policy.node, policy.node);
    return on_node(topology, *node, fmt::format("configured node:{}", policy.node));
  }
  if (topology.nodes.size() < 2) return Placement{false, 0, {}, "one NUMA node: nothing to place"};
  if (!policy.device.empty()) {
    const auto* device = topology.device(policy.device);
    if (!device)
      return fail(ErrorCode::invalid_input, "placement device '{}' is not on this machine",
                  policy.device);
    if (!device->nodes.empty())
      if (const auto* node = topology.node(device->nodes.front()))
        return on_node(
            topology, *node,
            fmt::format("local to {} ({} {})", policy.device, device->kind, device->bus_id));
  }
  const auto& node = roomiest(topology.nodes);
  return on_node(topology, node, fmt::format("the node with the most free memory"));
}

Status apply_to_current_thread(const Hwloc& hwloc, const Placement& placement) {
  if (!hwloc.is_this_system())
    return fail(ErrorCode::invalid_input,
                "placement can only be applied on this system's topology");
  if (!placement.active) {
    if (hwloc_set_cpubind(hwloc.raw(), hwloc_topology_get_allowed_cpuset(hwloc.raw()),
                          HWLOC_CPUBIND_THREAD) != 0 ||
        hwloc_set_membind(hwloc.raw(), hwloc_topology_get_allowed_nodeset(hwloc.raw()),
                          HWLOC_MEMBIND_DEFAULT,
                          HWLOC_MEMBIND_THREAD | HWLOC_MEMBIND_BYNODESET) != 0)
      return fail(ErrorCode::kernel, "releasing the thread's binding failed: {}",
                  std::strerror(errno));
    return ok();
  }
  auto cpus = bitmap_of(placement.cpus);
  if (hwloc_set_cpubind(hwloc.raw(), cpus.get(), HWLOC_CPUBIND_THREAD) != 0)
    return fail(ErrorCode::kernel, "binding to CPUs failed: {}", std::strerror(errno));
  auto nodes = bitmap_of({placement.node});
  if (hwloc_set_membind(hwloc.raw(), nodes.get(), HWLOC_MEMBIND_BIND,
                        HWLOC_MEMBIND_THREAD | HWLOC_MEMBIND_BYNODESET) != 0)
    return fail(ErrorCode::kernel, "binding memory to node {} failed: {}", placement.node,
                std::strerror(errno));
  return ok();
}

}  // namespace opdbus::topology
