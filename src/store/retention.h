// Snapshot retention in the manner of snapper and btrbk: per tier (hourly, daily, weekly,
// quarterly) the first snapshot of each period is the one that period keeps, and the N most
// recent periods that have a snapshot are kept. Tiers overlap (one snapshot may be both a day's
// and a week's); the newest snapshot and protected ones (referenced by an uncommitted change) are
// always kept. Periods are local calendar periods (TZ), so days around DST changes have 23 or
// 25 hours; weeks are ISO 8601 weeks; quarters start in January, April, July and October.
// Invariant: plan_retention is a pure function of its inputs and the local time zone.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/json_util.h"
#include "base/result.h"

namespace opdbus::store {

struct RetentionPolicy {
  int hourly = 5;
  int daily = 5;
  int weekly = 5;
  int quarterly = 5;

  Json to_json() const;
  static Result<RetentionPolicy> from_json(const Json& json);
  // Applies "hourly=10" style assignments to this policy.
  Result<RetentionPolicy> with(const std::vector<std::string>& assignments) const;
  bool operator==(const RetentionPolicy&) const = default;
};

struct RetainedSnapshot {
  std::string name;
  TimePoint time;
  bool is_protected = false;
};

struct RetentionDecision {
  std::string name;
  TimePoint time;
  std::vector<std::string> reasons;  // tiers or "newest" / "protected"; empty: delete
  bool keep() const { return !reasons.empty(); }
};

// The policy stored in `file`; the defaults (5/5/5/5) when there is none.
Result<RetentionPolicy> load_retention(const std::filesystem::path& file);
Status save_retention(const std::filesystem::path& file, const RetentionPolicy& policy);

// One decision per snapshot, oldest first.
std::vector<RetentionDecision> plan_retention(std::vector<RetainedSnapshot> snapshots,
                                              const RetentionPolicy& policy);

}  // namespace opdbus::store
