// Human and machine renderings of plans and outcomes. The text form reads like
// `terraform plan`: one block per change with +, ~, - markers and field-level before/after.
#pragma once

#include <string>

#include "engine/engine.h"

namespace opdbus {

std::string render_plan_text(const Plan& plan, bool colour);
Json render_plan_json(const Plan& plan);
Json render_apply_json(const ApplyResult& result);
// {"snapshots": [{"name", "time", "reason", "kept_by"}], "retention", "btrfs"}
Json render_snapshots_json(const std::vector<SnapshotStatus>& statuses,
                           const store::RetentionPolicy& policy, bool on_btrfs);

}  // namespace opdbus
