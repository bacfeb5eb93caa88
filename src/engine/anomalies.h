// Anomaly detection wired to the host: plugin states are observed (embedded and compared with
// their baselines by ml::AnomalyDetector, vectors kept in STATE_DIR/vectors) and every anomaly is
// recorded in the ledger as an "anomaly" block naming the plugin, resource, score, threshold and
// the most similar normal state.
// Invariant: observing never changes the host; a failure to record is reported, not ignored.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/context.h"
#include "ml/anomaly.h"

namespace opdbus {

class Anomalies {
 public:
  static Result<std::unique_ptr<Anomalies>> open(Context& context, ml::AnomalyConfig config);
  // `states`: {"plugin": section, ...}; `source`: apply, drift, reconcile, sample, scan; `whole`
  // false when the states are scoped to what is declared (then only resources are compared).
  Result<std::vector<ml::Verdict>> observe(const Json& states, const std::string& source,
                                           bool whole = true);
  // The anomaly blocks of the ledger, newest first.
  static Result<std::vector<Json>> history(Context& context, size_t count);
  // The height of the newest block with a state snapshot whose state was not found anomalous
  // (an anomaly observed on the apply that made it taints it); none when there is no such block.
  static Result<std::optional<uint64_t>> last_normal_point(Context& context);
  ml::VectorStore& store() { return store_; }
  Status reload_baseline() { return detector_.load(); }

 private:
  Anomalies(Context& context, ml::VectorStore store, ml::AnomalyConfig config,
            std::shared_ptr<ml::Embedder> embedder)
      : context_(context),
        store_(std::move(store)),
        detector_(store_, std::move(config), std::move(embedder)) {}
  Context& context_;
  ml::VectorStore store_;
  ml::AnomalyDetector detector_;
};

}  // namespace opdbus
