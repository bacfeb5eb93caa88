// Anomaly detection on embeddings: a plugin's state is embedded whole and per resource (each item
// of its collections: "interfaces[br0]", "units[sshd.service]"), and each embedding is compared
// with the baseline of normal embeddings of the same key. Score = 1 - the highest cosine
// similarity; below the threshold similarity (default 0.85, per plugin configurable) it is an
// anomaly. A resource seen for the first time is compared with its whole collection's baseline
// (is it like any unit we know?). Normal observations join the baseline unless a near-identical
// vector is already there; anomalies join only when accepted. With persistence N, an anomaly is
// reported once it has been seen in N observations in a row (transient states are not news). An
// anomaly that went away and comes back the same (a nightly job's state) has been seen: it is
// reported once, then it joins the baseline when it returns (unless recurring_is_normal is off,
// as with auto_rollback).
// Invariants: the first observation of a plugin defines its baseline (nothing to compare with);
// every observation is stored with its verdict's key, except an anomaly near-identical to one
// already reported while it lasts (a lasting anomaly is reported once; one that went away and
// returns is reported again); the detector never touches the ledger (the engine records what it
// finds).
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "ml/embedder.h"
#include "ml/index.h"
#include "ml/store.h"

namespace opdbus::ml {

struct AnomalyConfig {
  double threshold = 0.85;                   // similarity below this is an anomaly
  std::map<std::string, double> per_plugin;  // plugin -> threshold
  double duplicate = 0.999;                  // a vector this similar adds nothing to a baseline
  int persistence = 1;           // consecutive anomalous observations before one is reported
  EmbedderConfig embedder = {};  // structural unless a model is configured
  // An anomaly that went away and returns the same is seen (a nightly job's state); off when
  // anomalies are rolled back, so a change made again is rolled back again.
  bool recurring_is_normal = true;
  double threshold_for(const std::string& plugin) const;
};

struct Observation {
  std::string plugin;
  std::string source;  // apply, drift, reconcile, sample, scan
  uint64_t height = 0;
  std::string time;
  Json state;  // the plugin's section
};

struct Verdict {
  std::string plugin;
  std::string resource;  // "" for the whole state
  double similarity = 1;
  double threshold = 0;
  bool anomalous = false;
  bool first_seen = false;  // compared with its collection, not its own history
  bool repeated = false;    // an anomaly already reported (a near-identical vector): not stored
  bool pending = false;     // anomalous, but not yet for `persistence` observations in a row
  bool news() const { return anomalous && !repeated && !pending; }
  size_t baseline = 0;  // vectors it was compared with
  std::optional<VectorRecord> nearest;
  int64_t vector_id = 0;
  double score() const { return 1 - similarity; }
  Json to_json() const;
};

// The resources of a plugin section: "COLLECTION[ID]" -> the item, for arrays of objects with an
// identity and for objects of objects.
std::map<std::string, Json> resources_of(const Json& state);

class AnomalyDetector {
 public:
  // `embedder` null: the structural embedder.
  AnomalyDetector(VectorStore& store, AnomalyConfig config,
                  std::shared_ptr<Embedder> embedder = nullptr)
      : store_(store), config_(std::move(config)), embedder_(std::move(embedder)) {}
  // Reads the stored baseline.
  Status load();
  // Every verdict for the observation (the whole state unless `whole` is false, because the
  // state covers only part of the plugin, and each resource), vectors stored; `record` false
  // only checks.
  Result<std::vector<Verdict>> observe(const Observation& observation, bool record = true,
                                       bool whole = true);
  const AnomalyConfig& config() const { return config_; }

 private:
  struct Baseline {
    VectorIndex index;
    std::vector<VectorRecord> records;
  };
  // Compares with the baseline of the resource (or of its collection, first seen).
  Result<Verdict> judge(const Observation& observation, const std::string& resource,
                        const Vector& vector);
  void remember(const std::string& plugin, const std::string& resource, const VectorRecord& record,
                const Vector& vector);
  Verdict unjudged(const Observation& observation, const std::string& resource) const;
  void forget_resolved(const std::string& plugin, const std::vector<Verdict>& verdicts);

  VectorStore& store_;
  AnomalyConfig config_;
  std::shared_ptr<Embedder> embedder_;
  std::map<std::string, Baseline> baselines_;    // by "plugin/resource" and "plugin/collection"
  std::map<std::string, VectorIndex> reported_;  // anomalies already reported, by "plugin/resource"
  std::set<std::string> known_plugins_;          // plugins with a baseline
  std::map<std::string, int> streaks_;           // consecutive anomalous observations, by key
  std::map<std::string, VectorIndex> resolved_;  // reported anomalies that went away, by key
};

}  // namespace opdbus::ml
