// setns(2) into /run/netns/NAME, then a private view of /sys for it; see netns.h.
#include "engine/netns.h"

#include <fcntl.h>
#include <sched.h>
#include <spdlog/spdlog.h>
#include <sys/mount.h>

#include <cerrno>

#include "base/fs.h"
#include "base/unique_fd.h"

namespace opdbus {
namespace {

// /sys shows the network namespace of whoever mounted it: remount it in a mount namespace of our
// own (mounts from the host still propagate in), as `ip netns exec` does, so that sysfs readers
// such as liblxc's bridge check see this namespace's devices. Unlike `ip netns exec`, the cgroup
// mounts under /sys/fs/cgroup are carried over (liblxc needs them for container limits).
Status remount_sys() {
  if (::unshare(CLONE_NEWNS) != 0)
    return fail(ErrorCode::unavailable, "unshare: {}", errno_text(errno));
  if (::mount(nullptr, "/", nullptr, MS_SLAVE | MS_REC, nullptr) != 0)
    return fail(ErrorCode::unavailable, "make / a slave mount: {}", errno_text(errno));
  UniqueFd cgroups(::open_tree(AT_FDCWD, "/sys/fs/cgroup", OPEN_TREE_CLONE | AT_RECURSIVE));
  if (!cgroups) return fail(ErrorCode::unavailable, "clone /sys/fs/cgroup: {}", errno_text(errno));
  ::umount2("/sys", MNT_DETACH);
  if (::mount("sysfs", "/sys", "sysfs", 0, nullptr) != 0)
    return fail(ErrorCode::unavailable, "mount /sys: {}", errno_text(errno));
  if (::move_mount(cgroups.get(), "", AT_FDCWD, "/sys/fs/cgroup", MOVE_MOUNT_F_EMPTY_PATH) != 0)
    return fail(ErrorCode::unavailable, "mount /sys/fs/cgroup again: {}", errno_text(errno));
  return ok();
}

}  // namespace

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
  if (auto sys = remount_sys(); !sys)
    spdlog::warn("in network namespace '{}', /sys still shows the old one ({})", name,
                 sys.error().describe());
  return ok();
}

}  // namespace opdbus
