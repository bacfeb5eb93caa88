// Endpoint parsing and formatting; see device.h.
#include "proto/wireguard/device.h"

#include <charconv>

namespace opdbus::wireguard {

Result<Endpoint> Endpoint::parse(std::string_view text) {
  auto colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0)
    return fail(ErrorCode::invalid_input, "endpoint '{}' is not ADDRESS:PORT", text);
  auto host = text.substr(0, colon);
  if (host.front() == '[') {
    if (host.back() != ']')
      return fail(ErrorCode::invalid_input, "endpoint '{}' is not [IPv6]:PORT", text);
    host = host.substr(1, host.size() - 2);
  }
  Endpoint endpoint;
  endpoint.address = TRY(netlink::IpAddress::parse(host));
  auto port_text = text.substr(colon + 1);
  unsigned port = 0;
  auto [end, error] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (error != std::errc() || end != port_text.data() + port_text.size() || port == 0 ||
      port > 65535)
    return fail(ErrorCode::invalid_input, "endpoint '{}' has no port from 1 to 65535", text);
  endpoint.port = static_cast<uint16_t>(port);
  return endpoint;
}

std::string Endpoint::to_string() const {
  auto host = address.to_string();
  return (address.length() == 16 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

}  // namespace opdbus::wireguard
