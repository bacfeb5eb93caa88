// IP addresses and prefixes as values: parsing from text, formatting, prefix normalisation.
// Invariant: a Prefix always has its host bits cleared, so equal networks compare equal.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/result.h"

namespace opdbus::netlink {

struct IpAddress {
  int family = 0;  // AF_INET or AF_INET6
  std::array<uint8_t, 16> bytes{};

  static Result<IpAddress> parse(std::string_view text);
  static Result<IpAddress> from_bytes(int family, const void* data, size_t length);
  size_t length() const { return family == 4 || family == 2 ? 4 : 16; }
  std::string to_string() const;
  bool is_ipv6_link_local() const;
  bool operator==(const IpAddress&) const = default;
};

struct Prefix {
  IpAddress address;
  uint8_t length = 0;

  // Accepts "10.0.0.0/8", "2001:db8::/32", a bare address (host prefix) or "default".
  static Result<Prefix> parse(std::string_view text, int default_family = 0);
  std::string to_string() const;
  bool operator==(const Prefix&) const = default;
};

int max_prefix_length(int family);

}  // namespace opdbus::netlink
