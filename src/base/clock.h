// Wall-clock time as the ledger, snapshots and retention see it: an injectable clock (tests run a
// simulated year through it) and RFC 3339 UTC text.
// Invariants: time text is always UTC with a 'Z' suffix; parse_rfc3339 accepts what format_rfc3339
// writes, with or without fractional seconds, and numeric offsets.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <string_view>

#include "base/result.h"

namespace opdbus {

using TimePoint = std::chrono::system_clock::time_point;
using Clock = std::function<TimePoint()>;

inline Clock system_clock() {
  return [] { return std::chrono::system_clock::now(); };
}

// "2026-11-25T00:39:08.123456Z" (microseconds), or without the fraction when `fraction` is false.
std::string format_rfc3339(TimePoint time, bool fraction = true);
Result<TimePoint> parse_rfc3339(std::string_view text);
// strftime in the local time zone (TZ), e.g. "%Y-%m-%d %H:%M %Z".
std::string format_local(TimePoint time, const char* format);

}  // namespace opdbus
