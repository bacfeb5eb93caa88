// The self-pipe for signals; see signal_pipe.h.
#include "base/signal_pipe.h"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>

#include "base/fs.h"

namespace opdbus {
namespace {

std::atomic<int> g_write_end{-1};

void forward(int signal) {
  int saved = errno;
  unsigned char number = static_cast<unsigned char>(signal);
  (void)!::write(g_write_end.load(), &number, 1);
  errno = saved;
}

}  // namespace

Result<std::unique_ptr<SignalPipe>> SignalPipe::install(std::initializer_list<int> signals) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0)
    return fail(ErrorCode::internal, "pipe: {}", errno_text(errno));
  std::unique_ptr<SignalPipe> pipe(new SignalPipe());
  pipe->read_end_ = UniqueFd(fds[0]);
  pipe->write_end_ = UniqueFd(fds[1]);
  g_write_end = fds[1];
  for (int signal : signals) {
    struct sigaction action {
    }, previous{};
    action.sa_handler = forward;
    action.sa_flags = SA_RESTART;
    sigemptyset(&action.sa_mask);
    if (::sigaction(signal, &action, &previous) != 0)
      return fail(ErrorCode::internal, "sigaction {}: {}", signal, errno_text(errno));
    pipe->previous_.emplace_back(signal, previous);
  }
  return pipe;
}

SignalPipe::~SignalPipe() {
  for (const auto& [signal, previous] : previous_) ::sigaction(signal, &previous, nullptr);
  g_write_end = -1;
}

std::optional<int> SignalPipe::next() {
  unsigned char number = 0;
  if (::read(read_end_.get(), &number, 1) == 1) return number;
  return std::nullopt;
}

int SignalPipe::wait() {
  for (;;) {
    if (auto signal = next()) return *signal;
    pollfd fd{read_end_.get(), POLLIN, 0};
    ::poll(&fd, 1, -1);
  }
}

}  // namespace opdbus
