// Where the daemon's hot paths run: a placement policy ("auto", "node:N", "off", with an optional
// device whose locality decides) turned into a NUMA node and the CPUs of one L3 domain in it, and
// applied to a thread (CPU binding and memory binding, so what the thread allocates, such as the
// vector index, lives on that node).
// Invariants: decide() is a pure function of the topology, the policy and the free memory it is
// given; a single-node machine or policy "off" yields an inactive placement, and applying an
// inactive placement changes nothing.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "topology/topology.h"

namespace opdbus::topology {

struct PlacementPolicy {
  enum class Mode { automatic, node, off };
  Mode mode = Mode::automatic;
  unsigned node = 0;   // for Mode::node
  std::string device;  // "cuda0", "eth0" or a PCI bus id: place near it (automatic mode)

  // "auto", "off" or "node:N".
  static Result<PlacementPolicy> parse(const std::string& text, std::string device = {});
  std::string describe() const;
};

struct Placement {
  bool active = false;
  unsigned node = 0;
  std::vector<unsigned> cpus;  // one L3 domain of the node (all of the node's CPUs without L3 data)
  std::string reason;
  Json to_json() const;
};

Result<Placement> decide(const Topology& topology, const PlacementPolicy& policy);

// Binds the calling thread's CPUs and memory to `placement` (on this system's topology); an
// inactive placement releases the thread to every allowed CPU and the default memory policy.
Status apply_to_current_thread(const Hwloc& hwloc, const Placement& placement);

}  // namespace opdbus::topology
