// Checkpoint persistence; see checkpoint_store.h.
#include "engine/checkpoint_store.h"

#include <unistd.h>

#include <chrono>
#include <ctime>

namespace opdbus {

std::string rfc3339_utc(int64_t unix_seconds) {
  std::time_t time = unix_seconds;
  std::tm utc{};
  gmtime_r(&time, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

std::string new_checkpoint_id() {
  auto now = std::chrono::system_clock::now();
  auto micros =
      std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count();
  return fmt::format("cp-{}-{}", micros, ::getpid());
}

Json CheckpointRecord::to_json() const {
  Json snapshots_json = Json::object();
  for (const auto& snapshot : snapshots) snapshots_json[snapshot.plugin] = snapshot.data;
  return {{"id", id},
          {"created", created},
          {"netns", netns},
          {"status", status},
          {"deadline", deadline},
          {"watchdog_pid", watchdog_pid},
          {"snapshots", snapshots_json},
          {"state_snapshot", state_snapshot}};
}

Result<CheckpointRecord> CheckpointRecord::from_json(const Json& json) {
  try {
    CheckpointRecord record;
    record.id = json.at("id").get<std::string>();
    record.created = json.at("created").get<std::string>();
    record.netns = json.at("netns").get<std::string>();
    record.status = json.at("status").get<std::string>();
    record.deadline = json.at("deadline").get<int64_t>();
    record.watchdog_pid = json.at("watchdog_pid").get<int>();
    record.state_snapshot = json.value("state_snapshot", "");
    for (const auto& [plugin, data] : json.at("snapshots").items())
      record.snapshots.push_back({plugin, data});
    return record;
  } catch (const Json::exception& error) {
    return fail(ErrorCode::io, "corrupt checkpoint record: {}", error.what());
  }
}

CheckpointStore::CheckpointStore(std::filesystem::path state_dir)
    : state_dir_(std::move(state_dir)), directory_(state_dir_ / "checkpoints") {}

Status CheckpointStore::prepare() const {
  TRY(ensure_directory(state_dir_, kStateDirectoryMode));
  return ensure_directory(directory_, 0700);
}

Result<FileLock> CheckpointStore::lock() const {
  TRY(prepare());
  return FileLock::acquire(state_dir_ / "lock", true);
}

Result<std::optional<CheckpointRecord>> CheckpointStore::load(
    const std::filesystem::path& path) const {
  if (!std::filesystem::exists(path)) return std::optional<CheckpointRecord>();
  auto text = TRY(read_file(path));
  try {
    return std::optional<CheckpointRecord>(TRY(CheckpointRecord::from_json(Json::parse(text))));
  } catch (const Json::exception& error) {
    return fail(ErrorCode::io, "corrupt checkpoint {}: {}", path.string(), error.what());
  }
}

Result<std::optional<CheckpointRecord>> CheckpointStore::load_pending() const {
  return load(directory_ / "pending.json");
}

Status CheckpointStore::save_pending(const CheckpointRecord& record) const {
  return write_file_atomic(directory_ / "pending.json", record.to_json().dump(1), 0600);
}

Status CheckpointStore::clear_pending() const {
  return remove_file_durable(directory_ / "pending.json");
}

Result<std::optional<CheckpointRecord>> CheckpointStore::load_last() const {
  return load(directory_ / "last.json");
}

Status CheckpointStore::save_last(const CheckpointRecord& record) const {
  return write_file_atomic(directory_ / "last.json", record.to_json().dump(1), 0600);
}

}  // namespace opdbus
