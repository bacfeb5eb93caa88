// Log output; see logging.h.
#include "app/logging.h"

#include <spdlog/pattern_formatter.h>
#include <spdlog/spdlog.h>

#include <cstdlib>

namespace opdbus::cli {
namespace {

// "%*": the syslog priority of the message's level, in angle brackets (sd-daemon(3)).
class SyslogPriority final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& message, const std::tm&,
              spdlog::memory_buf_t& out) override {
    static constexpr const char* kPriorities[] = {"<7>", "<7>", "<6>", "<4>", "<3>", "<2>", "<6>"};
    std::string_view priority = kPriorities[static_cast<int>(message.level)];
    out.append(priority.data(), priority.data() + priority.size());
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<SyslogPriority>();
  }
};

}  // namespace

void configure_logging(bool verbose) {
  spdlog::set_level(verbose ? spdlog::level::debug : spdlog::level::warn);
  if (std::getenv("JOURNAL_STREAM")) {
    auto formatter = std::make_unique<spdlog::pattern_formatter>();
    formatter->add_flag<SyslogPriority>('*').set_pattern("%*%v");
    spdlog::set_formatter(std::move(formatter));
  }
}

}  // namespace opdbus::cli
