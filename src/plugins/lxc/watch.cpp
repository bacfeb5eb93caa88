// The lxc plugin's drift watch; see watch.h.
#include "plugins/lxc/watch.h"

#include <sys/inotify.h>
#include <unistd.h>

#include <map>

#include "base/fs.h"
#include "base/unique_fd.h"

namespace opdbus::lxcplugin {
namespace {

constexpr const char* kPayloadPrefix = "lxc.payload.";

// The cgroup directory LXC creates container cgroups in: the v2 root, or a v1 hierarchy's.
std::filesystem::path cgroup_root() {
  std::error_code error;
  if (std::filesystem::exists("/sys/fs/cgroup/cgroup.controllers", error)) return "/sys/fs/cgroup";
  for (const char* hierarchy : {"pids", "memory", "systemd"})
    if (std::filesystem::is_directory(std::filesystem::path("/sys/fs/cgroup") / hierarchy, error))
      return std::filesystem::path("/sys/fs/cgroup") / hierarchy;
  return {};
}

class LxcWatch final : public Watch {
 public:
  LxcWatch(UniqueFd fd, std::filesystem::path lxc_path, WatchCallback callback)
      : fd_(std::move(fd)), lxc_path_(std::move(lxc_path)), callback_(std::move(callback)) {}

  Status start() {
    path_watch_ =
        TRY(add(lxc_path_, IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_ONLYDIR));
    std::error_code error;
    for (const auto& entry : std::filesystem::directory_iterator(lxc_path_, error))
      if (entry.is_directory(error)) watch_container(entry.path().filename());
    if (auto root = cgroup_root(); !root.empty())
      cgroup_watch_ = TRY(add(root, IN_CREATE | IN_DELETE | IN_ONLYDIR));
    return ok();
  }

  int fd() const override { return fd_.get(); }

  Status dispatch() override {
    alignas(inotify_event) char buffer[8192];
    for (;;) {
      auto got = ::read(fd_.get(), buffer, sizeof buffer);
      if (got < 0 && (errno == EAGAIN || errno == EINTR)) return ok();
      if (got <= 0) return fail(ErrorCode::io, "lxc watch: {}", errno_text(errno));
      for (char* at = buffer; at < buffer + got;) {
        const auto* event = reinterpret_cast<const inotify_event*>(at);
        if (event->mask & IN_Q_OVERFLOW) return fail(ErrorCode::io, "lxc watch: events overflowed");
        handle(*event);
        at += sizeof(inotify_event) + event->len;
      }
    }
  }

 private:
  Result<int> add(const std::filesystem::path& path, uint32_t mask) {
    int wd = inotify_add_watch(fd_.get(), path.c_str(), mask);
    if (wd < 0) return fail(ErrorCode::io, "watch {}: {}", path.string(), errno_text(errno));
    return wd;
  }

  void watch_container(const std::string& name) {
    if (auto wd = add(lxc_path_ / name, IN_CLOSE_WRITE | IN_MOVED_TO | IN_ONLYDIR))
      containers_[*wd] = name;
  }

  void handle(const inotify_event& event) {
    std::string name = event.len ? event.name : "";
    bool created = event.mask & (IN_CREATE | IN_MOVED_TO);
    if (event.wd == path_watch_) {
      if (created) watch_container(name);
      callback_({"lxc", created ? "container defined" : "container removed", name, ""});
    } else if (event.wd == cgroup_watch_ && name.starts_with(kPayloadPrefix)) {
      callback_({"lxc", created ? "container started" : "container stopped",
                 name.substr(std::string(kPayloadPrefix).size()), ""});
    } else if (auto container = containers_.find(event.wd);
               container != containers_.end() && name == "config") {
      callback_({"lxc", "config", container->second, ""});
    }
  }

  UniqueFd fd_;
  std::filesystem::path lxc_path_;
  WatchCallback callback_;
  int path_watch_ = -1;
  int cgroup_watch_ = -1;
  std::map<int, std::string> containers_;  // watch descriptor -> container
};

}  // namespace

Result<std::unique_ptr<Watch>> make_lxc_watch(const std::filesystem::path& lxc_path,
                                              WatchCallback callback) {
  UniqueFd fd(inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
  if (!fd) return fail(ErrorCode::internal, "inotify_init1: {}", errno_text(errno));
  auto watch = std::make_unique<LxcWatch>(std::move(fd), lxc_path, std::move(callback));
  TRY(watch->start());
  return std::unique_ptr<Watch>(std::move(watch));
}

}  // namespace opdbus::lxcplugin
