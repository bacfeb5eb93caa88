// Offline verification of a ledger, from its directory or from an export: recomputes every block
// hash, the hash chain, the Merkle root, and the checkpoint signatures, and checks the ledger
// against older checkpoints an auditor kept (consistency: nothing removed or rewritten).
// Invariants: verification trusts nothing derived (head.json is checked against the blocks, never
// used); the first failure stops it and names the height and what is wrong; it never writes.
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "base/json_util.h"
#include "base/mapped_file.h"
#include "base/unique_fd.h"
#include "ledger/checkpoint.h"
#include "ledger/merkle.h"

namespace opdbus::ledger {

// The bytes of a ledger as found on disk or in an export file.
struct LedgerData {
  UniqueFd lock;                     // a shared lock on ledger/lock for a local ledger
  std::vector<MappedFile> mappings;  // keep the views alive
  std::vector<std::pair<std::string, std::string_view>> segments;  // sealed, oldest first
  std::string_view blocks;          // the current segment: an optional anchor line, then blocks
  std::string checkpoint;           // signed note
  std::string public_key;           // verifier key text
  std::optional<std::string> head;  // head.json, for a local ledger
  std::string source;               // for messages
};

Result<LedgerData> load_local_ledger(const std::filesystem::path& state_dir);
Result<LedgerData> load_export(const std::filesystem::path& file);
// Writes an export to `fd`: a header line with key and checkpoint, then every block present as
// one segment (sealed segments joined; led by the anchor when older ones are archived).
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

// Splits a segment's bytes into complete block lines (the anchor line and an unterminated tail
// are left out).
std::vector<std::string_view> block_lines(std::string_view blocks);
// Every block present, sealed segments first; `first` is the height of lines[0] (above 0 when
// older segments were archived away).
struct BlockIndex {
  uint64_t first = 0;
  std::vector<std::string_view> lines;
};
BlockIndex index_blocks(const LedgerData& data);
// The height of the first block present (0 unless older segments were archived away).
uint64_t first_height(const LedgerData& data);
// The block at `height`, or an invalid_input error saying why there is none.
Result<std::string_view> block_at(const BlockIndex& index, uint64_t height);

// A block line as JSON, with its hash ("hash": hex SHA-256 of the line) added.
Result<Json> parse_block(std::string_view line);
// Up to `count` blocks, newest first, that `keep` accepts.
Result<std::vector<Json>> newest_blocks(const LedgerData& data, size_t count,
                                        const std::function<bool(const Json&)>& keep);
// The local ledger's verification as a report: {"ok", "blocks", "checkpoint_time", "notes"} or
// {"ok": false, "error"} (for the D-Bus and MCP interfaces).
Result<Json> verify_summary(const std::filesystem::path& state_dir);
Json verify_summary(const LedgerData& data);
// The Merkle tree over the blocks of a segment that starts at genesis, or of a whole index
// (which must then start at height 0).
MerkleTree build_tree(std::string_view blocks);
Result<MerkleTree> build_tree(const BlockIndex& index);

// Proofs as JSON documents anyone can check offline against a signed checkpoint: that the block
// at `height` is in the tree of `size` blocks (default: all), or that the tree of `old_size`
// blocks is a prefix of it. The signed checkpoint is included when it is that tree's.
Result<Json> inclusion_proof_json(const LedgerData& data, uint64_t height,
                                  std::optional<uint64_t> size);
Result<Json> consistency_proof_json(const LedgerData& data, uint64_t old_size,
                                    std::optional<uint64_t> size);

}  // namespace opdbus::ledger
