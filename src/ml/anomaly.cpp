// Anomaly detection on embeddings; see anomaly.h.
#include "ml/anomaly.h"

#include <algorithm>

namespace opdbus::ml {
namespace {

std::string key_of(const std::string& plugin, const std::string& resource) {
  return plugin + "/" + resource;
}

// "plugin/units[]" for "units[sshd.service]": the baseline of a whole collection.
std::string collection_key(const std::string& plugin, const std::string& resource) {
  return plugin + "/" + resource.substr(0, resource.find('[')) + "[]";
}

}  // namespace

double AnomalyConfig::threshold_for(const std::string& plugin) const {
  auto found = per_plugin.find(plugin);
  return found == per_plugin.end() ? threshold : found->second;
}

Json Verdict::to_json() const {
  Json out = {{"plugin", plugin},         {"resource", resource},   {"similarity", similarity},
              {"score", score()},         {"threshold", threshold}, {"anomalous", anomalous},
              {"first_seen", first_seen}, {"baseline", baseline},   {"vector", vector_id}};
  if (nearest)
    out["nearest"] = {{"resource", nearest->resource},
                      {"height", nearest->height},
                      {"time", nearest->time},
                      {"source", nearest->source}};
  return out;
}

std::map<std::string, Json> resources_of(const Json& state) {
  std::map<std::string, Json> out;
  if (!state.is_object()) return out;
  for (const auto& [collection, items] : state.items()) {
    if (items.is_array()) {
      for (const auto& item : items)
        if (auto id = identity_of(item)) out[collection + "[" + *id + "]"] = item;
    } else if (items.is_object()) {
      for (const auto& [name, item] : items.items())
        if (item.is_object()) out[collection + "[" + name + "]"] = item;
    }
  }
  return out;
}

Status AnomalyDetector::load() {
  baselines_.clear();
  reported_.clear();
  known_plugins_.clear();
  for (const auto& stored : TRY(store_.load("", VectorStore::Subset::baseline)))
    remember(stored.record.plugin, stored.record.resource, stored.record, stored.vector);
  return ok();
}

void AnomalyDetector::remember(const std::string& plugin, const std::string& resource,
                               const VectorRecord& record, const Vector& vector) {
  known_plugins_.insert(plugin);
  for (const auto& key : {key_of(plugin, resource),
                          resource.empty() ? std::string() : collection_key(plugin, resource)}) {
    if (key.empty()) continue;
    auto& baseline = baselines_[key];
    baseline.index.add(vector);
    baseline.records.push_back(record);
  }
}

Result<std::vector<Verdict>> AnomalyDetector::observe(const Observation& observation, bool record,
                                                      bool whole) {
  // A plugin's first observation is its baseline, resources included: nothing to compare with.
  bool first = !known_plugins_.contains(observation.plugin);
  std::vector<Verdict> verdicts;
  std::vector<StoredVector> pending;  // stored together: one write, one fdatasync
  auto assess = [&](const std::string& resource, const Json& document) -> Status {
    auto vector = embedder_ ? embedder_->embed(document) : embed_structure(document);
    auto verdict =
        first ? unjudged(observation, resource) : TRY(judge(observation, resource, vector));
    bool baseline = first || (!verdict.anomalous && (verdict.baseline == 0 || verdict.first_seen ||
                                                     verdict.similarity < config_.duplicate));
    if (!verdict.repeated)
      pending.push_back({{0, observation.plugin, resource, observation.source, observation.height,
                          observation.time, baseline, verdict.anomalous},
                         vector});
    verdicts.push_back(std::move(verdict));
    return ok();
  };
  if (whole) TRY(assess("", observation.state));
  for (const auto& [resource, item] : resources_of(observation.state)) TRY(assess(resource, item));
  if (!record) return verdicts;
  forget_resolved(observation.plugin, verdicts);
  auto ids = TRY(store_.append(pending));
  for (size_t i = 0, v = 0; i < pending.size(); ++i, ++v) {
    while (verdicts[v].repeated) ++v;
    auto& stored = pending[i];
    stored.record.id = verdicts[v].vector_id = ids[i];
    if (stored.record.baseline)
      remember(stored.record.plugin, stored.record.resource, stored.record, stored.vector);
    if (verdicts[v].news())
      reported_[key_of(stored.record.plugin, stored.record.resource)].add(stored.vector);
  }
  return verdicts;
}

// An anomaly that went away (the resource is normal again or gone) is news again if it returns.
void AnomalyDetector::forget_resolved(const std::string& plugin,
                                      const std::vector<Verdict>& verdicts) {
  std::set<std::string> still;
  for (const auto& verdict : verdicts)
    if (verdict.anomalous) still.insert(key_of(plugin, verdict.resource));
  auto prefix = plugin + "/";
  auto resolved = [&](const auto& entry) {
    return entry.first.rfind(prefix, 0) == 0 && !still.contains(entry.first);
  };
  for (auto& [key, vectors] : reported_)
    if (resolved(std::pair{key, 0}))
      for (size_t i = 0; i < vectors.size(); ++i) {
        Vector vector;
        std::copy(vectors.row(i), vectors.row(i) + kDimensions, vector.begin());
        resolved_[key].add(vector);
      }
  std::erase_if(reported_, resolved);
  std::erase_if(streaks_, resolved);
}

Verdict AnomalyDetector::unjudged(const Observation& observation,
                                  const std::string& resource) const {
  Verdict verdict;
  verdict.plugin = observation.plugin;
  verdict.resource = resource;
  verdict.threshold = config_.threshold_for(observation.plugin);
  return verdict;
}

Result<Verdict> AnomalyDetector::judge(const Observation& observation, const std::string& resource,
                                       const Vector& vector) {
  auto verdict = unjudged(observation, resource);
  // Like its own history, or like any item of its collection (a state another unit has been in).
  auto own = baselines_.find(key_of(observation.plugin, resource));
  auto collection = resource.empty()
                        ? baselines_.end()
                        : baselines_.find(collection_key(observation.plugin, resource));
  verdict.first_seen = own == baselines_.end();
  verdict.similarity = -1;
  for (auto compared : {own, collection}) {
    if (compared == baselines_.end() || compared->second.index.size() == 0) continue;
    auto hits = TRY(compared->second.index.search(vector, 1));
    verdict.baseline += compared->second.index.size();
    if (hits.front().similarity <= verdict.similarity) continue;
    verdict.similarity = hits.front().similarity;
    verdict.nearest = compared->second.records[hits.front().position];
  }
  if (verdict.baseline == 0) verdict.similarity = 1;
  verdict.anomalous = verdict.baseline > 0 && verdict.similarity < verdict.threshold;
  if (auto seen = resolved_.find(key_of(observation.plugin, resource));
      config_.recurring_is_normal && verdict.anomalous && seen != resolved_.end() &&
      seen->second.search_exact(vector, 1).front().similarity >= config_.duplicate)
    verdict.anomalous = false;  // reported before, went away, came back the same: seen
  auto key = key_of(observation.plugin, resource);
  auto reported = reported_.find(key);
  if (verdict.anomalous && reported != reported_.end() && reported->second.size() > 0)
    verdict.repeated =
        reported->second.search_exact(vector, 1).front().similarity >= config_.duplicate;
  if (verdict.anomalous && !verdict.repeated)
    verdict.pending = ++streaks_[key] < std::max(config_.persistence, 1);
  return verdict;
}

}  // namespace opdbus::ml
