// The daemon loop; see daemon.h. Signals arrive through a signalfd, so the loop sleeps in one
// poll(2) on the bus and the signals, with no timer.
#include "app/daemon.h"

#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>

#include "api/dbus/manager_service.h"
#include "app/commands.h"
#include "base/fs.h"

namespace opdbus::cli {
namespace {

Result<UniqueFd> termination_signals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  if (sigprocmask(SIG_BLOCK, &signals, nullptr) != 0)
    return fail(ErrorCode::internal, "sigprocmask: {}", errno_text(errno));
  int fd = signalfd(-1, &signals, SFD_CLOEXEC);
  if (fd < 0) return fail(ErrorCode::internal, "signalfd: {}", errno_text(errno));
  return UniqueFd(fd);
}

Status serve(dbus::Bus& bus, int signal_fd) {
  for (;;) {
    TRY(bus.process(std::chrono::milliseconds(0)));
    pollfd fds[] = {{bus.fd(), bus.poll_events(), 0}, {signal_fd, POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0 && errno != EINTR)
      return fail(ErrorCode::internal, "poll: {}", errno_text(errno));
    if (fds[1].revents & POLLIN) return ok();
  }
}

}  // namespace

int run_daemon(Context& context) {
  auto signals = termination_signals();
  if (!signals) return report_error(signals.error());
  auto bus = dbus::Bus::open(context.config.bus_address);
  if (!bus) return report_error(bus.error());
  auto service = api::ManagerService::create(context, *bus);
  if (!service) return report_error(service.error());
  fmt::print(stderr, "op-dbus: serving org.opdbus.Manager1 on the bus\n");
  if (auto served = serve(*bus, signals->get()); !served) return report_error(served.error());
  return kOk;
}

}  // namespace opdbus::cli
