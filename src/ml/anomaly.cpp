// Anomaly detection on embeddings; see anomaly.h.
#include "ml/anomaly.h"

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
  for (const auto& stored : TRY(store_.load("", VectorStore::Subset::anomalies)))
    reported_[key_of(stored.record.plugin, stored.record.resource)].add(stored.vector);
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
  auto assess = [&](const std::string& resource, const Json& document) {
    auto vector = embed_structure(document);
    return first ? define(observation, resource, vector, record)
                 : judge(observation, resource, vector, record);
  };
  if (whole) verdicts.push_back(TRY(assess("", observation.state)));
  for (const auto& [resource, item] : resources_of(observation.state))
    verdicts.push_back(TRY(assess(resource, item)));
  return verdicts;
}

Verdict AnomalyDetector::unjudged(const Observation& observation,
                                  const std::string& resource) const {
  Verdict verdict;
  verdict.plugin = observation.plugin;
  verdict.resource = resource;
  verdict.threshold = config_.threshold_for(observation.plugin);
  return verdict;
}

Result<int64_t> AnomalyDetector::store(const Observation& observation, const std::string& resource,
                                       const Vector& vector, bool baseline, bool anomalous) {
  VectorRecord stored{0,
                      observation.plugin,
                      resource,
                      observation.source,
                      observation.height,
                      observation.time,
                      baseline,
                      anomalous};
  stored.id = TRY(store_.append(stored, vector));
  if (baseline) remember(observation.plugin, resource, stored, vector);
  return stored.id;
}

Result<Verdict> AnomalyDetector::define(const Observation& observation, const std::string& resource,
                                        const Vector& vector, bool record) {
  auto verdict = unjudged(observation, resource);
  if (record) verdict.vector_id = TRY(store(observation, resource, vector, true, false));
  return verdict;
}

Result<Verdict> AnomalyDetector::judge(const Observation& observation, const std::string& resource,
                                       const Vector& vector, bool record) {
  auto verdict = unjudged(observation, resource);
  auto own = baselines_.find(key_of(observation.plugin, resource));
  auto compared = own;
  if (compared == baselines_.end() && !resource.empty()) {
    compared = baselines_.find(collection_key(observation.plugin, resource));
    verdict.first_seen = true;
  }
  if (compared != baselines_.end() && compared->second.index.size() > 0) {
    auto hits = TRY(compared->second.index.search(vector, 1));
    verdict.similarity = hits.front().similarity;
    verdict.nearest = compared->second.records[hits.front().position];
    verdict.baseline = compared->second.index.size();
  }
  verdict.anomalous = verdict.baseline > 0 && verdict.similarity < verdict.threshold;
  auto& reported = reported_[key_of(observation.plugin, resource)];
  if (verdict.anomalous && reported.size() > 0)
    verdict.repeated = reported.search_exact(vector, 1).front().similarity >= config_.duplicate;
  if (!record || verdict.repeated) return verdict;
  bool baseline = !verdict.anomalous && (verdict.baseline == 0 || verdict.first_seen ||
                                         verdict.similarity < config_.duplicate);
  verdict.vector_id = TRY(store(observation, resource, vector, baseline, verdict.anomalous));
  if (verdict.anomalous) reported.add(vector);
  return verdict;
}

}  // namespace opdbus::ml
