// When the daemon checks a plugin for drift and when it may re-apply: watch events are debounced
// per plugin (a burst of netlink messages is one check), but a steady stream of events cannot
// postpone the check past max_delay after the first of them; re-applies are rate-limited per
// plugin, and a plugin that drifts again soon after each re-apply (an external agent fighting us)
// backs off exponentially, so the daemon never spins. Pure logic over a caller-supplied clock.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace opdbus::daemon {

using TimePoint = std::chrono::steady_clock::time_point;
using Duration = std::chrono::steady_clock::duration;

struct ReconcilePolicy {
  Duration debounce = std::chrono::milliseconds(30);
  Duration max_delay = std::chrono::milliseconds(100);  // a stream of events cannot postpone more
  int max_per_minute = 20;                              // re-applies per plugin
  Duration fight_window = std::chrono::seconds(5);  // drift this soon after a re-apply: fighting
  Duration backoff_first = std::chrono::seconds(1);
  Duration backoff_max = std::chrono::minutes(5);
};

class Reconciler {
 public:
  explicit Reconciler(ReconcilePolicy policy = {}) : policy_(policy) {}

  // A watch reported a change for `plugin`; `what` describes it for the drift record, `origin`
  // says who made it when the protocol tells ("" otherwise).
  void note_event(const std::string& plugin, const std::string& what, const std::string& origin,
                  TimePoint now);
  // When the next check is due, if any.
  std::optional<TimePoint> next_due() const;
  struct Due {
    std::string plugin;
    std::vector<std::string> events;
    std::string origin;     // the first origin reported, if any
    TimePoint first_event;  // when the first of `events` arrived
  };
  // The plugins whose check is due at `now`, with the events that led to it.
  std::vector<Due> take_due(TimePoint now);
  // Whether `plugin` may be re-applied now; when not, a check is scheduled for when it may.
  bool may_enforce(const std::string& plugin, TimePoint now);
  // `plugin` was re-applied at `now`.
  void enforced(const std::string& plugin, TimePoint now);
  // The current back-off of `plugin` (zero when it is not fighting).
  Duration backoff(const std::string& plugin) const;

 private:
  struct State {
    std::optional<TimePoint> due;
    std::vector<std::string> events;
    std::string origin;
    std::optional<TimePoint> first_event;
    std::vector<TimePoint> recent;  // re-applies in the last minute
    std::optional<TimePoint> last_enforced;
    Duration backoff{0};
    std::optional<TimePoint> blocked_until;
  };
  ReconcilePolicy policy_;
  std::map<std::string, State> plugins_;
};

}  // namespace opdbus::daemon
