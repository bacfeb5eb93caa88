// Generic netlink family lookup; see generic.h. One dump of every family (CTRL_CMD_GETFAMILY
// with NLM_F_DUMP), which needs no privilege, rather than a request that fails with ENOENT.
#include "proto/netlink/generic.h"

#include <libmnl/libmnl.h>
#include <linux/genetlink.h>

#include <cstring>
#include <string>

namespace opdbus::netlink {

Result<std::optional<uint16_t>> generic_family_id(Socket& socket, std::string_view name) {
  Message request(GENL_ID_CTRL, NLM_F_DUMP);
  auto* header = request.put_extra_header<genlmsghdr>();
  header->cmd = CTRL_CMD_GETFAMILY;
  header->version = 1;
  std::optional<uint16_t> found;
  TRY(socket.dump(std::move(request), [&](const nlmsghdr& message) -> Status {
    std::optional<uint16_t> id;
    std::string family;
    for_each_attribute(&message, GENL_HDRLEN, [&](const nlattr* attribute) {
      auto type = mnl_attr_get_type(attribute);
      if (type == CTRL_ATTR_FAMILY_ID && mnl_attr_get_payload_len(attribute) >= 2)
        id = mnl_attr_get_u16(attribute);
      if (type == CTRL_ATTR_FAMILY_NAME)
        family.assign(mnl_attr_get_str(attribute),
                      strnlen(mnl_attr_get_str(attribute), mnl_attr_get_payload_len(attribute)));
    });
    if (family == name) found = id;
    return ok();
  }));
  return found;
}

}  // namespace opdbus::netlink
