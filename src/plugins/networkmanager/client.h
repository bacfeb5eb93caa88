// A NetworkManager client over D-Bus (org.freedesktop.NetworkManager): connection profiles with
// their typed settings, active connections, profile add/update/delete, activation awaited on
// the active connection's StateChanged signal, and NetworkManager's own checkpoints.
// Invariant: activation and deactivation are awaited with a deadline and fail with NM's reason.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "base/result.h"
#include "proto/dbus/bus.h"

namespace opdbus::nm {

struct Profile {
  std::string path;  // /org/freedesktop/NetworkManager/Settings/N
  Json settings;     // a{sa{sv}} with typed variants
};

class Client {
 public:
  static Result<Client> connect(const std::string& bus_address);

  Result<std::string> version();
  // Profiles by id.
  Result<std::map<std::string, Profile>> profiles();
  // Active connection path by profile path, for connections that are activated or activating.
  Result<std::map<std::string, std::string>> active_connections();

  Result<std::string> add(const Json& settings);
  Status update(const std::string& profile, const Json& settings);
  Status remove(const std::string& profile);
  Status activate(const std::string& profile, std::chrono::milliseconds timeout);
  Status deactivate(const std::string& active, std::chrono::milliseconds timeout);

  Result<std::string> create_checkpoint();
  Result<std::vector<std::string>> checkpoints();
  Status rollback_checkpoint(const std::string& checkpoint);
  Status destroy_checkpoint(const std::string& checkpoint);

 private:
  explicit Client(dbus::Bus bus) : bus_(std::move(bus)) {}
  Result<Json> call(const std::string& path, const std::string& interface,
                    const std::string& member, const std::string& signature, Json arguments,
                    dbus::Variants variants = dbus::Variants::value);
  Result<Json> property(const std::string& path, const std::string& interface,
                        const std::string& name);
  Status await_state(const std::string& active, uint32_t wanted,
                     std::map<std::string, std::pair<uint32_t, uint32_t>>& states,
                     std::chrono::milliseconds timeout);
  dbus::Bus bus_;
};

}  // namespace opdbus::nm
