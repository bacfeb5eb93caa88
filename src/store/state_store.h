// The state directory's storage: subvolumes ledger/, state/ and vectors/ when it is on BTRFS
// (plain directories elsewhere), state/ holding the current state of each plugin, and read-only
// snapshots of state/ under .snapshots/ taken after every change (libbtrfsutil snapshots on
// BTRFS; copies elsewhere, made read-only, with the same names and behaviour).
// Invariants: a snapshot is complete or absent (built under a temporary name, then renamed);
// snapshot names are "YYYYMMDDTHHMMSSZ" UTC with "-N" appended when a second is taken twice, so
// names sort by time; nothing outside .snapshots/ is ever deleted here.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/json_util.h"
#include "base/result.h"

namespace opdbus::store {

struct SnapshotInfo {
  std::string name;
  TimePoint time;
  Json meta;  // {"time", "reason", "ledger_size", "checkpoint"} as written when it was taken
};

class StateStore {
 public:
  // Creates the layout if missing (subvolumes on BTRFS).
  static Result<StateStore> open(const std::filesystem::path& state_dir);
  bool on_btrfs() const { return btrfs_; }
  std::filesystem::path state_path() const { return state_dir_ / "state"; }
  std::filesystem::path snapshots_path() const { return state_dir_ / ".snapshots"; }

  // Replaces state/<plugin>.json for every plugin in {"plugins": {...}} and state/meta.json.
  Status write_state(const Json& document, const Json& meta);
  Result<SnapshotInfo> take_snapshot(TimePoint time);
  Result<std::vector<SnapshotInfo>> list_snapshots() const;
  Status delete_snapshot(const std::string& name);
  // The state document {"version":1,"plugins":{...}} a snapshot holds.
  Result<Json> snapshot_state(const std::string& name) const;

 private:
  StateStore(std::filesystem::path state_dir, bool btrfs)
      : state_dir_(std::move(state_dir)), btrfs_(btrfs) {}
  Status ensure_volume(const std::filesystem::path& path) const;
  Status copy_snapshot(const std::filesystem::path& temp) const;

  std::filesystem::path state_dir_;
  bool btrfs_ = false;
};

// "20261125T010203Z" for a time; parse_snapshot_time accepts such names with any "-N" suffix.
std::string snapshot_stamp(TimePoint time);
std::optional<TimePoint> parse_snapshot_time(const std::string& name);

}  // namespace opdbus::store
