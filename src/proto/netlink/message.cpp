// Message building over libmnl's bounds-checked attribute writers.
#include "proto/netlink/message.h"

#include <libmnl/libmnl.h>

namespace opdbus::netlink {

Message::Message(uint16_t type, uint16_t flags) : buffer_(kCapacity, 0) {
  auto* nlh = mnl_nlmsg_put_header(buffer_.data());
  nlh->nlmsg_type = type;
  nlh->nlmsg_flags = NLM_F_REQUEST | flags;
}

void* Message::put_extra_header_bytes(size_t size) {
  return mnl_nlmsg_put_extra_header(header(), size);
}

void Message::put_u8(uint16_t type, uint8_t value) {
  if (!mnl_attr_put_u8_check(header(), kCapacity, type, value)) overflowed_ = true;
}
void Message::put_u16(uint16_t type, uint16_t value) {
  if (!mnl_attr_put_u16_check(header(), kCapacity, type, value)) overflowed_ = true;
}
void Message::put_u32(uint16_t type, uint32_t value) {
  if (!mnl_attr_put_u32_check(header(), kCapacity, type, value)) overflowed_ = true;
}
void Message::put_string(uint16_t type, std::string_view value) {
  std::string terminated(value);
  if (!mnl_attr_put_strz_check(header(), kCapacity, type, terminated.c_str())) overflowed_ = true;
}
void Message::put_bytes(uint16_t type, const void* data, size_t length) {
  if (!mnl_attr_put_check(header(), kCapacity, type, length, data)) overflowed_ = true;
}
nlattr* Message::begin_nested(uint16_t type) {
  auto* nest = mnl_attr_nest_start_check(header(), kCapacity, type);
  if (!nest) overflowed_ = true;
  return nest;
}
void Message::end_nested(nlattr* nest) {
  if (nest) mnl_attr_nest_end(header(), nest);
}

}  // namespace opdbus::netlink
