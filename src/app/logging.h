// Log output: human-readable on a terminal; under systemd (JOURNAL_STREAM set) each line is
// "<PRIORITY>message" with the syslog priority of its level and no timestamp, which journald
// reads as the entry's priority and stamps itself.
#pragma once

namespace opdbus::cli {

void configure_logging(bool verbose);

}  // namespace opdbus::cli
