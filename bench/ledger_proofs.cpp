// Google Benchmark: Merkle root, inclusion and consistency proofs (build + verify) on a tree of
// 1,000,000 leaves, the size the issue targets (< 1 ms per proof); and proving k random leaves at
// once (a compliance report's citations) with one multi-leaf proof against k separate proofs,
// counting the hashes each carries.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <random>
#include <set>

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

std::vector<uint64_t> random_indices(size_t count, uint32_t seed) {
  std::mt19937_64 random(seed);
  std::set<uint64_t> indices;
  while (indices.size() < count) indices.insert(random() % kLeaves);
  return {indices.begin(), indices.end()};
}

void MultiLeafProof(benchmark::State& state) {
  const auto& tree = big_tree();
  auto root = *tree.root(kLeaves);
  auto indices = random_indices(static_cast<size_t>(state.range(0)), 3);
  std::vector<IndexedLeaf> leaves;
  for (auto index : indices) leaves.emplace_back(index, tree.leaf(index));
  size_t hashes = 0;
  for (auto _ : state) {
    auto proof = *tree.multi_inclusion_proof(indices, kLeaves);
    if (!verify_multi_inclusion(leaves, kLeaves, proof, root)) state.SkipWithError("bad");
    hashes = proof.size();
  }
  state.counters["hashes"] = static_cast<double>(hashes);
}
BENCHMARK(MultiLeafProof)->Arg(1)->Arg(1000)->Arg(100000)->Unit(benchmark::kMillisecond);

void SeparateProofs(benchmark::State& state) {
  const auto& tree = big_tree();
  auto root = *tree.root(kLeaves);
  auto indices = random_indices(static_cast<size_t>(state.range(0)), 3);
  size_t hashes = 0;
  for (auto _ : state) {
    hashes = 0;
    for (auto index : indices) {
      auto proof = *tree.inclusion_proof(index, kLeaves);
      if (!verify_inclusion(index, kLeaves, tree.leaf(index), proof, root))
        state.SkipWithError("bad");
      hashes += proof.size();
    }
  }
  state.counters["hashes"] = static_cast<double>(hashes);
}
BENCHMARK(SeparateProofs)->Arg(1)->Arg(1000)->Arg(100000)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
