// Topology and placement: synthetic multi-socket machines and a two-socket machine with eight GPUs
// and two NICs (hwloc XML in data/topology) read correctly; placement follows the configured node,
// the locality of a GPU or NIC, or free memory, keeps to one L3 domain, refuses what the machine
// lacks, and does nothing on one node or when off; a placement binds a thread on this machine.
#include <gtest/gtest.h>
#include <sched.h>

#include <thread>

#include "topology/placement.h"

namespace opdbus::topology {
namespace {

const std::string kTwoSocket = std::string(OPDBUS_TEST_DATA) + "/topology/two-socket-8-gpu.xml";

Topology load(const std::string& input) {
  auto hwloc = Hwloc::from_input(input);
  EXPECT_TRUE(hwloc) << hwloc.error().describe();
  return hwloc ? hwloc->describe() : Topology{};
}

Placement place(const Topology& topology, const std::string& policy,
                const std::string& device = {}) {
  auto parsed = PlacementPolicy::parse(policy, device);
  EXPECT_TRUE(parsed) << policy;
  auto placement = decide(topology, *parsed);
  EXPECT_TRUE(placement) << placement.error().describe();
  return placement.value_or(Placement{});
}

std::vector<unsigned> range(unsigned first, unsigned last) {
  std::vector<unsigned> out;
  for (unsigned cpu = first; cpu <= last; ++cpu) out.push_back(cpu);
  return out;
}

TEST(Topology, SyntheticFourNodeMachine) {
  auto topology = load("package:2 numa:2 l3:1 core:4 pu:2");
  ASSERT_EQ(topology.packages.size(), 2u);
  EXPECT_EQ(topology.packages[1].nodes, (std::vector<unsigned>{2, 3}));
  ASSERT_EQ(topology.nodes.size(), 4u);
  EXPECT_EQ(topology.nodes[3].cpus, range(24, 31));
  ASSERT_EQ(topology.l3.size(), 4u);
  EXPECT_EQ(topology.l3[1].nodes, (std::vector<unsigned>{1}));
  EXPECT_FALSE(topology.process);
  EXPECT_EQ(cpu_list(topology.packages[0].cpus), "0-15");
}

TEST(Topology, TwoSocketMachineWithGpusAndNics) {
  auto topology = load(kTwoSocket);
  ASSERT_EQ(topology.nodes.size(), 2u);
  EXPECT_EQ(topology.distances, (std::vector<std::vector<uint64_t>>{{10, 21}, {21, 10}}));
  size_t gpus = 0;
  for (const auto& device : topology.devices) gpus += device.kind == "gpu";
  EXPECT_EQ(gpus, 8u);
  ASSERT_TRUE(topology.device("cuda5"));
  EXPECT_EQ(topology.device("cuda5")->nodes, (std::vector<unsigned>{1}));
  EXPECT_EQ(topology.device("0000:a0:00.0"), topology.device("cuda5"));
  EXPECT_EQ(topology.device("a0:00.0"), topology.device("cuda5"));
  EXPECT_EQ(topology.device("ib0")->kind, "nic");
  EXPECT_EQ(topology.device("ib0")->nodes, (std::vector<unsigned>{0}));
  auto json = topology.to_json();
  EXPECT_EQ(json["pci_devices"].size(), 10u);
  EXPECT_EQ(json["numa_nodes"][1]["cpus"].size(), 32u);
}

TEST(Placement, FollowsTheDeviceTheNodeOrFreeMemory) {
  auto topology = load(kTwoSocket);
  auto near_gpu = place(topology, "auto", "cuda5");
  EXPECT_TRUE(near_gpu.active);
  EXPECT_EQ(near_gpu.node, 1u);
  EXPECT_EQ(near_gpu.cpus, range(32, 47));  // one L3 domain of node 1
  EXPECT_NE(near_gpu.reason.find("cuda5"), std::string::npos);
  EXPECT_EQ(place(topology, "auto", "ib0").cpus, range(0, 15));
  EXPECT_EQ(place(topology, "node:1").node, 1u);
  topology.nodes[0].free_bytes = 1 << 20;
  topology.nodes[1].free_bytes = 512 << 20;
  EXPECT_EQ(place(topology, "auto").node, 1u);
  EXPECT_FALSE(place(topology, "off").active);
}

TEST(Placement, RefusesWhatTheMachineLacksAndIsANoOpOnOneNode) {
  auto topology = load(kTwoSocket);
  EXPECT_FALSE(decide(topology, *PlacementPolicy::parse("node:7")));
  EXPECT_FALSE(decide(topology, *PlacementPolicy::parse("auto", "cuda9")));
  for (const char* bad : {"node:", "node:x", "nodes:1", "", "AUTO"})
    EXPECT_FALSE(PlacementPolicy::parse(bad)) << bad;
  auto single = place(load("numa:1 core:2 pu:1"), "auto");
  EXPECT_FALSE(single.active);
  EXPECT_NE(single.reason.find("one NUMA node"), std::string::npos);
  auto hwloc = Hwloc::synthetic("package:2 numa:1 core:2 pu:1");
  ASSERT_TRUE(hwloc);
  EXPECT_FALSE(apply_to_current_thread(*hwloc, place(hwloc->describe(), "node:1")));
}

TEST(Placement, BindsAThreadOnThisMachine) {
  auto hwloc = Hwloc::this_machine();
  ASSERT_TRUE(hwloc) << hwloc.error().describe();
  auto topology = hwloc->describe();
  ASSERT_FALSE(topology.nodes.empty());
  ASSERT_TRUE(topology.process);
  auto placement = place(topology, "node:" + std::to_string(topology.nodes[0].os_index));
  ASSERT_TRUE(placement.active);
  std::vector<unsigned> bound;
  Status applied = ok();
  std::thread worker([&] {
    applied = apply_to_current_thread(*hwloc, placement);
    cpu_set_t set;
    CPU_ZERO(&set);
    sched_getaffinity(0, sizeof set, &set);
    for (unsigned cpu = 0; cpu < CPU_SETSIZE; ++cpu)
      if (CPU_ISSET(cpu, &set)) bound.push_back(cpu);
  });
  worker.join();
  ASSERT_TRUE(applied) << applied.error().describe();
  EXPECT_EQ(bound, placement.cpus);
}

}  // namespace
}  // namespace opdbus::topology
