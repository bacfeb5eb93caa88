// RFC 3339 formatting and parsing; see clock.h.
#include "base/clock.h"

#include <cctype>
#include <charconv>
#include <ctime>

namespace opdbus {
namespace {

using namespace std::chrono;

bool parse_int(std::string_view text, size_t at, size_t length, int& out) {
  if (at + length > text.size()) return false;
  auto [end, error] = std::from_chars(text.data() + at, text.data() + at + length, out);
  return error == std::errc() && end == text.data() + at + length;
}

}  // namespace

std::string format_rfc3339(TimePoint time, bool fraction) {
  auto micros = floor<microseconds>(time);
  auto day = floor<days>(micros);
  year_month_day date(day);
  hh_mm_ss clock(micros - day);
  auto text = fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}", int(date.year()),
                          unsigned(date.month()), unsigned(date.day()), clock.hours().count(),
                          clock.minutes().count(), clock.seconds().count());
  if (fraction) text += fmt::format(".{:06}", clock.subseconds().count());
  return text + "Z";
}

std::string format_local(TimePoint time, const char* format) {
  std::time_t seconds = system_clock::to_time_t(time);
  std::tm local{};
  ::localtime_r(&seconds, &local);
  char text[128];
  return std::string(text, std::strftime(text, sizeof text, format, &local));
}

Result<TimePoint> parse_rfc3339(std::string_view text) {
  auto bad = [&] {
    return fail(ErrorCode::invalid_input,
                "'{}' is not an RFC 3339 time (like 2026-11-25T14:30:00Z)", text);
  };
  int y, mo, d, h, mi, s;
  if (!parse_int(text, 0, 4, y) || text.size() < 19 || text[4] != '-' ||
      !parse_int(text, 5, 2, mo) || text[7] != '-' || !parse_int(text, 8, 2, d) ||
      (text[10] != 'T' && text[10] != ' ') || !parse_int(text, 11, 2, h) || text[13] != ':' ||
      !parse_int(text, 14, 2, mi) || text[16] != ':' || !parse_int(text, 17, 2, s))
    return bad();
  year_month_day date{year(y), month(unsigned(mo)), day(unsigned(d))};
  if (!date.ok() || h > 23 || mi > 59 || s > 60) return bad();
  size_t at = 19;
  microseconds fraction{0};
  if (at < text.size() && text[at] == '.') {
    size_t digits = 0;
    int64_t value = 0;
    for (++at; at < text.size() && std::isdigit(static_cast<unsigned char>(text[at]));
         ++at, ++digits)
      if (digits < 6) value = value * 10 + (text[at] - '0');
    if (digits == 0) return bad();
    for (size_t k = digits; k < 6; ++k) value *= 10;
    fraction = microseconds(value);
  }
  minutes offset{0};
  if (at < text.size() && (text[at] == 'Z' || text[at] == 'z')) {
    ++at;
  } else if (at < text.size() && (text[at] == '+' || text[at] == '-')) {
    int oh, om;
    if (!parse_int(text, at + 1, 2, oh) || text.size() < at + 6 || text[at + 3] != ':' ||
        !parse_int(text, at + 4, 2, om))
      return bad();
    offset = minutes((oh * 60 + om) * (text[at] == '-' ? -1 : 1));
    at += 6;
  } else {
    return bad();
  }
  if (at != text.size()) return bad();
  return TimePoint(sys_days(date).time_since_epoch() + hours(h) + minutes(mi) + seconds(s) +
                   fraction - offset);
}

}  // namespace opdbus
