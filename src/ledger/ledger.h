// The append-only ledger on disk (STATE_DIR/ledger/): blocks.jsonl holds one canonical block per
// line and is the only source of truth; checkpoint is the latest signed C2SP checkpoint; head.json
// caches the tail (size, offsets, last hash, Merkle peaks) so that opening is O(1); ledger.pub is
// the verifier key. The Ed25519 private key is STATE_DIR/ledger.key (mode 0600), outside ledger/
// so that snapshots and replicas never carry it. `ledger seal` moves the blocks so far into
// segments/FIRST-LAST.jsonl and starts blocks.jsonl with an anchor line (the tail of the tree at
// the seal and the checkpoint signed there), so the current segment verifies on its own once
// sealed segments are archived; the ledger is never pruned from the middle.
// Invariants:
//  - append() returns only after the block is fdatasync'ed and a checkpoint covering it is
//    written; a kill -9 at any point loses no block whose append returned;
//  - appenders in any number of threads group-commit (one fdatasync per group); appenders in
//    other processes are serialised by flock on ledger/lock and catch up on what others wrote;
//  - head.json and checkpoint are derived: on open they are trusted only when they agree with
//    the blocks, else rebuilt by a full scan;
//  - a torn tail (bytes after the last valid block) is moved to torn-OFFSET.bin and truncated
//    only when it is unacknowledged (beyond the last signed checkpoint, or an unterminated final
//    line), and the repair is recorded as a block; damage inside signed history is never
//    truncated: appending then fails and verify names the height.
#pragma once

#include <condition_variable>
#include <deque>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>

#include "base/clock.h"
#include "base/unique_fd.h"
#include "ledger/block.h"
#include "ledger/checkpoint.h"
#include "ledger/merkle.h"
#include "ledger/signed_note.h"

namespace opdbus::ledger {

struct LedgerFiles {
  explicit LedgerFiles(const std::filesystem::path& state_dir);
  std::filesystem::path dir, blocks, head, checkpoint, public_key, lock, private_key, segments;
};

// The tail of the ledger: enough to append and to sign the next checkpoint.
struct Head {
  uint64_t size = 0;
  uint64_t end = 0;          // bytes of blocks.jsonl that hold valid blocks
  uint64_t last_offset = 0;  // where the last block starts
  Digest last = kGenesisPrev;
  CompactRange range;
};

// The first line of every segment after the first.
struct Anchor {
  Head head;               // size, last hash and peaks at the seal; end: the anchor line's length
  std::string checkpoint;  // the signed checkpoint at head.size
};
std::string anchor_line(const Head& head, const std::string& checkpoint);
// The anchor `data` starts with, if any (not yet checked against a key).
Result<std::optional<Anchor>> parse_anchor(std::string_view data);
// The anchor's checkpoint is signed by `key`, at the anchor's size, over the anchor's peaks.
Status check_anchor(const Anchor& anchor, const VerifierKey& key);

class Ledger {
 public:
  // `interface` is recorded as the actor's interface on blocks the ledger writes itself (repairs).
  static Result<std::unique_ptr<Ledger>> open(const std::filesystem::path& state_dir,
                                              std::string interface, Clock clock = system_clock());
  ~Ledger();
  // Appends one block; returns its height. Thread-safe; concurrent callers share an fdatasync.
  Result<uint64_t> append(BlockDraft draft);
  // Appends several blocks in one group (consecutive heights); returns their heights. A draft
  // that cannot be encoded fails alone; the others are still appended.
  std::vector<Result<uint64_t>> append_all(std::vector<BlockDraft> drafts);
  const VerifierKey& verifier() const { return key_.verifier(); }
  // Blocks in the ledger (the next block's height).
  uint64_t size() const;
  // Seals every block so far into a read-only segment file and starts a new segment anchored
  // at the last signed checkpoint; recorded as a ledger.seal block. Returns the segment's name.
  Result<std::string> seal();

 private:
  struct Pending;
  Ledger(LedgerFiles files, SigningKey key, UniqueFd blocks, UniqueFd head, UniqueFd lock,
         Clock clock, std::string interface);
  Status recover();
  Status catch_up();
  Status follow_seal();
  Status undo_interrupted_seal();
  Status repair_tail(std::string_view data, const Error& reason);
  Result<std::optional<Checkpoint>> read_signed_checkpoint() const;
  Status check_against_checkpoint(const Checkpoint& checkpoint, const Digest& root_at_size) const;
  std::vector<Pending*> take_batch(std::unique_lock<std::mutex>& lock);
  void commit_batch(const std::vector<Pending*>& batch);
  Status write_batch(const std::vector<Pending*>& batch);
  Status publish();
  Result<std::string> seal_segment();
  Result<Head> initial_head(std::string_view data) const;

  LedgerFiles files_;
  SigningKey key_;
  UniqueFd blocks_fd_;
  UniqueFd head_fd_;  // rewritten in place under the lock; readers take the lock shared
  UniqueFd lock_fd_;
  Clock clock_;
  std::string interface_;
  Head head_;
  std::optional<BlockDraft> repair_record_;
  mutable std::mutex mutex_;
  std::condition_variable done_;
  std::condition_variable arrived_;
  std::deque<Pending*> queue_;
  bool leader_active_ = false;
  size_t last_batch_size_ = 0;
};

// Scans `data` (the bytes of blocks.jsonl) from head.end, appending every valid block that
// continues the chain to `head`. Returns the reason it stopped early, if it did. When the scan
// passes `mark_size` blocks, the root at that size is stored in `mark_root`.
std::optional<Error> scan_blocks(std::string_view data, Head& head, uint64_t mark_size = 0,
                                 Digest* mark_root = nullptr);

// head.json's exact text for `head`.
std::string head_text(const Head& head);

// The origin (and key name) of a new ledger on this host: "op-dbus/HOSTNAME".
std::string default_origin();

}  // namespace opdbus::ledger
