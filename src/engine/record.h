// What the engine writes to the ledger: one block per apply (including no-change applies and
// applies that were rolled back), commit and rollback, with the diff and the full before and
// after payload of the touched resources.
// Invariant: building a record never fails; anything that could not be captured is recorded as
// {"error": message} in its place.
#pragma once

#include <string>
#include <vector>

#include "engine/checkpoint_store.h"
#include "engine/context.h"
#include "engine/engine.h"
#include "ledger/block.h"
#include "ml/anomaly.h"

namespace opdbus {

Json snapshots_json(const std::vector<Snapshot>& snapshots);
const char* outcome_name(Outcome outcome);

ledger::BlockDraft apply_record(const Context& context, const ApplyResult& result,
                                const std::string& file);
// Drift the daemon found in `plugin`: the changes that would restore the declared state, the
// watch events that led to it, and who made the change when a watch could tell (`origin`).
ledger::BlockDraft drift_record(const Context& context, const std::string& plugin,
                                const std::vector<Change>& changes,
                                const std::vector<std::string>& events, const std::string& origin);
// A refused attempt (no authorisation): who tried `action` and why it was refused.
ledger::BlockDraft denied_record(const Context& context, const std::string& action,
                                 const std::string& reason);
ledger::BlockDraft commit_record(const Context& context, const CheckpointRecord& record);
ledger::BlockDraft rollback_record(const Context& context, const CheckpointRecord& record,
                                   Json before, size_t writes, const std::string& reason,
                                   const Json& refs);
// An anomaly found by the detector: the plugin and resource, score, similarity and threshold, the
// most similar normal state and what was being observed (apply, drift, sample, scan).
ledger::BlockDraft anomaly_record(const Context& context, const ml::Verdict& verdict,
                                  const std::string& source);
// A block for an action on op-dbus's own records (snapshots, retention).
ledger::BlockDraft store_record(const Context& context, std::string action, Json before, Json after,
                                Json refs);

}  // namespace opdbus
