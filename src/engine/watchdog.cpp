// Commit watchdog; see watchdog.h.
#include "engine/watchdog.h"

#include <fcntl.h>
#include <linux/close_range.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <thread>

#include "base/fs.h"
#include "base/unique_fd.h"
#include "engine/engine.h"

namespace opdbus {
namespace {

constexpr const char* kWatchdogName = "op-dbus-wdog";

void redirect_stdio(const std::filesystem::path& log_path) {
  int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  int log_fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (null_fd >= 0) ::dup2(null_fd, STDIN_FILENO);
  if (log_fd >= 0) {
    ::dup2(log_fd, STDOUT_FILENO);
    ::dup2(log_fd, STDERR_FILENO);
  }
}

[[noreturn]] void run_watchdog(Engine& engine, const std::string& checkpoint_id, int64_t deadline) {
  ::prctl(PR_SET_NAME, kWatchdogName);
  auto until = std::chrono::system_clock::time_point(std::chrono::seconds(deadline));
  std::this_thread::sleep_until(until);
  auto reverted = engine.expire_pending(checkpoint_id);
  if (!reverted) {
    fmt::print(stderr, "op-dbus watchdog: reverting {} failed: {}\n", checkpoint_id,
               reverted.error().describe());
    std::_Exit(1);
  }
  if (*reverted)
    fmt::print("op-dbus watchdog: {} was not committed in time and was rolled back\n",
               checkpoint_id);
  std::fflush(stdout);
  std::_Exit(0);
}

bool is_watchdog(int pid) {
  auto comm = read_file(fmt::format("/proc/{}/comm", pid));
  return comm && comm->rfind(kWatchdogName, 0) == 0;
}

}  // namespace

Result<int> spawn_commit_watchdog(Engine& engine, const std::string& checkpoint_id,
                                  int64_t deadline, const std::filesystem::path& log_path) {
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) return fail(ErrorCode::io, "pipe: {}", errno_text(errno));
  UniqueFd read_end(pipe_fds[0]), write_end(pipe_fds[1]);
  std::fflush(nullptr);
  pid_t child = ::fork();
  if (child < 0) return fail(ErrorCode::io, "fork watchdog: {}", errno_text(errno));
  if (child == 0) {
    ::setsid();
    // The parent may forward signals to its event loop or block them; the watchdog must die by
    // SIGTERM like any process.
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    for (int signal : {SIGTERM, SIGINT, SIGHUP}) ::signal(signal, SIG_DFL);
    pid_t grandchild = ::fork();
    if (grandchild != 0) std::_Exit(grandchild < 0 ? 1 : 0);
    read_end.reset();
    int self = ::getpid();
    if (::write(write_end.get(), &self, sizeof self) != sizeof self) std::_Exit(1);
    write_end.reset();
    redirect_stdio(log_path);
    engine.abandon_inherited_ledger();
    ::close_range(3, ~0U, 0);  // drop inherited descriptors, the state lock's above all
    run_watchdog(engine, checkpoint_id, deadline);
  }
  write_end.reset();
  int status = 0;
  ::waitpid(child, &status, 0);
  int watchdog_pid = 0;
  if (::read(read_end.get(), &watchdog_pid, sizeof watchdog_pid) != sizeof watchdog_pid)
    return fail(ErrorCode::io, "the commit watchdog did not start");
  return watchdog_pid;
}

void stop_commit_watchdog(int pid) {
  if (pid > 0 && is_watchdog(pid)) ::kill(pid, SIGTERM);
}

}  // namespace opdbus
