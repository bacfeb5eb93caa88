// The vector store under STATE_DIR/vectors (a BTRFS subvolume when the state dir is on BTRFS):
// embeddings with their metadata (plugin, resource, source, ledger height, time, whether they are
// part of the baseline of normal states). Vectors are appended to active.f32; every
// kSegmentVectors they are sealed into a zstd-compressed segment (segments/NNNNNN.zst); the
// metadata lives in index.sqlite (WAL, synchronous=FULL).
// Invariants (crash safety, like the ledger): a vector is on disk (fdatasync) before its row is
// committed, so a row never points at a missing vector; at open, vectors of active.f32 without a
// row (a crash between the two) are cut off; a segment is complete before rows point at it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "base/result.h"
#include "base/sqlite.h"
#include "base/unique_fd.h"
#include "ml/structural.h"

namespace opdbus::ml {

struct VectorRecord {
  int64_t id = 0;
  std::string plugin;
  std::string resource;  // "" for the plugin's whole state
  std::string source;    // apply, drift, reconcile, sample, scan
  uint64_t height = 0;   // the ledger's size when recorded
  std::string time;      // RFC 3339 UTC
  bool baseline = false;
  bool anomalous = false;
};

struct StoredVector {
  VectorRecord record;
  Vector vector;
};

class VectorStore {
 public:
  static constexpr size_t kSegmentVectors = 4096;

  // `segment_vectors`: how many vectors a sealed segment holds (smaller in tests).
  static Result<VectorStore> open(const std::filesystem::path& directory,
                                  size_t segment_vectors = kSegmentVectors);

  Result<int64_t> append(const VectorRecord& record, const Vector& vector);
  // Several at once: one write, one fdatasync, one transaction; their ids in order.
  Result<std::vector<int64_t>> append(const std::vector<StoredVector>& items);
  // Every vector of `plugin` (all plugins when empty), in order; only the baseline, or only the
  // anomalies, when asked.
  enum class Subset { all, baseline, anomalies };
  Result<std::vector<StoredVector>> load(const std::string& plugin, Subset subset);
  Status set_baseline(int64_t id, bool baseline);
  // Removes `plugin`'s vectors (all when empty) from the baseline; returns how many.
  Result<int64_t> clear_baseline(const std::string& plugin);
  // Baseline sizes by "plugin/resource".
  Result<std::map<std::string, int64_t>> baseline_counts();
  Result<int64_t> count();

 private:
  VectorStore(std::filesystem::path directory, Database db, UniqueFd active, size_t segment_vectors)
      : directory_(std::move(directory)),
        db_(std::move(db)),
        active_(std::move(active)),
        segment_vectors_(static_cast<int64_t>(segment_vectors)) {}
  Status recover();
  Result<std::vector<int64_t>> insert_rows(const std::vector<StoredVector>& items);
  Status seal_active();
  Result<std::vector<float>> read_segment(int64_t segment);

  std::filesystem::path directory_;
  Database db_;
  UniqueFd active_;
  int64_t segment_vectors_;
  int64_t active_count_ = 0;
};

}  // namespace opdbus::ml
