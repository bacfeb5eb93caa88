// libFuzzer target for the ledger's verifiers: the block reader and chain/Merkle/signature
// verification (fed whole replacement ledgers, checkpoints, or byte edits of a genuine ledger)
// and the inclusion, multi-leaf inclusion and consistency proof verifiers. It must never crash, and
// it must never accept anything but the genuine data: every acceptance is checked against the
// original.
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>

#include "base/fs.h"
#include "ledger/ledger.h"
#include "ledger/verify.h"

using namespace opdbus;
using namespace opdbus::ledger;

namespace {

constexpr uint64_t kBlocks = 6;

struct Fixture {
  std::string blocks, checkpoint, public_key;
  MerkleTree tree;
  Checkpoint signed_checkpoint;
  std::optional<VerifierKey> key;
};

Fixture build_fixture() {
  auto dir = std::filesystem::temp_directory_path() / ("opdbus-fuzz-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  auto ledger =
      Ledger::open(dir, "cli", [] { return TimePoint(std::chrono::seconds(1790000000)); });
  if (!ledger) std::abort();
  for (uint64_t i = 0; i < kBlocks; ++i) {
    BlockDraft draft;
    draft.action = "apply";
    draft.plugins = {"net"};
    draft.after = {{"net", {{"mtu", 1400 + i}, {"name", "br\u00e9" + std::to_string(i)}}}};
    if (!(*ledger)->append(draft)) std::abort();
  }
  Fixture fixture{*read_file(dir / "ledger/blocks.jsonl"),
                  *read_file(dir / "ledger/checkpoint"),
                  *read_file(dir / "ledger/ledger.pub"),
                  {},
                  {},
                  (*ledger)->verifier()};
  fixture.tree = build_tree(fixture.blocks);
  fixture.signed_checkpoint = *open_checkpoint(fixture.checkpoint, *fixture.key);
  std::filesystem::remove_all(dir);
  return fixture;
}

const Fixture& fixture() {
  static const Fixture built = build_fixture();
  return built;
}

bool verifies(const std::string& blocks, const std::string& checkpoint) {
  LedgerData data;
  data.blocks = blocks;
  data.checkpoint = checkpoint;
  data.public_key = fixture().public_key;
  VerifyOptions options;
  options.trusted_key = *fixture().key;
  return verify_ledger(data, options).has_value();
}

std::vector<Digest> digests(const uint8_t* data, size_t size) {
  std::vector<Digest> out(size / 32);
  for (size_t i = 0; i < out.size(); ++i)
    std::copy(data + 32 * i, data + 32 * i + 32, out[i].begin());
  return out;
}

void require(bool condition) {
  if (!condition) std::abort();
}

}  // namespace

// With OPDBUS_FUZZ_SEEDS=DIR, writes the genuine ledger, checkpoint and proofs there as seeds, so
// that the fuzzer starts from valid data and explores the edges of acceptance.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  const char* seeds = std::getenv("OPDBUS_FUZZ_SEEDS");
  if (!seeds) return 0;
  const auto& f = fixture();
  auto write_seed = [&](const std::string& name, char mode, const std::string& body) {
    (void)write_file_atomic(std::filesystem::path(seeds) / name, std::string(1, mode) + body);
  };
  write_seed("ledger", 0, f.blocks);
  write_seed("checkpoint", 1, f.checkpoint);
  write_seed("edits", 2, std::string("\0\x10\x01", 3));
  std::string inclusion = {3, 2, 6}, consistency = {4, 3};
  auto inclusion_proof = *f.tree.inclusion_proof(2, kBlocks);
  auto consistency_proof = *f.tree.consistency_proof(3, kBlocks);
  for (const auto& digest : inclusion_proof) inclusion.append(digest.begin(), digest.end());
  for (const auto& digest : consistency_proof) consistency.append(digest.begin(), digest.end());
  write_seed("inclusion", 3, inclusion.substr(1));
  write_seed("consistency", 4, consistency.substr(1));
  std::string multi = {0b010110, kBlocks};
  auto multi_proof = *f.tree.multi_inclusion_proof(std::vector<uint64_t>{1, 2, 4}, kBlocks);
  for (const auto& digest : multi_proof) multi.append(digest.begin(), digest.end());
  write_seed("multi-inclusion", 5, multi);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto& f = fixture();
  if (size < 1) return 0;
  std::string rest(reinterpret_cast<const char*>(data + 1), size - 1);
  switch (data[0] % 6) {
    case 0:  // a whole replacement ledger
      if (verifies(rest, f.checkpoint)) require(rest == f.blocks);
      break;
    case 1:  // a replacement checkpoint
      if (verifies(f.blocks, rest)) {
        auto opened = open_checkpoint(rest, *f.key);
        require(opened && opened->size == kBlocks && opened->root == f.signed_checkpoint.root);
      }
      break;
    case 2: {  // byte edits (offset, xor) of the genuine ledger
      auto edited = f.blocks;
      for (size_t i = 0; i + 3 <= rest.size(); i += 3) {
        size_t offset = (uint8_t(rest[i]) << 8 | uint8_t(rest[i + 1])) % edited.size();
        edited[offset] = static_cast<char>(edited[offset] ^ rest[i + 2]);
      }
      if (verifies(edited, f.checkpoint)) require(edited == f.blocks);
      break;
    }
    case 3: {  // an inclusion proof for (index, size), checked against that size's root
      // A root only means something with its size (a signed checkpoint binds both): RFC 9162
      // proofs for different sizes can share a path, so the root is always the claimed size's.
      if (size < 3) return 0;
      uint64_t index = data[1] % 8, tree_size = data[2] % 8;
      auto proof = digests(data + 3, size - 3);
      auto leaf = index < kBlocks ? f.tree.leaf(index) : Digest{};
      auto root = tree_size <= kBlocks ? *f.tree.root(tree_size) : Digest{};
      if (verify_inclusion(index, tree_size, leaf, proof, root))
        require(tree_size <= kBlocks && proof == *f.tree.inclusion_proof(index, tree_size));
      break;
    }
    case 4: {  // a consistency proof from size m to the signed size
      if (size < 2) return 0;
      uint64_t old_size = data[1] % 8;
      auto old_root = old_size <= kBlocks ? *f.tree.root(old_size) : Digest{};
      auto proof = digests(data + 2, size - 2);
      if (verify_consistency(old_size, kBlocks, old_root, f.signed_checkpoint.root, proof))
        require(old_size <= kBlocks && proof == *f.tree.consistency_proof(old_size, kBlocks));
      break;
    }
    case 5: {  // a multi-leaf inclusion proof of the leaves in a bit mask, for a size
      if (size < 3) return 0;
      uint64_t tree_size = data[2] % 8;
      std::vector<uint64_t> indices;
      std::vector<IndexedLeaf> leaves;
      for (uint64_t index = 0; index < 8; ++index)
        if (data[1] >> index & 1) {
          indices.push_back(index);
          leaves.emplace_back(index, index < kBlocks ? f.tree.leaf(index) : Digest{});
        }
      auto proof = digests(data + 3, size - 3);
      auto root = tree_size <= kBlocks ? *f.tree.root(tree_size) : Digest{};
      if (verify_multi_inclusion(leaves, tree_size, proof, root))
        require(tree_size <= kBlocks && proof == *f.tree.multi_inclusion_proof(indices, tree_size));
      break;
    }
  }
  return 0;
}
