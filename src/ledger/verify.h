// Offline verification of a ledger, from its directory or from an export: recomputes every block
// hash, the hash chain, the Merkle root, and the checkpoint signatures, and checks the ledger
// against older checkpoints an auditor kept (consistency: nothing removed or rewritten).
// Invariants: verification trusts nothing derived (head.json is checked against the blocks, never
// used); the first failure stops it and names the height and what is wrong; it never writes.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "base/mapped_file.h"
#include "ledger/checkpoint.h"
#include "ledger/merkle.h"

namespace opdbus::ledger {

// The bytes of a ledger as found on disk or in an export file.
struct LedgerData {
  MappedFile mapping;               // keeps `blocks` alive
  std::string_view blocks;          // block lines
  std::string checkpoint;           // signed note
  std::string public_key;           // verifier key text
  std::optional<std::string> head;  // head.json, for a local ledger
  std::string source;               // for messages
};

Result<LedgerData> load_local_ledger(const std::filesystem::path& state_dir);
Result<LedgerData> load_export(const std::filesystem::path& file);
// Writes an export (a header line with key and checkpoint, then the block lines) to `fd`.
Status write_export(const LedgerData& data, int fd);

struct VerifyOptions {
  std::optional<VerifierKey> trusted_key;      // else the ledger's own ledger.pub
  std::vector<std::string> known_checkpoints;  // signed notes an auditor kept earlier
};

struct VerifyReport {
  uint64_t blocks = 0;
  Checkpoint checkpoint;
  std::string key;
  std::vector<std::string> notes;  // what was checked beyond the basics, and caveats
};

// Fails with ErrorCode::verify_failed, naming the first bad height, when anything does not hold.
Result<VerifyReport> verify_ledger(const LedgerData& data, const VerifyOptions& options);

// Splits block bytes into complete lines (an unterminated tail is left out).
std::vector<std::string_view> block_lines(std::string_view blocks);
// The Merkle tree over all complete blocks.
MerkleTree build_tree(std::string_view blocks);

}  // namespace opdbus::ledger
