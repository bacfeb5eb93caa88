// A thin RAII seam over liblxc's lxc_container: every call op-dbus makes to liblxc goes through
// here, and every failure becomes an Error naming the container (with liblxc's own error string,
// and the tail of the container's log where one was set).
// Invariants: a Container owns exactly one reference (lxc_container_put on destruction); nothing
// here runs an lxc-* command; configuration changes stay in memory until save_config().
#pragma once

#include <errno.h>  // liblxc's headers use errno constants without including it

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"

struct lxc_container;

namespace opdbus::lxc {

// LXC's configured default container directory (lxc.lxcpath, usually /var/lib/lxc).
std::filesystem::path default_path();
// The names of the containers defined under `path` (sorted).
Result<std::vector<std::string>> defined_containers(const std::filesystem::path& path);

class Container {
 public:
  static Result<Container> open(const std::string& name, const std::filesystem::path& path);

  const std::string& name() const { return name_; }
  bool defined() const;
  bool running() const;
  std::string state() const;  // "STOPPED", "RUNNING", ...
  pid_t init_pid() const;
  std::filesystem::path directory() const;  // PATH/NAME

  // nullopt when the key is unset (or unknown to this liblxc).
  std::optional<std::string> config_item(const std::string& key) const;
  Status set_config_item(const std::string& key, const std::string& value);
  Status clear_config_item(const std::string& key);
  Status save_config();
  // Writes the running container's cgroup item (`subsystem` like "memory.max").
  Status set_cgroup_item(const std::string& subsystem, const std::string& value);
  // Where liblxc logs this container's start and stop (in memory only; not saved).
  Status log_to(const std::filesystem::path& file);

  Status create(const std::string& template_name, const std::vector<std::string>& arguments,
                const std::string& backing);
  // A copy of this (stopped) container named `new_name` in the same directory; a snapshot of
  // its root filesystem when `snapshot` (BTRFS subvolume snapshot for a btrfs-backed one).
  Result<Container> clone(const std::string& new_name, bool snapshot) const;
  Status start();  // daemonized; returns once the container runs
  // Asks init to shut down, waiting up to `timeout`; then kills it if it is still running.
  Status stop(std::chrono::seconds timeout);
  Status destroy();

 private:
  struct Put {
    void operator()(lxc_container* container) const noexcept;
  };
  Container(std::string name, std::unique_ptr<lxc_container, Put> handle)
      : name_(std::move(name)), handle_(std::move(handle)) {}
  Error failure(const std::string& what) const;

  std::string name_;
  std::unique_ptr<lxc_container, Put> handle_;
  std::filesystem::path log_;
};

}  // namespace opdbus::lxc
