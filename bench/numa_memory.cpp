// bench_numa_memory: memory latency (dependent loads chasing a random cycle through 256 MiB) and
// read bandwidth (sequential sum over the same buffer) from a thread bound to each NUMA node's
// CPUs to memory bound to each node, via hwloc. The local/remote ratio is what placement saves.
// On a single-node machine it measures the local case and says it cannot compare.
// Usage: bench_numa_memory [MIB]
#include <hwloc.h>

#include <chrono>
#include <cstdio>
#include <numeric>
#include <random>
#include <thread>
#include <vector>

#include "topology/placement.h"

using namespace opdbus;
using Clock = std::chrono::steady_clock;

namespace {

struct Measurement {
  double latency_ns;
  double bandwidth_gbs;
};

// A random single cycle over `slots` (Sattolo's algorithm), so every load depends on the last.
void link_cycle(size_t* slots, size_t count) {
  std::vector<size_t> order(count);
  std::iota(order.begin(), order.end(), 0);
  std::mt19937_64 random(42);
  for (size_t i = count - 1; i > 0; --i) std::swap(order[i], order[random() % i]);
  for (size_t i = 0; i < count; ++i) slots[order[i]] = order[(i + 1) % count];
}

Measurement measure(size_t* slots, size_t count) {
  size_t at = 0;
  const size_t hops = 20'000'000;
  auto start = Clock::now();
  for (size_t i = 0; i < hops; ++i) at = slots[at];
  double latency = std::chrono::duration<double, std::nano>(Clock::now() - start).count() / hops;
  volatile size_t sink = at;
  start = Clock::now();
  size_t sum = 0;
  for (int round = 0; round < 4; ++round)
    for (size_t i = 0; i < count; ++i) sum += slots[i];
  double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  sink = sum;
  (void)sink;
  return {latency, 4.0 * static_cast<double>(count * sizeof(size_t)) / seconds / 1e9};
}

}  // namespace

int main(int argc, char** argv) {
  size_t mib = argc > 1 ? std::stoul(argv[1]) : 256;
  auto hwloc = topology::Hwloc::this_machine();
  if (!hwloc) {
    std::fprintf(stderr, "%s\n", hwloc.error().describe().c_str());
    return 1;
  }
  auto machine = hwloc->describe();
  std::printf("%-10s %-10s %12s %14s\n", "CPU node", "memory", "latency ns", "read GB/s");
  std::vector<std::vector<Measurement>> results;
  for (const auto& cpu_node : machine.nodes) {
    results.emplace_back();
    for (const auto& memory_node : machine.nodes) {
      Measurement measurement{};
      std::thread worker([&] {
        topology::Placement placement{true, cpu_node.os_index, cpu_node.cpus, "bench"};
        if (!topology::apply_to_current_thread(*hwloc, placement)) return;
        hwloc_bitmap_t nodes = hwloc_bitmap_alloc();
        hwloc_bitmap_set(nodes, memory_node.os_index);
        size_t bytes = mib << 20, count = bytes / sizeof(size_t);
        auto* slots = static_cast<size_t*>(hwloc_alloc_membind(
            hwloc->raw(), bytes, nodes, HWLOC_MEMBIND_BIND, HWLOC_MEMBIND_BYNODESET));
        hwloc_bitmap_free(nodes);
        if (!slots) return;
        link_cycle(slots, count);
        measurement = measure(slots, count);
        hwloc_free(hwloc->raw(), slots, bytes);
      });
      worker.join();
      std::printf("%-10u %-10u %12.1f %14.2f\n", cpu_node.os_index, memory_node.os_index,
                  measurement.latency_ns, measurement.bandwidth_gbs);
      results.back().push_back(measurement);
    }
  }
  if (machine.nodes.size() < 2) {
    std::printf("One NUMA node: local and remote memory cannot be compared on this machine.\n");
    return 0;
  }
  std::printf(
      "remote/local latency ratio (node 0 CPUs): %.2f; local/remote bandwidth ratio: %.2f\n",
      results[0][1].latency_ns / results[0][0].latency_ns,
      results[0][0].bandwidth_gbs / results[0][1].bandwidth_gbs);
  return 0;
}
