// Retention planning; see retention.h.
#include "store/retention.h"

#include <algorithm>
#include <charconv>
#include <ctime>

#include "base/fs.h"

namespace opdbus::store {
namespace {

struct Tier {
  const char* name;
  int RetentionPolicy::*count;
  int64_t (*period)(const std::tm&);
};

int64_t hour_of(const std::tm& t) {
  return ((int64_t(t.tm_year) * 12 + t.tm_mon) * 31 + t.tm_mday) * 24 + t.tm_hour;
}
int64_t day_of(const std::tm& t) {
  return (int64_t(t.tm_year) * 12 + t.tm_mon) * 31 + t.tm_mday;
}
int64_t iso_week_of(const std::tm& t) {
  char text[16];
  std::strftime(text, sizeof text, "%G%V", &t);
  return std::stoll(text);
}
int64_t quarter_of(const std::tm& t) {
  return int64_t(t.tm_year) * 4 + t.tm_mon / 3;
}

constexpr Tier kTiers[] = {
    {"hourly", &RetentionPolicy::hourly, hour_of},
    {"daily", &RetentionPolicy::daily, day_of},
    {"weekly", &RetentionPolicy::weekly, iso_week_of},
    {"quarterly", &RetentionPolicy::quarterly, quarter_of},
};

std::tm local_time(TimePoint time) {
  std::time_t seconds = std::chrono::system_clock::to_time_t(time);
  std::tm out{};
  ::localtime_r(&seconds, &out);
  return out;
}

// Marks the first snapshot of each of the `count` most recent periods with the tier's name.
void apply_tier(const Tier& tier, int count, const std::vector<std::tm>& local,
                std::vector<RetentionDecision>& decisions) {
  std::vector<size_t> firsts;
  for (size_t i = 0; i < decisions.size(); ++i)
    if (i == 0 || tier.period(local[i]) != tier.period(local[i - 1])) firsts.push_back(i);
  size_t keep = std::min(firsts.size(), static_cast<size_t>(std::max(count, 0)));
  for (size_t k = firsts.size() - keep; k < firsts.size(); ++k)
    decisions[firsts[k]].reasons.push_back(tier.name);
}

}  // namespace

Json RetentionPolicy::to_json() const {
  return {{"hourly", hourly}, {"daily", daily}, {"weekly", weekly}, {"quarterly", quarterly}};
}

Result<RetentionPolicy> RetentionPolicy::from_json(const Json& json) {
  RetentionPolicy policy;
  std::vector<std::string> assignments;
  if (!json.is_object()) return fail(ErrorCode::invalid_input, "retention policy is not an object");
  for (const auto& [key, value] : json.items())
    assignments.push_back(key + "=" + (value.is_number_integer() ? value.dump() : "?"));
  return policy.with(assignments);
}

Result<RetentionPolicy> RetentionPolicy::with(const std::vector<std::string>& assignments) const {
  RetentionPolicy policy = *this;
  for (const auto& assignment : assignments) {
    auto equals = assignment.find('=');
    auto name = assignment.substr(0, equals);
    auto tier = std::find_if(std::begin(kTiers), std::end(kTiers),
                             [&](const Tier& t) { return name == t.name; });
    int value = -1;
    if (equals != std::string::npos) {
      auto text = std::string_view(assignment).substr(equals + 1);
      auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
      if (error != std::errc() || end != text.data() + text.size()) value = -1;
    }
    if (tier == std::end(kTiers) || value < 0 || value > 10000)
      return fail(ErrorCode::invalid_input,
                  "'{}': expected TIER=COUNT with TIER one of hourly, daily, weekly, quarterly "
                  "and COUNT 0..10000",
                  assignment);
    policy.*(tier->count) = value;
  }
  return policy;
}

Result<RetentionPolicy> load_retention(const std::filesystem::path& file) {
  if (!std::filesystem::exists(file)) return RetentionPolicy{};
  auto text = TRY(read_file(file));
  auto json = Json::parse(text, nullptr, false);
  return with_context(RetentionPolicy::from_json(json), file.string());
}

Status save_retention(const std::filesystem::path& file, const RetentionPolicy& policy) {
  return write_file_atomic(file, policy.to_json().dump(2) + "\n");
}

std::vector<RetentionDecision> plan_retention(std::vector<RetainedSnapshot> snapshots,
                                              const RetentionPolicy& policy) {
  std::stable_sort(snapshots.begin(), snapshots.end(),
                   [](const auto& a, const auto& b) { return a.time < b.time; });
  std::vector<RetentionDecision> decisions;
  std::vector<std::tm> local;
  for (const auto& snapshot : snapshots) {
    decisions.push_back({snapshot.name, snapshot.time, {}});
    local.push_back(local_time(snapshot.time));
  }
  if (decisions.empty()) return decisions;
  for (const auto& tier : kTiers) apply_tier(tier, policy.*(tier.count), local, decisions);
  decisions.back().reasons.push_back("newest");
  for (size_t i = 0; i < snapshots.size(); ++i)
    if (snapshots[i].is_protected) decisions[i].reasons.push_back("protected");
  return decisions;
}

}  // namespace opdbus::store
