// The daemon's task queue; see loop_tasks.h.
#include "daemon/loop_tasks.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include "base/fs.h"

namespace opdbus::daemon {

Status LoopTasks::open() {
  int fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (fd < 0) return fail(ErrorCode::internal, "eventfd: {}", errno_text(errno));
  wake_ = UniqueFd(fd);
  loop_thread_ = std::this_thread::get_id();
  return ok();
}

void LoopTasks::run(const std::function<void()>& work) {
  if (std::this_thread::get_id() == loop_thread_) return work();
  Task task{&work};
  std::unique_lock lock(mutex_);
  if (closed_) return;
  queue_.push_back(&task);
  uint64_t one = 1;
  (void)!::write(wake_.get(), &one, sizeof one);
  finished_.wait(lock, [&] { return task.done; });
}

void LoopTasks::run_pending() {
  uint64_t count = 0;
  (void)!::read(wake_.get(), &count, sizeof count);
  std::unique_lock lock(mutex_);
  while (!queue_.empty()) {
    auto* task = queue_.front();
    queue_.pop_front();
    lock.unlock();
    (*task->work)();
    lock.lock();
    task->done = true;
    finished_.notify_all();
  }
}

void LoopTasks::close() {
  std::lock_guard lock(mutex_);
  closed_ = true;
  for (auto* task : queue_) task->done = true;
  queue_.clear();
  finished_.notify_all();
}

}  // namespace opdbus::daemon
