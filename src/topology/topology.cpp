// The topology read from hwloc; see topology.h.
#include "topology/topology.h"

#include <hwloc.h>

#include <algorithm>
#include <fstream>

namespace opdbus::topology {
namespace {

struct BitmapFree {
  void operator()(hwloc_bitmap_s* bitmap) const { hwloc_bitmap_free(bitmap); }
};
using Bitmap = std::unique_ptr<hwloc_bitmap_s, BitmapFree>;

std::vector<unsigned> members(hwloc_const_bitmap_t bitmap) {
  std::vector<unsigned> out;
  if (!bitmap) return out;
  unsigned index = 0;
  hwloc_bitmap_foreach_begin(index, bitmap) {
    out.push_back(index);
  }
  hwloc_bitmap_foreach_end();
  return out;
}

}  // namespace

std::string cpu_list(const std::vector<unsigned>& values) {
  std::string out;
  for (size_t i = 0; i < values.size();) {
    size_t j = i;
    while (j + 1 < values.size() && values[j + 1] == values[j] + 1) ++j;
    if (!out.empty()) out += ",";
    out += j == i ? fmt::format("{}", values[i]) : fmt::format("{}-{}", values[i], values[j]);
    i = j + 1;
  }
  return out;
}

namespace {

std::string kind_of_class(unsigned class_id) {
  switch (class_id >> 8) {
    case 0x03:
      return "gpu";
    case 0x02:
      return "nic";
    case 0x12:
      return "accelerator";
    case 0x01:
      return "storage";
    default:
      return class_id == 0x0c06 ? "nic" : "other";  // 0c06: InfiniBand
  }
}

// MemFree of a node from sysfs (kB), for this system only.
std::optional<uint64_t> free_memory(unsigned node) {
  std::ifstream meminfo(fmt::format("/sys/devices/system/node/node{}/meminfo", node));
  std::string line;
  while (std::getline(meminfo, line)) {
    auto at = line.find("MemFree:");
    if (at == std::string::npos) continue;
    return std::stoull(line.substr(at + 8)) * 1024;
  }
  return std::nullopt;
}

std::vector<Package> read_packages(hwloc_topology_t topology) {
  std::vector<Package> packages;
  int count = hwloc_get_nbobjs_by_type(topology, HWLOC_OBJ_PACKAGE);
  for (int i = 0; i < count; ++i) {
    auto* object = hwloc_get_obj_by_type(topology, HWLOC_OBJ_PACKAGE, static_cast<unsigned>(i));
    packages.push_back({object->os_index, members(object->cpuset), members(object->nodeset)});
  }
  return packages;
}

std::vector<NumaNode> read_nodes(hwloc_topology_t topology, bool this_system) {
  std::vector<NumaNode> nodes;
  int count = hwloc_get_nbobjs_by_type(topology, HWLOC_OBJ_NUMANODE);
  for (int i = 0; i < count; ++i) {
    auto* object = hwloc_get_obj_by_type(topology, HWLOC_OBJ_NUMANODE, static_cast<unsigned>(i));
    NumaNode node{object->os_index, members(object->cpuset), object->attr->numanode.local_memory,
                  std::nullopt};
    if (this_system) node.free_bytes = free_memory(node.os_index);
    nodes.push_back(std::move(node));
  }
  return nodes;
}

std::vector<std::vector<uint64_t>> read_distances(hwloc_topology_t topology,
                                                  const std::vector<NumaNode>& nodes) {
  unsigned count = 1;
  hwloc_distances_s* distances = nullptr;
  if (hwloc_distances_get_by_type(topology, HWLOC_OBJ_NUMANODE, &count, &distances,
                                  HWLOC_DISTANCES_KIND_MEANS_LATENCY, 0) != 0 ||
      count == 0)
    return {};
  std::vector<std::vector<uint64_t>> matrix(nodes.size(), std::vector<uint64_t>(nodes.size(), 0));
  auto position = [&](unsigned os_index) {
    for (size_t i = 0; i < nodes.size(); ++i)
      if (nodes[i].os_index == os_index) return i;
    return nodes.size();
  };
  for (unsigned i = 0; i < distances->nbobjs; ++i)
    for (unsigned j = 0; j < distances->nbobjs; ++j) {
      auto row = position(distances->objs[i]->os_index);
      auto column = position(distances->objs[j]->os_index);
      if (row < nodes.size() && column < nodes.size())
        matrix[row][column] = distances->values[i * distances->nbobjs + j];
    }
  hwloc_distances_release(topology, distances);
  return matrix;
}

std::vector<CacheDomain> read_l3(hwloc_topology_t topology) {
  std::vector<CacheDomain> domains;
  int count = hwloc_get_nbobjs_by_type(topology, HWLOC_OBJ_L3CACHE);
  for (int i = 0; i < count; ++i) {
    auto* object = hwloc_get_obj_by_type(topology, HWLOC_OBJ_L3CACHE, static_cast<unsigned>(i));
    domains.push_back({object->logical_index, object->attr->cache.size, members(object->cpuset),
                       members(object->nodeset)});
  }
  return domains;
}

std::vector<PciDevice> read_devices(hwloc_topology_t topology) {
  std::vector<PciDevice> devices;
  for (auto* object = hwloc_get_next_pcidev(topology, nullptr); object;
       object = hwloc_get_next_pcidev(topology, object)) {
    const auto& pci = object->attr->pcidev;
    PciDevice device{
        fmt::format("{:04x}:{:02x}:{:02x}.{:x}", pci.domain, pci.bus, pci.dev, pci.func),
        kind_of_class(pci.class_id),
        pci.vendor_id,
        pci.device_id,
        {},
        {}};
    for (auto* child = object->io_first_child; child; child = child->next_sibling)
      if (child->type == HWLOC_OBJ_OS_DEVICE && child->name)
        device.os_devices.push_back(child->name);
    if (auto* anchor = hwloc_get_non_io_ancestor_obj(topology, object))
      device.nodes = members(anchor->nodeset);
    if (device.kind != "other" || !device.os_devices.empty()) devices.push_back(std::move(device));
  }
  return devices;
}

std::optional<ProcessPlacement> read_process(hwloc_topology_t topology) {
  Bitmap cpus(hwloc_bitmap_alloc()), nodes(hwloc_bitmap_alloc());
  hwloc_membind_policy_t policy{};
  if (hwloc_get_cpubind(topology, cpus.get(), HWLOC_CPUBIND_PROCESS) != 0) return std::nullopt;
  ProcessPlacement placement{members(cpus.get()), {}, "unknown"};
  // Linux reports memory policy per thread; the calling (main) thread's stands for the process.
  if (hwloc_get_membind(topology, nodes.get(), &policy,
                        HWLOC_MEMBIND_THREAD | HWLOC_MEMBIND_BYNODESET) == 0) {
    placement.memory_nodes = members(nodes.get());
    placement.memory_policy = policy == HWLOC_MEMBIND_BIND         ? "bind"
                              : policy == HWLOC_MEMBIND_INTERLEAVE ? "interleave"
                              : policy == HWLOC_MEMBIND_FIRSTTOUCH ? "first-touch"
                                                                   : "default";
  }
  return placement;
}

}  // namespace

void Hwloc::Destroy::operator()(hwloc_topology* topology) const {
  hwloc_topology_destroy(topology);
}

Result<Hwloc> Hwloc::load(const std::string& source, bool this_system,
                          const std::function<int(hwloc_topology*)>& configure) {
  hwloc_topology_t raw = nullptr;
  if (hwloc_topology_init(&raw) != 0)
    return fail(ErrorCode::internal, "hwloc_topology_init failed");
  std::unique_ptr<hwloc_topology, Destroy> handle(raw);
  hwloc_topology_set_io_types_filter(raw, HWLOC_TYPE_FILTER_KEEP_IMPORTANT);
  if (configure(raw) != 0)
    return fail(ErrorCode::invalid_input, "hwloc cannot read {}: {}", source, std::strerror(errno));
  if (hwloc_topology_load(raw) != 0)
    return fail(ErrorCode::invalid_input, "hwloc cannot load {}: {}", source, std::strerror(errno));
  return Hwloc(std::move(handle), source, this_system);
}

Result<Hwloc> Hwloc::this_machine() {
  return load("this system", true, [](hwloc_topology*) { return 0; });
}

Result<Hwloc> Hwloc::synthetic(const std::string& description) {
  return load("synthetic: " + description, false, [&](hwloc_topology* topology) {
    return hwloc_topology_set_synthetic(topology, description.c_str());
  });
}

Result<Hwloc> Hwloc::xml(const std::string& path) {
  return load("xml: " + path, false, [&](hwloc_topology* topology) {
    return hwloc_topology_set_xml(topology, path.c_str());
  });
}

Result<Hwloc> Hwloc::from_input(const std::string& input) {
  if (input.empty()) return this_machine();
  if (input.size() > 4 && input.compare(input.size() - 4, 4, ".xml") == 0) return xml(input);
  return synthetic(input);
}

Topology Hwloc::describe() const {
  auto* topology = handle_.get();
  Topology out;
  out.source = source_;
  out.packages = read_packages(topology);
  out.nodes = read_nodes(topology, this_system_);
  out.distances = read_distances(topology, out.nodes);
  out.l3 = read_l3(topology);
  out.devices = read_devices(topology);
  if (this_system_) out.process = read_process(topology);
  return out;
}

const NumaNode* Topology::node(unsigned os_index) const {
  for (const auto& each : nodes)
    if (each.os_index == os_index) return &each;
  return nullptr;
}

const PciDevice* Topology::device(const std::string& name) const {
  for (const auto& each : devices) {
    if (each.bus_id == name || each.bus_id.substr(5) == name) return &each;
    if (std::find(each.os_devices.begin(), each.os_devices.end(), name) != each.os_devices.end())
      return &each;
  }
  return nullptr;
}

Json Topology::to_json() const {
  Json out = {{"source", source}};
  out["packages"] = Json::array();
  for (const auto& package : packages)
    out["packages"].push_back(
        {{"index", package.os_index}, {"cpus", package.cpus}, {"numa_nodes", package.nodes}});
  out["numa_nodes"] = Json::array();
  for (const auto& node : nodes) {
    Json entry = {
        {"index", node.os_index}, {"cpus", node.cpus}, {"memory_bytes", node.memory_bytes}};
    if (node.free_bytes) entry["free_bytes"] = *node.free_bytes;
    out["numa_nodes"].push_back(std::move(entry));
  }
  out["distances"] = distances;
  out["l3_domains"] = Json::array();
  for (const auto& domain : l3)
    out["l3_domains"].push_back({{"index", domain.logical_index},
                                 {"size_bytes", domain.size_bytes},
                                 {"cpus", domain.cpus},
                                 {"numa_nodes", domain.nodes}});
  out["pci_devices"] = Json::array();
  for (const auto& device : devices)
    out["pci_devices"].push_back({{"bus_id", device.bus_id},
                                  {"kind", device.kind},
                                  {"vendor_id", fmt::format("{:04x}", device.vendor_id)},
                                  {"device_id", fmt::format("{:04x}", device.device_id)},
                                  {"os_devices", device.os_devices},
                                  {"numa_nodes", device.nodes}});
  if (process)
    out["process"] = {{"cpus", process->cpus},
                      {"memory_nodes", process->memory_nodes},
                      {"memory_policy", process->memory_policy}};
  return out;
}

std::string Topology::to_text() const {
  std::string out = fmt::format("Topology of {}: {} package(s), {} NUMA node(s), {} L3 domain(s)\n",
                                source, packages.size(), nodes.size(), l3.size());
  for (const auto& package : packages)
    out += fmt::format("package {}: CPUs {}, NUMA node(s) {}\n", package.os_index,
                       cpu_list(package.cpus), cpu_list(package.nodes));
  for (const auto& node : nodes)
    out +=
        fmt::format("NUMA node {}: CPUs {}, {} MiB{}\n", node.os_index, cpu_list(node.cpus),
                    node.memory_bytes >> 20,
                    node.free_bytes ? fmt::format(" ({} MiB free)", *node.free_bytes >> 20) : "");
  if (!distances.empty()) {
    out += "distances:";
    for (const auto& node : nodes) out += fmt::format(" {:>5}", node.os_index);
    out += "\n";
    for (size_t i = 0; i < nodes.size(); ++i) {
      out += fmt::format("  node {:>3}", nodes[i].os_index);
      for (auto value : distances[i]) out += fmt::format(" {:>5}", value);
      out += "\n";
    }
  }
  for (const auto& domain : l3)
    out += fmt::format("L3 {}: {} MiB shared by CPUs {} (node {})\n", domain.logical_index,
                       domain.size_bytes >> 20, cpu_list(domain.cpus), cpu_list(domain.nodes));
  for (const auto& device : devices)
    out += fmt::format("{} {} [{:04x}:{:04x}] {}: NUMA node {}\n", device.kind, device.bus_id,
                       device.vendor_id, device.device_id, fmt::join(device.os_devices, ","),
                       device.nodes.empty() ? std::string("?") : cpu_list(device.nodes));
  if (process)
    out +=
        fmt::format("this process: CPUs {}, memory on node(s) {} ({})\n", cpu_list(process->cpus),
                    cpu_list(process->memory_nodes), process->memory_policy);
  return out;
}

}  // namespace opdbus::topology
