// Retention over a simulated year, the way sanoid tests it: an hourly snapshot for every hour
// from 2026-01-01 to 2027-01-05 in Europe/Berlin, pruned after each one, must leave exactly the
// expected set (ISO weeks across the year boundary, quarters, days), and the DST changes must
// behave: the repeated 02:00 hour in October keeps only its first snapshot.
#include <gtest/gtest.h>

#include <cstdlib>
#include <set>

#include "store/retention.h"
#include "store/state_store.h"

namespace opdbus::store {
namespace {

class Retention : public ::testing::Test {
 protected:
  void SetUp() override {
    if (const char* tz = std::getenv("TZ")) saved_tz_ = tz;
    ::setenv("TZ", "Europe/Berlin", 1);
    ::tzset();
  }
  void TearDown() override {
    if (saved_tz_)
      ::setenv("TZ", saved_tz_->c_str(), 1);
    else
      ::unsetenv("TZ");
    ::tzset();
  }

  static TimePoint utc(const std::string& text) { return *parse_rfc3339(text); }

  // Takes an hourly snapshot from `from` to `to` (UTC), pruning after each one; returns what is
  // left as local times.
  static std::vector<std::string> simulate(TimePoint from, TimePoint to, RetentionPolicy policy) {
    std::vector<RetainedSnapshot> kept;
    for (auto time = from; time <= to; time += std::chrono::hours(1)) {
      kept.push_back({snapshot_stamp(time), time, false});
      std::vector<RetainedSnapshot> next;
      for (const auto& decision : plan_retention(kept, policy))
        if (decision.keep()) next.push_back({decision.name, decision.time, false});
      kept = std::move(next);
    }
    std::vector<std::string> out;
    for (const auto& snapshot : kept)
      out.push_back(format_local(snapshot.time, "%Y-%m-%d %H:%M %Z"));
    return out;
  }

  std::optional<std::string> saved_tz_;
};

TEST_F(Retention, KeepsExactlyTheExpectedSetAfterAYearOfHourlySnapshots) {
  auto left = simulate(utc("2025-12-31T23:00:00Z"), utc("2027-01-05T09:00:00Z"), RetentionPolicy{});
  std::vector<std::string> expected = {
      "2026-01-01 00:00 CET",   // quarterly: Q1 2026
      "2026-04-01 00:00 CEST",  // quarterly: Q2
      "2026-07-01 00:00 CEST",  // quarterly: Q3
      "2026-10-01 00:00 CEST",  // quarterly: Q4
      "2026-12-07 00:00 CET",   // weekly: ISO 2026-W50
      "2026-12-14 00:00 CET",   // W51
      "2026-12-21 00:00 CET",   // W52
      "2026-12-28 00:00 CET",   // W53 (2026 has 53 ISO weeks), runs into 2027
      "2027-01-01 00:00 CET",   // daily + quarterly Q1 2027
      "2027-01-02 00:00 CET",   // daily
      "2027-01-03 00:00 CET",   // daily
      "2027-01-04 00:00 CET",   // daily + weekly 2027-W01
      "2027-01-05 00:00 CET",   // daily
      "2027-01-05 06:00 CET",   // hourly
      "2027-01-05 07:00 CET",   // hourly
      "2027-01-05 08:00 CET",   // hourly
      "2027-01-05 09:00 CET",   // hourly
      "2027-01-05 10:00 CET",   // hourly + newest
  };
  EXPECT_EQ(left, expected);
}

TEST_F(Retention, TheRepeatedHourOfTheAutumnDstChangeKeepsItsFirstSnapshot) {
  // 2026-10-25: 03:00 CEST becomes 02:00 CET at 01:00 UTC, so local 02:xx happens twice.
  auto left = simulate(utc("2026-10-24T20:00:00Z"), utc("2026-10-25T04:00:00Z"),
                       RetentionPolicy{5, 0, 0, 0});
  std::vector<std::string> expected = {"2026-10-25 01:00 CEST", "2026-10-25 02:00 CEST",
                                       "2026-10-25 03:00 CET", "2026-10-25 04:00 CET",
                                       "2026-10-25 05:00 CET"};
  EXPECT_EQ(left, expected);
}

TEST_F(Retention, DaysAcrossTheSpringDstChangeStartAtLocalMidnight) {
  // 2026-03-29 has 23 hours: 02:00 CET jumps to 03:00 CEST.
  auto left = simulate(utc("2026-03-26T23:00:00Z"), utc("2026-03-30T12:00:00Z"),
                       RetentionPolicy{0, 3, 0, 0});
  std::vector<std::string> expected = {"2026-03-28 00:00 CET", "2026-03-29 00:00 CET",
                                       "2026-03-30 00:00 CEST", "2026-03-30 14:00 CEST"};
  EXPECT_EQ(left, expected);
}

TEST_F(Retention, NewestAndProtectedSnapshotsAreNeverDeleted) {
  std::vector<RetainedSnapshot> snapshots = {{"a", utc("2026-05-01T10:00:00Z"), false},
                                             {"b", utc("2026-05-01T10:10:00Z"), true},
                                             {"c", utc("2026-05-01T10:20:00Z"), false},
                                             {"d", utc("2026-05-01T10:30:00Z"), false}};
  auto decisions = plan_retention(snapshots, RetentionPolicy{0, 0, 0, 0});
  ASSERT_EQ(decisions.size(), 4u);
  EXPECT_FALSE(decisions[0].keep());
  EXPECT_EQ(decisions[1].reasons, std::vector<std::string>{"protected"});
  EXPECT_FALSE(decisions[2].keep());
  EXPECT_EQ(decisions[3].reasons, std::vector<std::string>{"newest"});
}

TEST_F(Retention, PolicyAssignmentsAreCheckedAndRoundTrip) {
  auto policy = RetentionPolicy{}.with({"hourly=10", "daily=7"});
  ASSERT_TRUE(policy);
  EXPECT_EQ(policy->hourly, 10);
  EXPECT_EQ(policy->daily, 7);
  EXPECT_EQ(policy->weekly, 5);
  EXPECT_EQ(*RetentionPolicy::from_json(policy->to_json()), *policy);
  for (const char* bad : {"hourly", "hourly=-1", "minutely=3", "daily=x", "weekly=99999"}) {
    auto refused = RetentionPolicy{}.with({bad});
    ASSERT_FALSE(refused) << bad;
    EXPECT_EQ(refused.error().code, ErrorCode::invalid_input);
  }
}

TEST(SnapshotNames, SortByTimeAndParseBack) {
  auto time = *parse_rfc3339("2026-11-25T01:02:03Z");
  EXPECT_EQ(snapshot_stamp(time), "20261125T010203Z");
  EXPECT_EQ(parse_snapshot_time("20261125T010203Z-2"), time);
  EXPECT_FALSE(parse_snapshot_time(".incomplete-20261125T010203Z"));
  EXPECT_FALSE(parse_snapshot_time("notes"));
}

}  // namespace
}  // namespace opdbus::store
