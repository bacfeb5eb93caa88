// Socket: an rtnetlink socket (libmnl) that dumps object tables and executes batches of
// requests. Invariants: every request sent is acknowledged (NLM_F_ACK) and its ACK is matched
// to it by sequence number; no more than kMaxInFlight ACKs are outstanding, so the receive
// buffer cannot overflow and drop an ACK.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/result.h"
#include "proto/netlink/message.h"

struct mnl_socket;

namespace opdbus::netlink {

struct RequestFailure {
  size_t index = 0;    // position in the batch
  int error = 0;       // positive errno
  std::string label;   // the object the request acted on
  std::string detail;  // the kernel's extended-ACK message, if any

  std::string describe() const;
};

class Socket {
 public:
  static constexpr size_t kMaxInFlight = 64;

  // Opens NETLINK_ROUTE (or `protocol`, e.g. NETLINK_GENERIC) in the current network namespace,
  // subscribed to `groups` (RTMGRP_*).
  static Result<Socket> open(unsigned groups = 0, int protocol = NETLINK_ROUTE);

  using MessageHandler = std::function<Status(const nlmsghdr&)>;
  // Sends a dump request and calls `handler` for each object; retries when the dump was
  // interrupted by a concurrent change.
  Status dump(Message request, const MessageHandler& handler);
  // Executes every request; returns the failures (empty when all were acknowledged).
  Result<std::vector<RequestFailure>> execute(std::vector<Request>& requests);
  // Reads pending multicast notifications without blocking.
  Status drain_events(const MessageHandler& handler);
  int fd() const;

 private:
  struct SocketClose {
    void operator()(mnl_socket* socket) const noexcept;
  };
  Socket(std::unique_ptr<mnl_socket, SocketClose> socket, uint32_t port_id);
  Status execute_chunk(std::vector<Request>& requests, size_t first, size_t end,
                       std::vector<RequestFailure>& failures);

  std::unique_ptr<mnl_socket, SocketClose> socket_;
  uint32_t port_id_ = 0;
  uint32_t next_sequence_ = 1;
};

}  // namespace opdbus::netlink
