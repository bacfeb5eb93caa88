// The vector store; see store.h.
#include "ml/store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include <algorithm>
#include <cstring>

#include "base/fs.h"

namespace opdbus::ml {
namespace {

constexpr size_t kVectorBytes = kDimensions * sizeof(float);
constexpr int kCompressionLevel = 3;
constexpr const char* kSchema = R"(
PRAGMA journal_mode = WAL;
PRAGMA synchronous = FULL;
CREATE TABLE IF NOT EXISTS vectors(id INTEGER PRIMARY KEY AUTOINCREMENT, plugin TEXT, resource TEXT,
  source TEXT, height INTEGER, time TEXT, segment INTEGER, position INTEGER, baseline INTEGER,
  anomalous INTEGER);
CREATE INDEX IF NOT EXISTS vectors_by_plugin ON vectors(plugin, resource);
)";

std::filesystem::path segment_path(const std::filesystem::path& directory, int64_t segment) {
  return directory / "segments" / fmt::format("{:06}.zst", segment);
}

Result<int64_t> single_integer(Database& db, const std::string& sql) {
  auto query = TRY(db.prepare(sql));
  if (!TRY(query.step())) return int64_t{0};
  return query.integer(0);
}

}  // namespace

Result<VectorStore> VectorStore::open(const std::filesystem::path& directory,
                                      size_t segment_vectors) {
  TRY(ensure_directory(directory, 0700));
  TRY(ensure_directory(directory / "segments", 0700));
  auto db = TRY(Database::open(directory / "index.sqlite"));
  TRY(db.run(kSchema));
  auto active_path = directory / "active.f32";
  int fd = ::open(active_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return fail(ErrorCode::io, "open {}: {}", active_path.string(), errno_text(errno));
  VectorStore store(directory, std::move(db), UniqueFd(fd), std::max<size_t>(segment_vectors, 1));
  TRY(store.recover());
  return store;
}

// Cuts active.f32 to the vectors that have rows (a crash may leave one written but unrecorded).
Status VectorStore::recover() {
  active_count_ = TRY(single_integer(db_, "SELECT COUNT(*) FROM vectors WHERE segment = 0"));
  struct stat info {};
  if (::fstat(active_.get(), &info) != 0) return fail(ErrorCode::io, "stat active.f32");
  auto recorded = static_cast<off_t>(active_count_ * static_cast<int64_t>(kVectorBytes));
  if (info.st_size < recorded)
    return fail(ErrorCode::io, "{}/active.f32 is shorter than its index says", directory_.string());
  if (info.st_size > recorded && ::ftruncate(active_.get(), recorded) != 0)
    return fail(ErrorCode::io, "truncate active.f32: {}", errno_text(errno));
  return ok();
}

Result<int64_t> VectorStore::append(const VectorRecord& record, const Vector& vector) {
  auto ids = TRY(append({{record, vector}}));
  return ids.front();
}

Result<std::vector<int64_t>> VectorStore::append(const std::vector<StoredVector>& items) {
  if (items.empty()) return std::vector<int64_t>{};
  std::vector<float> rows;
  rows.reserve(items.size() * kDimensions);
  for (const auto& item : items) rows.insert(rows.end(), item.vector.begin(), item.vector.end());
  auto offset = static_cast<off_t>(active_count_ * static_cast<int64_t>(kVectorBytes));
  auto bytes = rows.size() * sizeof(float);
  if (::pwrite(active_.get(), rows.data(), bytes, offset) != static_cast<ssize_t>(bytes) ||
      ::fdatasync(active_.get()) != 0)
    return fail(ErrorCode::io, "write {}/active.f32: {}", directory_.string(), errno_text(errno));
  TRY(db_.run("BEGIN IMMEDIATE"));
  auto inserted = insert_rows(items);
  if (!inserted) {
    (void)db_.run("ROLLBACK");
    return make_failure(inserted.error());
  }
  TRY(db_.run("COMMIT"));
  active_count_ += static_cast<int64_t>(items.size());
  if (active_count_ >= segment_vectors_) TRY(seal_active());
  return inserted;
}

Result<std::vector<int64_t>> VectorStore::insert_rows(const std::vector<StoredVector>& items) {
  auto insert = TRY(db_.prepare(
      "INSERT INTO vectors(plugin, resource, source, height, time, segment, position, baseline, "
      "anomalous) VALUES (?, ?, ?, ?, ?, 0, ?, ?, ?)"));
  std::vector<int64_t> ids;
  for (size_t i = 0; i < items.size(); ++i) {
    const auto& record = items[i].record;
    TRY(insert.bind(1, record.plugin));
    TRY(insert.bind(2, record.resource));
    TRY(insert.bind(3, record.source));
    TRY(insert.bind(4, static_cast<int64_t>(record.height)));
    TRY(insert.bind(5, record.time));
    TRY(insert.bind(6, active_count_ + static_cast<int64_t>(i)));
    TRY(insert.bind(7, int64_t{record.baseline}));
    TRY(insert.bind(8, int64_t{record.anomalous}));
    TRY(insert.step());
    ids.push_back(TRY(single_integer(db_, "SELECT last_insert_rowid()")));
  }
  return ids;
}

// Compresses active.f32 into the next segment, points its rows there, then empties it.
Status VectorStore::seal_active() {
  auto segment = TRY(single_integer(db_, "SELECT COALESCE(MAX(segment), 0) + 1 FROM vectors"));
  std::vector<char> raw(static_cast<size_t>(active_count_) * kVectorBytes);
  if (::pread(active_.get(), raw.data(), raw.size(), 0) != static_cast<ssize_t>(raw.size()))
    return fail(ErrorCode::io, "read active.f32: {}", errno_text(errno));
  std::string compressed(ZSTD_compressBound(raw.size()), '\0');
  auto size = ZSTD_compress(compressed.data(), compressed.size(), raw.data(), raw.size(),
                            kCompressionLevel);
  if (ZSTD_isError(size)) return fail(ErrorCode::internal, "zstd: {}", ZSTD_getErrorName(size));
  compressed.resize(size);
  TRY(write_file_atomic(segment_path(directory_, segment), compressed, 0600));
  TRY(db_.run(fmt::format("UPDATE vectors SET segment = {} WHERE segment = 0", segment)));
  if (::ftruncate(active_.get(), 0) != 0 || ::fdatasync(active_.get()) != 0)
    return fail(ErrorCode::io, "truncate active.f32: {}", errno_text(errno));
  active_count_ = 0;
  return ok();
}

Result<std::vector<float>> VectorStore::read_segment(int64_t segment) {
  if (segment == 0) {
    std::vector<float> rows(static_cast<size_t>(active_count_) * kDimensions);
    auto bytes = rows.size() * sizeof(float);
    if (::pread(active_.get(), rows.data(), bytes, 0) != static_cast<ssize_t>(bytes))
      return fail(ErrorCode::io, "read active.f32: {}", errno_text(errno));
    return rows;
  }
  auto compressed = TRY(read_file(segment_path(directory_, segment)));
  auto size = ZSTD_getFrameContentSize(compressed.data(), compressed.size());
  if (size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN || size % kVectorBytes)
    return fail(ErrorCode::io, "segment {} is damaged", segment);
  std::vector<float> rows(size / sizeof(float));
  auto got = ZSTD_decompress(rows.data(), size, compressed.data(), compressed.size());
  if (ZSTD_isError(got) || got != size)
    return fail(ErrorCode::io, "segment {} is damaged", segment);
  return rows;
}

Result<std::vector<StoredVector>> VectorStore::load(const std::string& plugin, Subset subset) {
  auto query = TRY(db_.prepare(
      "SELECT id, plugin, resource, source, height, time, segment, position, baseline, anomalous "
      "FROM vectors WHERE (?1 = '' OR plugin = ?1) AND (?2 = 0 OR (?2 = 1 AND baseline = 1) OR "
      "(?2 = 2 AND anomalous = 1)) ORDER BY id"));
  TRY(query.bind(1, plugin));
  TRY(query.bind(2, static_cast<int64_t>(subset)));
  std::vector<StoredVector> out;
  int64_t loaded_segment = -1;
  std::vector<float> rows;
  while (TRY(query.step())) {
    auto segment = query.integer(6), position = query.integer(7);
    if (segment != loaded_segment) {
      rows = TRY(read_segment(segment));
      loaded_segment = segment;
    }
    if (static_cast<size_t>(position + 1) * kDimensions > rows.size())
      return fail(ErrorCode::io, "vector {} is missing from segment {}", query.integer(0), segment);
    StoredVector item{{query.integer(0), query.text(1), query.text(2), query.text(3),
                       static_cast<uint64_t>(query.integer(4)), query.text(5),
                       query.integer(8) != 0, query.integer(9) != 0},
                      {}};
    std::memcpy(item.vector.data(), rows.data() + position * kDimensions, kVectorBytes);
    out.push_back(std::move(item));
  }
  return out;
}

Status VectorStore::set_baseline(int64_t id, bool baseline) {
  return db_.run(fmt::format("UPDATE vectors SET baseline = {} WHERE id = {}", int{baseline}, id));
}

Result<int64_t> VectorStore::clear_baseline(const std::string& plugin) {
  auto update = TRY(db_.prepare(
      "UPDATE vectors SET baseline = 0 WHERE baseline = 1 AND (?1 = '' OR plugin = ?1)"));
  TRY(update.bind(1, plugin));
  TRY(update.step());
  return single_integer(db_, "SELECT changes()");
}

Result<std::map<std::string, int64_t>> VectorStore::baseline_counts() {
  auto query =
      TRY(db_.prepare("SELECT plugin, resource, COUNT(*) FROM vectors WHERE baseline = 1 GROUP BY "
                      "plugin, resource"));
  std::map<std::string, int64_t> counts;
  while (TRY(query.step()))
    counts[query.text(1).empty() ? query.text(0) : query.text(0) + "/" + query.text(1)] =
        query.integer(2);
  return counts;
}

Result<int64_t> VectorStore::count() {
  return single_integer(db_, "SELECT COUNT(*) FROM vectors");
}

}  // namespace opdbus::ml
