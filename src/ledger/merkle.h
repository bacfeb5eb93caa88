// RFC 6962 / RFC 9162 Merkle tree: leaf and node hashing, roots, inclusion and consistency proofs,
// and their verifiers. The verifiers are the RFC 9162 section 2.1.3.2 / 2.1.4.2 algorithms and
// nothing else: they take only the proof, the sizes and the two hashes, so there is no second,
// hybrid path by which a forged proof could be accepted.
// A multi-leaf inclusion proof shows several leaves at once: walking RFC 6962's split of the tree
// left to right, it lists the hash of every maximal subtree that holds none of the leaves, so a
// node shared by many paths is given once (k of n leaves: at most k*log2(n/k) hashes, none when
// every leaf is shown). Its verifier folds that same walk and accepts nothing else.
// Invariants: leaf hash = SHA-256(0x00 || data), node hash = SHA-256(0x01 || left || right); the
// root of the empty tree is SHA-256(""). MerkleTree keeps every complete subtree hash, so roots and
// proofs for any size up to size() cost O(log n) hashes.
#pragma once

#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "base/result.h"
#include "ledger/digest.h"

namespace opdbus::ledger {

Digest leaf_hash(Bytes data);
Digest node_hash(const Digest& left, const Digest& right);
Digest empty_root();

// The running root of an append-only sequence of leaves, in O(log n) memory.
class CompactRange {
 public:
  void append(const Digest& leaf);
  uint64_t size() const { return size_; }
  Digest root() const;
  // The peaks (complete subtree hashes, largest first); with size() they restore the range.
  const std::vector<Digest>& peaks() const { return peaks_; }
  static Result<CompactRange> restore(uint64_t size, std::vector<Digest> peaks);

 private:
  uint64_t size_ = 0;
  std::vector<Digest> peaks_;
};

class MerkleTree {
 public:
  void append(const Digest& leaf);
  uint64_t size() const { return levels_.empty() ? 0 : levels_[0].size(); }
  const Digest& leaf(uint64_t index) const { return levels_[0][index]; }
  Result<Digest> root(uint64_t tree_size) const;
  Result<std::vector<Digest>> inclusion_proof(uint64_t leaf_index, uint64_t tree_size) const;
  // `leaf_indices`: strictly increasing, non-empty, all below tree_size.
  Result<std::vector<Digest>> multi_inclusion_proof(std::span<const uint64_t> leaf_indices,
                                                    uint64_t tree_size) const;
  Result<std::vector<Digest>> consistency_proof(uint64_t old_size, uint64_t new_size) const;

 private:
  Digest range_hash(uint64_t begin, uint64_t end) const;
  void inclusion_path(uint64_t index, uint64_t begin, uint64_t end, std::vector<Digest>& out) const;
  void multi_inclusion_path(std::span<const uint64_t> indices, uint64_t begin, uint64_t end,
                            std::vector<Digest>& out) const;
  void subproof(uint64_t old_end, uint64_t begin, uint64_t end, bool whole,
                std::vector<Digest>& out) const;

  std::vector<std::vector<Digest>> levels_;  // levels_[j][i]: complete subtree of 2^j leaves
};

Status verify_inclusion(uint64_t leaf_index, uint64_t tree_size, const Digest& leaf,
                        const std::vector<Digest>& proof, const Digest& root);
// `leaves`: (index, leaf hash), indices strictly increasing, non-empty, all below tree_size.
using IndexedLeaf = std::pair<uint64_t, Digest>;
Status verify_multi_inclusion(std::span<const IndexedLeaf> leaves, uint64_t tree_size,
                              std::span<const Digest> proof, const Digest& root);
Status verify_consistency(uint64_t old_size, uint64_t new_size, const Digest& old_root,
                          const Digest& new_root, const std::vector<Digest>& proof);

}  // namespace opdbus::ledger
