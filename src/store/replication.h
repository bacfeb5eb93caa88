// Replication of snapshots to another BTRFS filesystem with the kernel's send/receive.
// A replication stream is a sequence of records, each a header line
// "opdbus-send 1 KIND NAME PARENT\n" (KIND state or ledger, PARENT "-" for a full send) followed
// by one BTRFS send stream ending in its END command; the stream closes with "opdbus-send end\n".
// Sending is BTRFS_IOC_SEND on read-only snapshots, incremental against a parent both sides
// have; receiving applies each send stream with libbtrfs's stream parser into a new subvolume,
// marks it received (BTRFS_IOC_SET_RECEIVED_SUBVOL) and read-only, and only then gives it its
// name, so a replica never shows a half-received snapshot. The replica's ledger/ is a symlink to
// its newest received ledger snapshot, so `op-dbus --state-dir REPLICA ledger verify` works.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "store/state_store.h"

namespace opdbus::store {

struct SendItem {
  std::string kind;  // "state" or "ledger"
  std::string name;
  std::string parent;  // empty: a full send
};

// A read-only snapshot of ledger/ under .snapshots-ledger/ (call with the ledger lock held).
Result<std::string> snapshot_ledger(const StateStore& store, TimePoint time);
// What to send so that `replica` (or, with none, an empty receiver) gets every snapshot:
// incremental against the newest snapshot the replica already has.
Result<std::vector<SendItem>> plan_send(const StateStore& store,
                                        const std::optional<std::filesystem::path>& replica);
Status send_stream(const StateStore& store, const std::vector<SendItem>& items, int fd);
// Deletes all but the newest ledger snapshot (the parent of the next incremental send).
void prune_ledger_snapshots(const StateStore& store);
// Receives a stream into `replica` (a directory on BTRFS); returns the names received.
Result<std::vector<std::string>> receive_stream(const std::filesystem::path& replica, int fd);

}  // namespace opdbus::store
