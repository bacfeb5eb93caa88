// Work other threads hand to the daemon's one thread (MCP requests served by the HTTP threads):
// run() queues the work, wakes the loop through an eventfd and waits until the loop has run it.
// Invariants: the work runs only on the loop thread, in arrival order; work the loop thread hands
// over itself runs at once, even after close() (the daemon records at shutdown what the MCP
// transport still holds); after close() no other work runs and run() returns at once (the
// caller sees its work did not happen).
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

#include "base/result.h"
#include "base/unique_fd.h"

namespace opdbus::daemon {

class LoopTasks {
 public:
  // On the loop thread.
  Status open();
  int fd() const { return wake_.get(); }
  void run(const std::function<void()>& work);
  // On the loop thread when fd() is readable.
  void run_pending();
  void close();

 private:
  struct Task {
    const std::function<void()>* work;
    bool done = false;
  };
  UniqueFd wake_;
  std::thread::id loop_thread_;
  std::mutex mutex_;
  std::condition_variable finished_;
  std::deque<Task*> queue_;
  bool closed_ = false;
};

}  // namespace opdbus::daemon
