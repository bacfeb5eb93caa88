// The cross-platform WireGuard UAPI (wireguard.com/xplatform): a Unix stream socket per device
// (/var/run/wireguard/IFNAME.sock) taking "get=1" and "set=1" requests of key=value lines, keys
// in hex, ended by an empty line; each answer ends with "errno=N" and an empty line.
// Invariants: a request is built whole before anything is written; an answer that is malformed,
// reports errno != 0 or does not end is an error naming the device; keys never appear in errors.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "base/result.h"
#include "proto/wireguard/device.h"

namespace opdbus::wireguard {

inline constexpr const char* kUapiDirectory = "/var/run/wireguard";

std::string uapi_set_request(const DeviceChange& change);
// The "get=1" answer (without its errno line, or with errno=0) as a Device.
Result<Device> parse_uapi_device(std::string_view answer);

// One connection per request, so a restarted implementation is simply reconnected to.
class UapiClient final : public DeviceControl {
 public:
  explicit UapiClient(std::filesystem::path socket) : socket_(std::move(socket)) {}
  Result<Device> get() override;
  Status set(const DeviceChange& change) override;

 private:
  Result<std::string> exchange(const std::string& request);
  std::filesystem::path socket_;
};

}  // namespace opdbus::wireguard
