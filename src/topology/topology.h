// The machine's topology through hwloc: packages, NUMA nodes with their CPUs and memory, the
// NUMA distance matrix, L3 cache domains, PCI devices of interest (GPUs, NICs, accelerators) with
// their local NUMA node, and where the current process runs. Loaded from this system, from an
// hwloc synthetic description ("package:2 numa:1 l3:2 core:8 pu:2") or from an hwloc XML export,
// so multi-socket behaviour is testable on any machine.
// Invariants: the hwloc handle lives in an RAII owner; describe() is a pure read of it; CPU and
// node numbers are the operating system's (os_index), as numactl and taskset use them.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/json_util.h"
#include "base/result.h"

struct hwloc_topology;

namespace opdbus::topology {

struct NumaNode {
  unsigned os_index = 0;
  std::vector<unsigned> cpus;
  uint64_t memory_bytes = 0;
  std::optional<uint64_t> free_bytes;  // this system only (sysfs)
};

struct Package {
  unsigned os_index = 0;
  std::vector<unsigned> cpus;
  std::vector<unsigned> nodes;
};

struct CacheDomain {
  unsigned logical_index = 0;
  uint64_t size_bytes = 0;
  std::vector<unsigned> cpus;
  std::vector<unsigned> nodes;
};

struct PciDevice {
  std::string bus_id;  // "0000:3b:00.0"
  std::string kind;    // "gpu", "nic", "accelerator", "storage", "other"
  uint16_t vendor_id = 0;
  uint16_t device_id = 0;
  std::vector<std::string> os_devices;  // "cuda0", "eth0", "nvme0n1"
  std::vector<unsigned> nodes;          // local NUMA node(s)
};

struct ProcessPlacement {
  std::vector<unsigned> cpus;
  std::vector<unsigned> memory_nodes;
  std::string memory_policy;
};

struct Topology {
  std::string source;  // "this system", "synthetic: ...", "xml: PATH"
  std::vector<Package> packages;
  std::vector<NumaNode> nodes;
  // distances[i][j] between nodes[i] and nodes[j] (relative latency, 10 = local); empty when
  // the machine reports none.
  std::vector<std::vector<uint64_t>> distances;
  std::vector<CacheDomain> l3;
  std::vector<PciDevice> devices;
  std::optional<ProcessPlacement> process;  // this system only

  const NumaNode* node(unsigned os_index) const;
  // A device by OS device name ("cuda0", "eth0") or PCI bus id ("0000:3b:00.0" or "3b:00.0").
  const PciDevice* device(const std::string& name) const;
  Json to_json() const;
  std::string to_text() const;
};

// "0-3,8-11" for a list of CPUs or nodes, as taskset and lscpu write it.
std::string cpu_list(const std::vector<unsigned>& values);

// An hwloc topology handle (hwloc_topology_destroy on destruction).
class Hwloc {
 public:
  static Result<Hwloc> this_machine();
  static Result<Hwloc> synthetic(const std::string& description);
  static Result<Hwloc> xml(const std::string& path);
  // "this system", a synthetic description, or an XML file path (ends in .xml).
  static Result<Hwloc> from_input(const std::string& input);

  Topology describe() const;
  bool is_this_system() const { return this_system_; }
  struct hwloc_topology* raw() const {
    return handle_.get();
  }

 private:
  struct Destroy {
    void operator()(struct hwloc_topology* topology) const;
  };
  Hwloc(std::unique_ptr<struct hwloc_topology, Destroy> handle, std::string source,
        bool this_system)
      : handle_(std::move(handle)), source_(std::move(source)), this_system_(this_system) {}
  static Result<Hwloc> load(const std::string& source, bool this_system,
                            const std::function<int(struct hwloc_topology*)>& configure);

  std::unique_ptr<struct hwloc_topology, Destroy> handle_;
  std::string source_;
  bool this_system_ = false;
};

}  // namespace opdbus::topology
