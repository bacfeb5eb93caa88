// Signals as readable bytes: handlers for the given signals write each signal's number into a
// pipe that an event loop polls (the self-pipe pattern). Unlike signalfd or sigwait, this works
// whichever thread the kernel picks, including threads a library started before main (OpenBLAS
// starts its thread pool at load time, where a blocked-signal mask cannot reach).
// Invariants: one SignalPipe at a time; the handlers only write(2) (async-signal-safe); the
// previous dispositions are restored on destruction.
#pragma once

#include <csignal>
#include <initializer_list>
#include <memory>
#include <optional>
#include <vector>

#include "base/result.h"
#include "base/unique_fd.h"

namespace opdbus {

class SignalPipe {
 public:
  static Result<std::unique_ptr<SignalPipe>> install(std::initializer_list<int> signals);
  ~SignalPipe();
  int fd() const { return read_end_.get(); }
  // The next pending signal, without blocking; nothing when none is pending.
  std::optional<int> next();
  // Blocks until a signal arrives and returns it.
  int wait();

 private:
  SignalPipe() = default;
  UniqueFd read_end_, write_end_;
  std::vector<std::pair<int, struct sigaction>> previous_;
};

}  // namespace opdbus
