// IP address parsing and formatting over inet_pton/inet_ntop.
#include "proto/netlink/ip_address.h"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <charconv>
#include <cstring>

namespace opdbus::netlink {

int max_prefix_length(int family) {
  return family == AF_INET ? 32 : 128;
}

Result<IpAddress> IpAddress::parse(std::string_view text) {
  std::string copy(text);
  IpAddress out;
  if (inet_pton(AF_INET, copy.c_str(), out.bytes.data()) == 1) {
    out.family = AF_INET;
    return out;
  }
  if (inet_pton(AF_INET6, copy.c_str(), out.bytes.data()) == 1) {
    out.family = AF_INET6;
    return out;
  }
  return fail(ErrorCode::invalid_input, "'{}' is not an IPv4 or IPv6 address", text);
}

Result<IpAddress> IpAddress::from_bytes(int family, const void* data, size_t length) {
  IpAddress out;
  out.family = family;
  if ((family != AF_INET && family != AF_INET6) || length != out.length())
    return fail(ErrorCode::invalid_input, "address of family {} with {} bytes", family, length);
  std::memcpy(out.bytes.data(), data, length);
  return out;
}

std::string IpAddress::to_string() const {
  char text[INET6_ADDRSTRLEN] = {};
  inet_ntop(family, bytes.data(), text, sizeof text);
  return text;
}

bool IpAddress::is_ipv6_link_local() const {
  return family == AF_INET6 && bytes[0] == 0xfe && (bytes[1] & 0xc0) == 0x80;
}

Result<Prefix> Prefix::parse(std::string_view text, int default_family) {
  if (text == "default") {
    if (default_family == 0) default_family = AF_INET;
    Prefix out;
    out.address.family = default_family;
    return out;
  }
  auto slash = text.find('/');
  Prefix out;
  out.address = TRY(IpAddress::parse(text.substr(0, slash)));
  int max_length = max_prefix_length(out.address.family);
  int length = max_length;
  if (slash != std::string_view::npos) {
    auto digits = text.substr(slash + 1);
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), length);
    if (ec != std::errc() || end != digits.data() + digits.size() || length < 0 ||
        length > max_length)
      return fail(ErrorCode::invalid_input, "'{}' has an invalid prefix length (0-{})", text,
                  max_length);
  }
  out.length = static_cast<uint8_t>(length);
  for (int bit = length; bit < max_length; ++bit)
    out.address.bytes[bit / 8] &= ~(0x80 >> (bit % 8));
  return out;
}

std::string Prefix::to_string() const {
  if (length == 0) return address.family == AF_INET6 ? "::/0" : "0.0.0.0/0";
  return address.to_string() + "/" + std::to_string(length);
}

}  // namespace opdbus::netlink
