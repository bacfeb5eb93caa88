// RFC 6962 Merkle tree; see merkle.h.
#include "ledger/merkle.h"

#include <algorithm>
#include <bit>

namespace opdbus::ledger {
namespace {

// The largest power of two strictly less than n (n >= 2).
uint64_t split_point(uint64_t n) {
  return std::bit_floor(n - 1);
}

Error proof_error(std::string what) {
  return Error{ErrorCode::verify_failed, std::move(what), {}};
}

template <typename Leaves, typename IndexOf>
Status check_leaf_indices(const Leaves& leaves, IndexOf index_of, uint64_t tree_size) {
  if (leaves.empty()) return make_failure(proof_error("a multi-leaf proof needs a leaf"));
  for (size_t i = 0; i < leaves.size(); ++i) {
    auto index = index_of(leaves[i]);
    if (index >= tree_size)
      return make_failure(
          proof_error(fmt::format("entry {} is not in a tree of size {}", index, tree_size)));
    if (i > 0 && index <= index_of(leaves[i - 1]))
      return make_failure(proof_error(fmt::format(
          "the leaves of a multi-leaf proof are not in increasing order at entry {}", index)));
  }
  return ok();
}

// The walk of MerkleTree::multi_inclusion_path, taking each subtree's hash from `proof` instead.
Result<Digest> fold_multi_inclusion(std::span<const IndexedLeaf> leaves, uint64_t begin,
                                    uint64_t end, std::span<const Digest> proof, size_t& next) {
  if (leaves.empty()) {
    if (next == proof.size())
      return make_failure(proof_error("multi-leaf inclusion proof is too short"));
    return proof[next++];
  }
  if (end - begin == 1) return leaves.front().second;
  uint64_t k = split_point(end - begin);
  auto middle = std::partition_point(leaves.begin(), leaves.end(), [&](const IndexedLeaf& leaf) {
    return leaf.first < begin + k;
  });
  auto left = TRY(fold_multi_inclusion({leaves.begin(), middle}, begin, begin + k, proof, next));
  auto right = TRY(fold_multi_inclusion({middle, leaves.end()}, begin + k, end, proof, next));
  return node_hash(left, right);
}

}  // namespace

Digest leaf_hash(Bytes data) {
  uint8_t small[1 + 64];  // block hashes (32 bytes) take this path: no allocation per leaf
  std::vector<uint8_t> large;
  uint8_t* buffer = small;
  if (data.size() > 64) {
    large.resize(1 + data.size());
    buffer = large.data();
  }
  buffer[0] = 0x00;
  std::copy(data.begin(), data.end(), buffer + 1);
  return sha256(Bytes(buffer, 1 + data.size()));
}

Digest node_hash(const Digest& left, const Digest& right) {
  uint8_t buffer[1 + 2 * sizeof(Digest)];
  buffer[0] = 0x01;
  std::copy(left.begin(), left.end(), buffer + 1);
  std::copy(right.begin(), right.end(), buffer + 1 + left.size());
  return sha256(Bytes(buffer, sizeof buffer));
}

Digest empty_root() {
  return sha256(std::string_view());
}

void CompactRange::append(const Digest& leaf) {
  peaks_.push_back(leaf);
  for (uint64_t n = size_; n & 1; n >>= 1) {
    Digest right = peaks_.back();
    peaks_.pop_back();
    peaks_.back() = node_hash(peaks_.back(), right);
  }
  ++size_;
}

Digest CompactRange::root() const {
  if (peaks_.empty()) return empty_root();
  Digest root = peaks_.back();
  for (auto it = peaks_.rbegin() + 1; it != peaks_.rend(); ++it) root = node_hash(*it, root);
  return root;
}

Result<CompactRange> CompactRange::restore(uint64_t size, std::vector<Digest> peaks) {
  if (static_cast<size_t>(std::popcount(size)) != peaks.size())
    return fail(ErrorCode::invalid_input, "a range of {} leaves has {} peaks, not {}", size,
                std::popcount(size), peaks.size());
  CompactRange range;
  range.size_ = size;
  range.peaks_ = std::move(peaks);
  return range;
}

void MerkleTree::append(const Digest& leaf) {
  if (levels_.empty()) levels_.emplace_back();
  levels_[0].push_back(leaf);
  for (size_t level = 0; levels_[level].size() % 2 == 0; ++level) {
    if (level + 1 == levels_.size()) levels_.emplace_back();
    const auto& row = levels_[level];
    levels_[level + 1].push_back(node_hash(row[row.size() - 2], row.back()));
  }
}

Digest MerkleTree::range_hash(uint64_t begin, uint64_t end) const {
  uint64_t count = end - begin;
  if (std::has_single_bit(count)) {
    auto level = static_cast<size_t>(std::countr_zero(count));
    return levels_[level][begin >> level];
  }
  uint64_t k = split_point(count);
  return node_hash(range_hash(begin, begin + k), range_hash(begin + k, end));
}

Result<Digest> MerkleTree::root(uint64_t tree_size) const {
  if (tree_size > size())
    return fail(ErrorCode::invalid_input, "tree size {} is larger than the log ({} entries)",
                tree_size, size());
  if (tree_size == 0) return empty_root();
  return range_hash(0, tree_size);
}

void MerkleTree::inclusion_path(uint64_t index, uint64_t begin, uint64_t end,
                                std::vector<Digest>& out) const {
  if (end - begin <= 1) return;
  uint64_t k = split_point(end - begin);
  if (index < begin + k) {
    inclusion_path(index, begin, begin + k, out);
    out.push_back(range_hash(begin + k, end));
  } else {
    inclusion_path(index, begin + k, end, out);
    out.push_back(range_hash(begin, begin + k));
  }
}

Result<std::vector<Digest>> MerkleTree::inclusion_proof(uint64_t leaf_index,
                                                        uint64_t tree_size) const {
  if (tree_size > size() || leaf_index >= tree_size)
    return fail(ErrorCode::invalid_input, "no entry {} in a tree of size {} (the log has {})",
                leaf_index, tree_size, size());
  std::vector<Digest> out;
  inclusion_path(leaf_index, 0, tree_size, out);
  return out;
}

void MerkleTree::multi_inclusion_path(std::span<const uint64_t> indices, uint64_t begin,
                                      uint64_t end, std::vector<Digest>& out) const {
  if (indices.empty()) {
    out.push_back(range_hash(begin, end));
    return;
  }
  if (end - begin == 1) return;
  uint64_t k = split_point(end - begin);
  auto middle = std::lower_bound(indices.begin(), indices.end(), begin + k);
  multi_inclusion_path({indices.begin(), middle}, begin, begin + k, out);
  multi_inclusion_path({middle, indices.end()}, begin + k, end, out);
}

Result<std::vector<Digest>> MerkleTree::multi_inclusion_proof(
    std::span<const uint64_t> leaf_indices, uint64_t tree_size) const {
  if (tree_size > size())
    return fail(ErrorCode::invalid_input, "tree size {} is larger than the log ({} entries)",
                tree_size, size());
  if (auto checked = check_leaf_indices(leaf_indices, std::identity(), tree_size); !checked)
    return fail(ErrorCode::invalid_input, checked.error().message);
  std::vector<Digest> out;
  multi_inclusion_path(leaf_indices, 0, tree_size, out);
  return out;
}

void MerkleTree::subproof(uint64_t old_end, uint64_t begin, uint64_t end, bool whole,
                          std::vector<Digest>& out) const {
  if (old_end == end) {
    if (!whole) out.push_back(range_hash(begin, end));
    return;
  }
  uint64_t k = split_point(end - begin);
  if (old_end <= begin + k) {
    subproof(old_end, begin, begin + k, whole, out);
    out.push_back(range_hash(begin + k, end));
  } else {
    subproof(old_end, begin + k, end, false, out);
    out.push_back(range_hash(begin, begin + k));
  }
}

Result<std::vector<Digest>> MerkleTree::consistency_proof(uint64_t old_size,
                                                          uint64_t new_size) const {
  if (new_size > size() || old_size > new_size)
    return fail(ErrorCode::invalid_input,
                "no consistency proof from size {} to {} (the log has {} entries)", old_size,
                new_size, size());
  std::vector<Digest> out;
  if (old_size > 0 && old_size < new_size) subproof(old_size, 0, new_size, true, out);
  return out;
}

Status verify_inclusion(uint64_t leaf_index, uint64_t tree_size, const Digest& leaf,
                        const std::vector<Digest>& proof, const Digest& root) {
  if (leaf_index >= tree_size)
    return make_failure(
        proof_error(fmt::format("entry {} is not in a tree of size {}", leaf_index, tree_size)));
  uint64_t fn = leaf_index, sn = tree_size - 1;
  Digest r = leaf;
  for (const auto& p : proof) {
    if (sn == 0) return make_failure(proof_error("inclusion proof is too long"));
    if ((fn & 1) || fn == sn) {
      r = node_hash(p, r);
      while (!(fn & 1) && fn != 0) fn >>= 1, sn >>= 1;
    } else {
      r = node_hash(r, p);
    }
    fn >>= 1, sn >>= 1;
  }
  if (sn != 0) return make_failure(proof_error("inclusion proof is too short"));
  if (r != root)
    return make_failure(proof_error("inclusion proof does not lead to the checkpoint's root"));
  return ok();
}

Status verify_multi_inclusion(std::span<const IndexedLeaf> leaves, uint64_t tree_size,
                              std::span<const Digest> proof, const Digest& root) {
  TRY(check_leaf_indices(
      leaves, [](const IndexedLeaf& leaf) { return leaf.first; }, tree_size));
  size_t next = 0;
  auto folded = TRY(fold_multi_inclusion(leaves, 0, tree_size, proof, next));
  if (next != proof.size())
    return make_failure(proof_error("multi-leaf inclusion proof is too long"));
  if (folded != root)
    return make_failure(
        proof_error("multi-leaf inclusion proof does not lead to the checkpoint's root"));
  return ok();
}

Status verify_consistency(uint64_t old_size, uint64_t new_size, const Digest& old_root,
                          const Digest& new_root, const std::vector<Digest>& proof) {
  if (old_size > new_size)
    return make_failure(proof_error(
        fmt::format("the older tree ({}) is larger than the newer one ({})", old_size, new_size)));
  if (old_size == new_size || old_size == 0) {
    if (!proof.empty()) return make_failure(proof_error("consistency proof should be empty"));
    if (old_size == new_size && old_root != new_root)
      return make_failure(proof_error("two different roots for the same tree size"));
    return ok();
  }
  if (proof.empty()) return make_failure(proof_error("consistency proof is empty"));
  std::vector<Digest> path;
  if (std::has_single_bit(old_size)) path.push_back(old_root);
  path.insert(path.end(), proof.begin(), proof.end());
  uint64_t fn = old_size - 1, sn = new_size - 1;
  while (fn & 1) fn >>= 1, sn >>= 1;
  Digest fr = path[0], sr = path[0];
  for (size_t i = 1; i < path.size(); ++i) {
    const auto& c = path[i];
    if (sn == 0) return make_failure(proof_error("consistency proof is too long"));
    if ((fn & 1) || fn == sn) {
      fr = node_hash(c, fr);
      sr = node_hash(c, sr);
      while (!(fn & 1) && fn != 0) fn >>= 1, sn >>= 1;
    } else {
      sr = node_hash(sr, c);
    }
    fn >>= 1, sn >>= 1;
  }
  if (sn != 0) return make_failure(proof_error("consistency proof is too short"));
  if (fr != old_root)
    return make_failure(proof_error("consistency proof does not reproduce the older root"));
  if (sr != new_root)
    return make_failure(proof_error("consistency proof does not lead to the newer root"));
  return ok();
}

}  // namespace opdbus::ledger
