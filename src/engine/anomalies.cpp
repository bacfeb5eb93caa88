// Anomalies on the host; see anomalies.h.
#include "engine/anomalies.h"

#include "engine/record.h"
#include "engine/state_file.h"
#include "ledger/verify.h"

namespace opdbus {

Result<std::unique_ptr<Anomalies>> Anomalies::open(Context& context, ml::AnomalyConfig config) {
  TRY(open_store(context));  // vectors/ is a subvolume of the state dir on BTRFS
  auto embedder = TRY(ml::Embedder::create(config.embedder));
  auto store = TRY(
      ml::VectorStore::open(context.config.state_dir / "vectors" / embedder->store_directory()));
  std::unique_ptr<Anomalies> anomalies(
      new Anomalies(context, std::move(store), std::move(config), std::move(embedder)));
  TRY(anomalies->detector_.load());
  return anomalies;
}

Result<std::vector<ml::Verdict>> Anomalies::observe(const Json& states, const std::string& source,
                                                    bool whole) {
  auto* ledger = TRY(open_ledger(context_));
  std::vector<ml::Verdict> found;
  // Read-only fields (ifindex, operational state) change without meaning anything.
  auto declared = without_read_only({{"plugins", states}}, context_.registry)["plugins"];
  for (const auto& [plugin, state] : declared.items()) {
    ml::Observation observation{plugin, source, ledger->size(), format_rfc3339(context_.clock()),
                                state};
    for (auto& verdict : TRY(detector_.observe(observation, true, whole))) {
      if (!verdict.news()) continue;
      TRY(ledger->append(anomaly_record(context_, verdict, source)));
      found.push_back(std::move(verdict));
    }
  }
  return found;
}

Result<std::vector<Json>> Anomalies::history(Context& context, size_t count) {
  auto data = ledger::load_local_ledger(context.config.state_dir);
  if (!data) return std::vector<Json>{};
  return ledger::newest_blocks(
      *data, count, [](const Json& block) { return block.value("action", "") == "anomaly"; });
}

Result<std::optional<uint64_t>> Anomalies::last_normal_point(Context& context) {
  auto data = TRY(ledger::load_local_ledger(context.config.state_dir));
  auto is_anomaly = [](const Json& block) { return block.value("action", "") == "anomaly"; };
  auto blocks = TRY(ledger::newest_blocks(data, SIZE_MAX, [&](const Json& block) {
    return is_anomaly(block) || !block["refs"].value("snapshot", "").empty();
  }));
  bool tainted = false;
  for (const auto& block : blocks) {
    if (is_anomaly(block)) {
      tainted = tainted || block["refs"].value("source", "") == "apply";
    } else if (tainted) {
      tainted = false;
    } else {
      return block.value("height", uint64_t{0});
    }
  }
  return std::optional<uint64_t>();
}

}  // namespace opdbus
