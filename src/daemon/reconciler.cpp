// Reconcile timing; see reconciler.h.
#include "daemon/reconciler.h"

#include <algorithm>
#include <utility>

namespace opdbus::daemon {

namespace {
constexpr size_t kMaxEventsKept = 20;
}

void Reconciler::note_event(const std::string& plugin, const std::string& what,
                            const std::string& origin, TimePoint now) {
  auto& state = plugins_[plugin];
  if (state.origin.empty()) state.origin = origin;
  if (!state.first_event) state.first_event = now;
  auto due = std::min(now + policy_.debounce, *state.first_event + policy_.max_delay);
  if (state.blocked_until && *state.blocked_until > due) due = *state.blocked_until;
  state.due = due;
  if (state.events.size() < kMaxEventsKept) state.events.push_back(what);
}

std::optional<TimePoint> Reconciler::next_due() const {
  std::optional<TimePoint> earliest;
  for (const auto& [plugin, state] : plugins_)
    if (state.due && (!earliest || *state.due < *earliest)) earliest = state.due;
  return earliest;
}

std::vector<Reconciler::Due> Reconciler::take_due(TimePoint now) {
  std::vector<Due> due;
  for (auto& [plugin, state] : plugins_) {
    if (!state.due || *state.due > now) continue;
    state.due.reset();
    auto first = state.first_event.value_or(now);
    state.first_event.reset();
    due.push_back(
        {plugin, std::exchange(state.events, {}), std::exchange(state.origin, {}), first});
  }
  return due;
}

bool Reconciler::may_enforce(const std::string& plugin, TimePoint now) {
  auto& state = plugins_[plugin];
  std::erase_if(state.recent, [&](TimePoint t) { return now - t > std::chrono::minutes(1); });
  TimePoint allowed = now;
  if (state.blocked_until && *state.blocked_until > now) allowed = *state.blocked_until;
  if (static_cast<int>(state.recent.size()) >= policy_.max_per_minute)
    allowed = std::max(allowed, state.recent.front() + std::chrono::minutes(1));
  if (allowed <= now) return true;
  state.due = allowed;  // look again when it may
  return false;
}

void Reconciler::enforced(const std::string& plugin, TimePoint now) {
  auto& state = plugins_[plugin];
  bool fighting = state.last_enforced && now - *state.last_enforced < policy_.fight_window;
  state.backoff =
      fighting ? std::min(std::max(state.backoff * 2, policy_.backoff_first), policy_.backoff_max)
               : Duration{0};
  state.blocked_until = now + state.backoff;
  state.last_enforced = now;
  state.recent.push_back(now);
}

Duration Reconciler::backoff(const std::string& plugin) const {
  auto it = plugins_.find(plugin);
  return it == plugins_.end() ? Duration{0} : it->second.backoff;
}

}  // namespace opdbus::daemon
