// Checkpoints on disk under STATE_DIR/checkpoints: `last.json` is the checkpoint of the most
// recent apply (what `rollback` undoes); `pending.json` exists only while an apply made with
// --no-commit awaits `commit`. Both are written before the host is changed, crash-safely, so a
// killed apply can still be rolled back. Callers hold STATE_DIR/lock while using the store.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "base/fs.h"
#include "base/json_util.h"
#include "base/result.h"
#include "plugin/plugin.h"

namespace opdbus {

struct CheckpointRecord {
  std::string id;
  std::string created;   // RFC 3339 UTC
  std::string netns;     // namespace the checkpoint belongs to
  std::string status;    // "applying", "applied", "awaiting-commit", "committed", "rolled-back"
  int64_t deadline = 0;  // unix seconds when an uncommitted change reverts; 0 for none
  int watchdog_pid = 0;
  std::vector<Snapshot> snapshots;
  std::string state_snapshot;  // the newest state snapshot before the change (kept while pending)

  Json to_json() const;
  static Result<CheckpointRecord> from_json(const Json& json);
};

class CheckpointStore {
 public:
  explicit CheckpointStore(std::filesystem::path state_dir);
  Status prepare() const;
  Result<FileLock> lock() const;

  Result<std::optional<CheckpointRecord>> load_pending() const;
  Status save_pending(const CheckpointRecord& record) const;
  Status clear_pending() const;
  Result<std::optional<CheckpointRecord>> load_last() const;
  Status save_last(const CheckpointRecord& record) const;

 private:
  Result<std::optional<CheckpointRecord>> load(const std::filesystem::path& path) const;
  std::filesystem::path state_dir_;
  std::filesystem::path directory_;
};

std::string new_checkpoint_id();
std::string rfc3339_utc(int64_t unix_seconds);

}  // namespace opdbus
