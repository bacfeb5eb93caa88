// State directory storage and snapshots; see state_store.h.
#include "store/state_store.h"

#include <sys/stat.h>
#include <sys/statfs.h>

#include <btrfsutil.h>
#include <linux/magic.h>

#include "base/fs.h"

namespace opdbus::store {
namespace {

namespace fs = std::filesystem;

Error btrfs_error(std::string_view what, const fs::path& path, enum btrfs_util_error error) {
  return Error{ErrorCode::io,
               fmt::format("{} {}: {} ({})", what, path.string(), btrfs_util_strerror(error),
                           errno_text(errno)),
               {}};
}

Result<bool> is_btrfs(const fs::path& path) {
  struct statfs info {};
  if (::statfs(path.c_str(), &info) != 0)
    return fail(ErrorCode::io, "statfs {}: {}", path.string(), errno_text(errno));
  return info.f_type == BTRFS_SUPER_MAGIC;
}

// Makes every file and directory of a copied snapshot read-only, like a BTRFS read-only snapshot.
void make_read_only(const fs::path& root) {
  for (const auto& entry : fs::recursive_directory_iterator(root))
    fs::permissions(entry.path(),
                    fs::perms::owner_write | fs::perms::group_write | fs::perms::others_write,
                    fs::perm_options::remove);
  fs::permissions(root, fs::perms::owner_write | fs::perms::group_write | fs::perms::others_write,
                  fs::perm_options::remove);
}

}  // namespace

std::string snapshot_stamp(TimePoint time) {
  auto text = format_rfc3339(time, false);  // 2026-11-25T01:02:03Z
  std::string out;
  for (char c : text)
    if (c != '-' && c != ':') out += c;
  return out;
}

std::optional<TimePoint> parse_snapshot_time(const std::string& name) {
  if (name.size() < 16 || name[8] != 'T' || name[15] != 'Z') return std::nullopt;
  auto text =
      fmt::format("{}-{}-{}T{}:{}:{}Z", name.substr(0, 4), name.substr(4, 2), name.substr(6, 2),
                  name.substr(9, 2), name.substr(11, 2), name.substr(13, 2));
  auto time = parse_rfc3339(text);
  if (!time) return std::nullopt;
  return *time;
}

Result<StateStore> StateStore::open(const fs::path& state_dir) {
  TRY(ensure_directory(state_dir, kStateDirectoryMode));
  StateStore store(state_dir, TRY(is_btrfs(state_dir)));
  for (const char* volume : {"ledger", "state", "vectors"})
    TRY(store.ensure_volume(state_dir / volume));
  TRY(ensure_directory(store.snapshots_path(), 0700));
  return store;
}

Status StateStore::ensure_volume(const fs::path& path) const {
  if (fs::exists(path)) return ok();
  if (!btrfs_) return ensure_directory(path);
  if (auto error = btrfs_util_create_subvolume(path.c_str(), 0, nullptr, nullptr))
    return make_failure(btrfs_error("create subvolume", path, error));
  return ok();
}

Status StateStore::write_state(const Json& document, const Json& meta) {
  for (const auto& [plugin, section] : document.at("plugins").items())
    TRY(write_file_atomic(state_path() / (plugin + ".json"), section.dump(2) + "\n"));
  return write_file_atomic(state_path() / "meta.json", meta.dump(2) + "\n");
}

Status StateStore::copy_snapshot(const fs::path& temp) const {
  std::error_code error;
  fs::copy(state_path(), temp, fs::copy_options::recursive, error);
  if (error) return fail(ErrorCode::io, "copy {}: {}", state_path().string(), error.message());
  make_read_only(temp);
  return ok();
}

Result<SnapshotInfo> StateStore::take_snapshot(TimePoint time) {
  auto stamp = snapshot_stamp(time);
  auto name = stamp;
  for (int n = 2; fs::exists(snapshots_path() / name); ++n) name = fmt::format("{}-{}", stamp, n);
  auto temp = snapshots_path() / (".incomplete-" + name);
  if (fs::exists(temp)) TRY(delete_snapshot(temp.filename()));
  if (btrfs_) {
    if (auto error =
            btrfs_util_create_snapshot(state_path().c_str(), temp.c_str(),
                                       BTRFS_UTIL_CREATE_SNAPSHOT_READ_ONLY, nullptr, nullptr))
      return make_failure(btrfs_error("snapshot", state_path(), error));
  } else {
    TRY(copy_snapshot(temp));
  }
  if (::rename(temp.c_str(), (snapshots_path() / name).c_str()) != 0)
    return fail(ErrorCode::io, "rename snapshot {}: {}", name, errno_text(errno));
  auto meta = read_file(snapshots_path() / name / "meta.json");
  return SnapshotInfo{name, time, meta ? Json::parse(*meta, nullptr, false) : Json()};
}

Result<std::vector<SnapshotInfo>> StateStore::list_snapshots() const {
  std::vector<SnapshotInfo> out;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(snapshots_path(), error)) {
    auto name = entry.path().filename().string();
    auto time = parse_snapshot_time(name);
    if (!time) continue;  // .incomplete-* and anything foreign
    auto meta = read_file(entry.path() / "meta.json");
    out.push_back({name, *time, meta ? Json::parse(*meta, nullptr, false) : Json()});
  }
  if (error) return fail(ErrorCode::io, "list {}: {}", snapshots_path().string(), error.message());
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  return out;
}

Status StateStore::delete_snapshot(const std::string& name) {
  bool valid = name.find('/') == std::string::npos &&
               (parse_snapshot_time(name) || name.starts_with(".incomplete-"));
  if (!valid) return fail(ErrorCode::invalid_input, "'{}' is not a snapshot name", name);
  auto path = snapshots_path() / name;
  if (!fs::exists(path)) return fail(ErrorCode::not_found, "no snapshot {}", name);
  if (btrfs_ && btrfs_util_is_subvolume(path.c_str()) == BTRFS_UTIL_OK) {
    if (auto error = btrfs_util_delete_subvolume(path.c_str(), 0))
      return make_failure(btrfs_error("delete snapshot", path, error));
    return ok();
  }
  std::error_code error;
  fs::remove_all(path, error);
  if (error) return fail(ErrorCode::io, "delete snapshot {}: {}", name, error.message());
  return ok();
}

Result<Json> StateStore::snapshot_state(const std::string& name) const {
  auto path = snapshots_path() / name;
  if (name.empty() || name.find('/') != std::string::npos || !parse_snapshot_time(name) ||
      !fs::exists(path))
    return fail(ErrorCode::invalid_input, "no snapshot '{}' (see 'op-dbus snapshot list')", name);
  Json plugins = Json::object();
  for (const auto& entry : fs::directory_iterator(path)) {
    auto file = entry.path().filename().string();
    if (!file.ends_with(".json") || file == "meta.json") continue;
    auto text = TRY(read_file(entry.path()));
    auto section = Json::parse(text, nullptr, false);
    if (section.is_discarded())
      return fail(ErrorCode::io, "snapshot {}: {} is not valid JSON", name, file);
    plugins[file.substr(0, file.size() - 5)] = std::move(section);
  }
  return Json{{"version", 1}, {"plugins", plugins}};
}

}  // namespace opdbus::store
