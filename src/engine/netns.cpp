// setns(2) into /run/netns/NAME; see netns.h.
#include "engine/netns.h"

#include <fcntl.h>
#include <sched.h>

#include <cerrno>

#include "base/fs.h"
#include "base/unique_fd.h"

namespace opdbus {

Status enter_network_namespace(const std::string& name) {
  if (name.empty() || name.find('/') != std::string::npos || name == "." || name == "..")
    return fail(ErrorCode::invalid_input, "'{}' is not a network namespace name", name);
  const std::string path = "/run/netns/" + name;
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) {
    if (errno == ENOENT)
      return fail(ErrorCode::invalid_input, "network namespace '{}' does not exist ({})", name,
                  path);
    return fail(ErrorCode::io, "open {}: {}", path, errno_text(errno));
  }
  if (::setns(fd.get(), CLONE_NEWNET) != 0)
    return fail(ErrorCode::unavailable, "enter network namespace '{}': {}", name,
                errno_text(errno));
  return ok();
}

}  // namespace opdbus
