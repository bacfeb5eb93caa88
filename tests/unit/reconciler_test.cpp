// The daemon's reconcile timing: debounce, rate limit, back-off from a fighting agent.
#include <gtest/gtest.h>

#include "daemon/reconciler.h"

namespace opdbus::daemon {
namespace {

using namespace std::chrono_literals;

TEST(Reconciler, DebouncesABurstIntoOneCheck) {
  Reconciler reconciler({.debounce = 30ms});
  TimePoint t0{};
  reconciler.note_event("net", "address br0", "pid 7 (ip)", t0);
  reconciler.note_event("net", "link br0", "", t0 + 10ms);
  EXPECT_EQ(*reconciler.next_due(), t0 + 40ms);
  EXPECT_TRUE(reconciler.take_due(t0 + 39ms).empty());
  auto due = reconciler.take_due(t0 + 40ms);
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].events.size(), 2u);
  EXPECT_EQ(due[0].origin, "pid 7 (ip)");
  EXPECT_FALSE(reconciler.next_due());
}

TEST(Reconciler, AStreamOfEventsCannotPostponeTheCheckForever) {
  Reconciler reconciler({.debounce = 30ms, .max_delay = 100ms});
  TimePoint t0{};
  for (auto at = 0ms; at < 300ms; at += 20ms) reconciler.note_event("systemd", "unit", "", t0 + at);
  EXPECT_EQ(*reconciler.next_due(), t0 + 100ms);
}

TEST(Reconciler, BacksOffExponentiallyFromAFightingAgent) {
  Reconciler reconciler({.debounce = 0ms, .fight_window = 5s, .backoff_first = 1s});
  TimePoint now{};
  EXPECT_TRUE(reconciler.may_enforce("net", now));
  reconciler.enforced("net", now);
  EXPECT_EQ(reconciler.backoff("net"), 0s);  // one drift is not a fight
  now += 100ms;
  EXPECT_TRUE(reconciler.may_enforce("net", now));
  reconciler.enforced("net", now);
  EXPECT_EQ(reconciler.backoff("net"), 1s);
  reconciler.note_event("net", "address", "", now + 10ms);
  EXPECT_EQ(*reconciler.next_due(), now + 1s);  // the next check waits for the back-off
  now += 1s;
  reconciler.take_due(now);
  reconciler.enforced("net", now);
  EXPECT_EQ(reconciler.backoff("net"), 2s);
  now += 1min;
  reconciler.enforced("net", now);  // quiet for long: not fighting any more
  EXPECT_EQ(reconciler.backoff("net"), 0s);
}

TEST(Reconciler, RateLimitsReappliesPerMinute) {
  Reconciler reconciler({.max_per_minute = 3, .fight_window = 0s});
  TimePoint now{};
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(reconciler.may_enforce("ovs", now));
    reconciler.enforced("ovs", now);
    now += 10s;
  }
  EXPECT_FALSE(reconciler.may_enforce("ovs", now));
  EXPECT_EQ(*reconciler.next_due(), TimePoint{} + 1min);
  EXPECT_TRUE(reconciler.may_enforce("net", now));  // per plugin
  EXPECT_TRUE(reconciler.may_enforce("ovs", TimePoint{} + 1min + 1ms));
}

}  // namespace
}  // namespace opdbus::daemon
