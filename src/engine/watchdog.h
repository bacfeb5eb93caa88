// The commit watchdog: a detached process (double fork, own session, stdio to a log file)
// that sleeps until a --no-commit deadline and then reverts the change unless it was committed.
// It survives the applying process being killed. Its pid is returned so `commit` can stop it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "base/result.h"

namespace opdbus {

class Engine;

Result<int> spawn_commit_watchdog(Engine& engine, const std::string& checkpoint_id,
                                  int64_t deadline, const std::filesystem::path& log_path);
// Stops a watchdog started by spawn_commit_watchdog, if that pid is still one.
void stop_commit_watchdog(int pid);

}  // namespace opdbus
