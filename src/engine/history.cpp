// Point in time: the state snapshot taken after every change, retention pruning, and
// `rollback --to HEIGHT|SNAPSHOT`, which applies a recorded state through the ordinary apply path
// (checkpoint, verify, automatic rollback) and is itself recorded; and replication of snapshots
// and the ledger to another BTRFS filesystem. Part of Engine (engine.h).
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <functional>
#include <set>
#include <thread>

#include "base/fs.h"
#include "engine/engine.h"
#include "engine/record.h"
#include "ledger/verify.h"

namespace opdbus {
namespace {

std::filesystem::path retention_file(const Context& context) {
  return context.config.state_dir / "retention.json";
}

bool is_height(const std::string& text) {
  return !text.empty() &&
         std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isdigit(c); });
}

}  // namespace

Result<std::string> Engine::newest_snapshot() {
  auto* store = TRY(open_store(context_));
  auto snapshots = TRY(store->list_snapshots());
  return snapshots.empty() ? std::string() : snapshots.back().name;
}

Json Engine::snapshot_and_prune(const std::string& reason, const Json& known_states) {
  auto taken = [&]() -> Result<std::string> {
    auto* store = TRY(open_store(context_));
    auto host = TRY(query(std::nullopt, known_states));
    Json meta = {{"time", format_rfc3339(context_.clock())}, {"reason", reason}};
    if (!host.unavailable.empty()) meta["unavailable"] = host.unavailable;
    if (auto checkpoint = read_file(ledger::LedgerFiles(context_.config.state_dir).checkpoint))
      meta["ledger_checkpoint"] = *checkpoint;
    TRY(store->write_state(host.document, meta));
    return TRY(store->take_snapshot(context_.clock())).name;
  }();
  if (!taken) return {{"snapshot_error", taken.error().describe()}};
  Json refs = {{"snapshot", *taken}};
  auto pruned = prune_unlocked(false);
  if (!pruned)
    refs["prune_error"] = pruned.error().describe();
  else if (!pruned->empty())
    refs["pruned"] = *pruned;
  return refs;
}

Result<store::RetentionPolicy> Engine::retention() {
  return store::load_retention(retention_file(context_));
}

Result<std::vector<SnapshotStatus>> Engine::snapshot_status() {
  auto* store = TRY(open_store(context_));
  auto snapshots = TRY(store->list_snapshots());
  auto policy = TRY(retention());
  auto pending = TRY(store_.load_pending());
  std::vector<store::RetainedSnapshot> retained;
  for (const auto& snapshot : snapshots)
    retained.push_back(
        {snapshot.name, snapshot.time, pending && pending->state_snapshot == snapshot.name});
  auto decisions = store::plan_retention(retained, policy);
  std::vector<SnapshotStatus> out;
  for (const auto& decision : decisions) {
    auto info = std::find_if(snapshots.begin(), snapshots.end(),
                             [&](const auto& s) { return s.name == decision.name; });
    out.push_back({*info, decision.reasons});
  }
  return out;
}

Result<std::vector<std::string>> Engine::prune_unlocked(bool dry_run) {
  auto* store = TRY(open_store(context_));
  std::vector<std::string> doomed;
  for (const auto& status : TRY(snapshot_status()))
    if (status.reasons.empty()) doomed.push_back(status.info.name);
  if (!dry_run)
    for (const auto& name : doomed) TRY(store->delete_snapshot(name));
  return doomed;
}

Result<std::vector<std::string>> Engine::prune_snapshots(bool dry_run) {
  auto lock = TRY(store_.lock());
  if (!dry_run) TRY(open_ledger(context_));
  auto pruned = TRY(prune_unlocked(dry_run));
  if (!dry_run && !pruned.empty())
    TRY(append_to_ledger(store_record(context_, "snapshot.prune", Json::object(), Json::object(),
                                      {{"pruned", pruned}})));
  return pruned;
}

Result<std::string> Engine::create_snapshot() {
  auto lock = TRY(store_.lock());
  TRY(open_ledger(context_));
  auto refs = snapshot_and_prune("manual");
  if (refs.contains("snapshot_error"))
    return fail(ErrorCode::io, "{}", refs["snapshot_error"].get<std::string>());
  TRY(append_to_ledger(
      store_record(context_, "snapshot.create", Json::object(), Json::object(), refs)));
  return refs["snapshot"].get<std::string>();
}

Status Engine::set_retention(const std::vector<std::string>& assignments) {
  auto lock = TRY(store_.lock());
  TRY(open_ledger(context_));
  auto old_policy = TRY(retention());
  auto new_policy = TRY(old_policy.with(assignments));
  TRY(store::save_retention(retention_file(context_), new_policy));
  return append_to_ledger(store_record(context_, "retention.set", old_policy.to_json(),
                                       new_policy.to_json(), Json::object()));
}

namespace {

// Runs receive_stream on the read end of a pipe in a thread while `send` writes the other end.
Result<std::vector<std::string>> send_through_pipe(const std::filesystem::path& replica,
                                                   const std::function<Status(int)>& send) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return fail(ErrorCode::io, "pipe: {}", errno_text(errno));
  UniqueFd read_end(fds[0]), write_end(fds[1]);
  Result<std::vector<std::string>> received = std::vector<std::string>{};
  std::thread receiver(
      [&, fd = std::move(read_end)] { received = store::receive_stream(replica, fd.get()); });
  auto sent = send(write_end.get());
  write_end.reset();
  receiver.join();
  if (!received) return make_failure(received.error());
  if (!sent) return make_failure(sent.error());
  return received;
}

}  // namespace

Result<std::vector<store::SendItem>> Engine::send_snapshots(
    const std::optional<std::filesystem::path>& replica, int out_fd) {
  auto lock = TRY(store_.lock());
  TRY(open_ledger(context_));
  auto* store = TRY(open_store(context_));
  {
    auto ledger_lock =
        TRY(FileLock::acquire(ledger::LedgerFiles(context_.config.state_dir).lock, true));
    TRY(store::snapshot_ledger(*store, context_.clock()));
  }
  auto items = TRY(store::plan_send(*store, replica));
  auto send = [&](int fd) { return store::send_stream(*store, items, fd); };
  if (replica)
    TRY(send_through_pipe(*replica, send));
  else
    TRY(send(out_fd));
  store::prune_ledger_snapshots(*store);
  Json sent = Json::array();
  for (const auto& item : items)
    sent.push_back({{"kind", item.kind}, {"name", item.name}, {"parent", item.parent}});
  TRY(append_to_ledger(
      store_record(context_, "snapshot.send", Json::object(), Json::object(),
                   {{"to", replica ? replica->string() : "stdout"}, {"sent", sent}})));
  return items;
}

Result<Json> Engine::exact_document(const Json& target) {
  Json plugins = Json::object();
  for (const auto& [name, section] : target.at("plugins").items()) {
    auto* plugin = context_.registry.find(name);
    if (!plugin) continue;  // recorded by a plugin this build does not have
    auto current = TRY(with_context(plugin->query(), "query " + name));
    plugins[name] = plugin->exact_desired(section, current);
  }
  return Json{{"version", 1}, {"plugins", plugins}};
}

Result<ApplyResult> Engine::rollback_to(const std::string& target, const ApplyOptions& options) {
  auto* store = TRY(open_store(context_));
  std::string snapshot = target;
  Json to = Json::object();
  if (is_height(target)) {
    auto data = TRY(ledger::load_local_ledger(context_.config.state_dir));
    uint64_t height = 0;
    auto [end, error] = std::from_chars(target.data(), target.data() + target.size(), height);
    if (error != std::errc() || end != target.data() + target.size())
      return fail(ErrorCode::invalid_input, "'{}' is not a ledger height", target);
    auto line = TRY(ledger::block_at(ledger::index_blocks(data), height));
    auto block = Json::parse(line, nullptr, false);
    snapshot = block.is_object() ? block["refs"].value("snapshot", "") : "";
    if (snapshot.empty())
      return fail(ErrorCode::invalid_input,
                  "block {} ({}) names no state snapshot; pick one that does ('op-dbus ledger "
                  "log') or a snapshot ('op-dbus snapshot list')",
                  height, block.is_object() ? block.value("action", "?") : "unreadable");
    to["height"] = height;
  }
  to["snapshot"] = snapshot;
  auto state = TRY(with_context(store->snapshot_state(snapshot),
                                to.contains("height") ? "block " + target : "rollback --to"));
  auto desired = TRY(exact_document(state));
  auto document = TRY(parse_state_text("snapshot " + snapshot, desired.dump(2)));
  auto point_in_time = options;
  point_in_time.action = "rollback.to";
  point_in_time.refs["to"] = to;
  return apply(document, point_in_time);
}

}  // namespace opdbus
