// The WireGuard UAPI client; see uapi.h.
#include "proto/wireguard/uapi.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <charconv>
#include <cstdlib>
#include <cstring>

#include "base/unique_fd.h"

namespace opdbus::wireguard {
namespace {

void line(std::string& out, std::string_view key, std::string_view value) {
  out.append(key).append("=").append(value).append("\n");
}

void add_peer(std::string& out, const PeerChange& change) {
  const auto& peer = change.peer;
  line(out, "public_key", peer.public_key.hex());
  if (change.remove) return line(out, "remove", "true");
  if (change.update_only) line(out, "update_only", "true");
  if (change.clear_preshared_key) line(out, "preshared_key", Key{}.hex());
  if (peer.preshared_key) line(out, "preshared_key", peer.preshared_key->hex());
  if (peer.endpoint) line(out, "endpoint", peer.endpoint->to_string());
  line(out, "persistent_keepalive_interval", std::to_string(peer.persistent_keepalive));
  if (change.replace_allowed_ips) line(out, "replace_allowed_ips", "true");
  for (const auto& prefix : peer.allowed_ips) line(out, "allowed_ip", prefix.to_string());
}

template <typename Number>
Result<Number> number(std::string_view key, std::string_view value) {
  Number parsed{};
  auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), parsed);
  if (error != std::errc() || end != value.data() + value.size())
    return fail(ErrorCode::invalid_input, "UAPI: {}={} is not a number", key, value);
  return parsed;
}

// Applies one key=value line of a "get" answer to the device or to its last peer.
Status read_line(std::string_view key, std::string_view value, Device& device) {
  Peer* peer = device.peers.empty() ? nullptr : &device.peers.back();
  if (key == "private_key") {
    device.private_key = TRY(Key::from_hex(value));
  } else if (key == "listen_port") {
    device.listen_port = TRY(number<uint16_t>(key, value));
  } else if (key == "fwmark") {
    device.fwmark = TRY(number<uint32_t>(key, value));
  } else if (key == "public_key") {
    device.peers.push_back({});
    device.peers.back().public_key = TRY(Key::from_hex(value));
  } else if (peer == nullptr) {
    return ok();  // a device-level key this client does not know
  } else if (key == "preshared_key") {
    auto psk = TRY(Key::from_hex(value));
    if (psk != Key{}) peer->preshared_key = psk;
  } else if (key == "endpoint") {
    peer->endpoint = TRY(Endpoint::parse(value));
  } else if (key == "persistent_keepalive_interval") {
    peer->persistent_keepalive = TRY(number<uint16_t>(key, value));
  } else if (key == "allowed_ip") {
    peer->allowed_ips.push_back(TRY(netlink::Prefix::parse(value)));
  } else if (key == "last_handshake_time_sec") {
    peer->last_handshake_seconds = TRY(number<int64_t>(key, value));
  } else if (key == "last_handshake_time_nsec") {
    peer->last_handshake_nanoseconds = TRY(number<int64_t>(key, value));
  } else if (key == "rx_bytes") {
    peer->rx_bytes = TRY(number<uint64_t>(key, value));
  } else if (key == "tx_bytes") {
    peer->tx_bytes = TRY(number<uint64_t>(key, value));
  }
  return ok();
}

Status check_errno(std::string_view answer, const std::string& device) {
  auto at = answer.rfind("errno=");
  if (at == std::string_view::npos)
    return fail(ErrorCode::io, "WireGuard device {}: the answer has no errno line", device);
  auto value = answer.substr(at + 6);
  value = value.substr(0, value.find('\n'));
  auto code = number<int>("errno", value);
  if (!code) return make_failure(code.error());
  if (*code != 0)  // wireguard-go answers with negative errno values
    return fail(ErrorCode::kernel, "WireGuard device {} refused the request: {}", device,
                std::strerror(std::abs(*code)));
  return ok();
}

}  // namespace

std::string uapi_set_request(const DeviceChange& change) {
  std::string out = "set=1\n";
  if (change.private_key) line(out, "private_key", change.private_key->hex());
  if (change.listen_port) line(out, "listen_port", std::to_string(*change.listen_port));
  if (change.fwmark) line(out, "fwmark", std::to_string(*change.fwmark));
  if (change.replace_peers) line(out, "replace_peers", "true");
  for (const auto& peer : change.peers) add_peer(out, peer);
  return out + "\n";
}

Result<Device> parse_uapi_device(std::string_view answer) {
  Device device;
  while (!answer.empty()) {
    auto end = answer.find('\n');
    auto text = answer.substr(0, end);
    answer = end == std::string_view::npos ? std::string_view() : answer.substr(end + 1);
    if (text.empty() || text.starts_with("errno=")) continue;
    auto equals = text.find('=');
    if (equals == std::string_view::npos)
      return fail(ErrorCode::invalid_input, "UAPI: malformed line '{}'",
                  text.substr(0, std::min<size_t>(text.size(), 40)));
    TRY(read_line(text.substr(0, equals), text.substr(equals + 1), device));
  }
  return device;
}

Result<std::string> UapiClient::exchange(const std::string& request) {
  auto name = socket_.stem().string();
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (socket_.native().size() >= sizeof(address.sun_path))
    return fail(ErrorCode::invalid_input, "UAPI socket path {} is too long", socket_.string());
  std::strcpy(address.sun_path, socket_.c_str());
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd || ::connect(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0)
    return fail(ErrorCode::unavailable, "WireGuard device {}: cannot connect to {}: {}", name,
                socket_.string(), std::strerror(errno));
  for (size_t sent = 0; sent < request.size();) {
    auto written = ::send(fd.get(), request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (written <= 0)
      return fail(ErrorCode::io, "WireGuard device {}: {}", name, std::strerror(errno));
    sent += static_cast<size_t>(written);
  }
  std::string answer;
  char buffer[4096];
  while (answer.find("\n\n") == std::string::npos) {
    auto got = ::recv(fd.get(), buffer, sizeof buffer, 0);
    if (got <= 0) return fail(ErrorCode::io, "WireGuard device {}: the answer ended early", name);
    answer.append(buffer, static_cast<size_t>(got));
  }
  TRY(check_errno(answer, name));
  return answer;
}

Result<Device> UapiClient::get() {
  auto answer = TRY(exchange("get=1\n\n"));
  return parse_uapi_device(answer);
}

Status UapiClient::set(const DeviceChange& change) {
  TRY(exchange(uapi_set_request(change)));
  return ok();
}

}  // namespace opdbus::wireguard
