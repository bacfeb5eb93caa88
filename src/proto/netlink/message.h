// Message: one netlink request under construction, built with libmnl into an owned buffer.
// Invariant: the buffer never overflows; an attribute that does not fit marks the message as
// overflowed and Socket refuses to send it.
#pragma once

#include <linux/netlink.h>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace opdbus::netlink {

class Message {
 public:
  static constexpr size_t kCapacity = 2048;
  Message(uint16_t type, uint16_t flags);

  nlmsghdr* header() { return reinterpret_cast<nlmsghdr*>(buffer_.data()); }
  const nlmsghdr* header() const { return reinterpret_cast<const nlmsghdr*>(buffer_.data()); }
  template <typename T>
  T* put_extra_header() {
    return static_cast<T*>(put_extra_header_bytes(sizeof(T)));
  }
  void put_u8(uint16_t type, uint8_t value);
  void put_u16(uint16_t type, uint16_t value);
  void put_u32(uint16_t type, uint32_t value);
  void put_string(uint16_t type, std::string_view value);
  void put_bytes(uint16_t type, const void* data, size_t length);
  nlattr* begin_nested(uint16_t type);
  void end_nested(nlattr* nest);
  bool overflowed() const { return overflowed_; }
  std::span<const uint8_t> bytes() const { return {buffer_.data(), header()->nlmsg_len}; }

 private:
  void* put_extra_header_bytes(size_t size);
  std::vector<uint8_t> buffer_;
  bool overflowed_ = false;
};

// Visits the attributes in [begin, end), stopping at the first malformed one.
template <typename Visitor>
void for_each_attribute_in(const uint8_t* begin, const uint8_t* end, Visitor&& visit) {
  while (begin + sizeof(nlattr) <= end) {
    const auto* attr = reinterpret_cast<const nlattr*>(begin);
    if (attr->nla_len < sizeof(nlattr) || begin + attr->nla_len > end) return;
    visit(attr);
    begin += NLA_ALIGN(attr->nla_len);
  }
}

// Visits the attributes of a message after its fixed header of `offset` bytes, or of a nest.
// (libmnl's mnl_attr_for_each macros rely on C's implicit void* conversion.)
template <typename Visitor>
void for_each_attribute(const nlmsghdr* nlh, size_t offset, Visitor&& visit) {
  const auto* bytes = reinterpret_cast<const uint8_t*>(nlh);
  for_each_attribute_in(bytes + NLMSG_ALIGN(sizeof(nlmsghdr)) + NLMSG_ALIGN(offset),
                        bytes + nlh->nlmsg_len, visit);
}

template <typename Visitor>
void for_each_nested(const nlattr* nest, Visitor&& visit) {
  const auto* bytes = reinterpret_cast<const uint8_t*>(nest);
  for_each_attribute_in(bytes + NLA_HDRLEN, bytes + nest->nla_len, visit);
}

// A request plus the name of the object it acts on, used in error messages.
struct Request {
  Message message;
  std::string label;
};

}  // namespace opdbus::netlink
