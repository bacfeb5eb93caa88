// Google Benchmark: Merkle root, inclusion and consistency proofs (build + verify) on a tree of
// 1,000,000 leaves, the size the issue targets (< 1 ms per proof).
#include <benchmark/benchmark.h>

#include <random>

#include "ledger/merkle.h"

using namespace opdbus::ledger;

namespace {

constexpr uint64_t kLeaves = 1'000'000;

const MerkleTree& big_tree() {
  static const MerkleTree tree = [] {
    MerkleTree built;
    for (uint64_t i = 0; i < kLeaves; ++i) built.append(leaf_hash(as_bytes(std::to_string(i))));
    return built;
  }();
  return tree;
}

void InclusionProof(benchmark::State& state) {
  const auto& tree = big_tree();
  auto root = *tree.root(kLeaves);
  std::mt19937_64 random(1);
  for (auto _ : state) {
    uint64_t index = random() % kLeaves;
    auto proof = *tree.inclusion_proof(index, kLeaves);
    if (!verify_inclusion(index, kLeaves, tree.leaf(index), proof, root))
      state.SkipWithError("bad");
  }
}
BENCHMARK(InclusionProof)->Unit(benchmark::kMicrosecond);

void ConsistencyProof(benchmark::State& state) {
  const auto& tree = big_tree();
  auto new_root = *tree.root(kLeaves);
  std::mt19937_64 random(2);
  for (auto _ : state) {
    uint64_t old_size = 1 + random() % (kLeaves - 1);
    auto proof = *tree.consistency_proof(old_size, kLeaves);
    if (!verify_consistency(old_size, kLeaves, *tree.root(old_size), new_root, proof))
      state.SkipWithError("bad");
  }
}
BENCHMARK(ConsistencyProof)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
