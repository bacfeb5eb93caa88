// rtnetlink socket over libmnl; see socket.h for the batching invariants.
#include "proto/netlink/socket.h"

#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include "base/fs.h"

namespace opdbus::netlink {
namespace {

constexpr size_t kReceiveBufferSize = 1 << 20;
constexpr size_t kDumpBufferSize = 1 << 15;

std::string extended_ack_message(const nlmsghdr* nlh) {
  if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS)) return {};
  const auto* error = static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(nlh));
  size_t offset = sizeof(nlmsgerr);
  if (!(nlh->nlmsg_flags & NLM_F_CAPPED)) offset += error->msg.nlmsg_len - sizeof(nlmsghdr);
  std::string message;
  for_each_attribute(nlh, offset, [&](const nlattr* attr) {
    if (mnl_attr_get_type(attr) == NLMSGERR_ATTR_MSG &&
        mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) == 0)
      message = mnl_attr_get_str(attr);
  });
  return message;
}

}  // namespace

std::string RequestFailure::describe() const {
  std::string text = label + ": " + std::strerror(error);
  if (!detail.empty()) text += " (" + detail + ")";
  return text;
}

void Socket::SocketClose::operator()(mnl_socket* socket) const noexcept {
  mnl_socket_close(socket);
}

Socket::Socket(std::unique_ptr<mnl_socket, SocketClose> socket, uint32_t port_id)
    : socket_(std::move(socket)), port_id_(port_id) {}

int Socket::fd() const {
  return mnl_socket_get_fd(socket_.get());
}

Result<Socket> Socket::open(unsigned groups, int protocol) {
  std::unique_ptr<mnl_socket, SocketClose> socket(mnl_socket_open2(protocol, SOCK_CLOEXEC));
  if (!socket) return fail(ErrorCode::unavailable, "open netlink socket: {}", errno_text(errno));
  if (mnl_socket_bind(socket.get(), groups, MNL_SOCKET_AUTOPID) < 0)
    return fail(ErrorCode::unavailable, "bind netlink socket: {}", errno_text(errno));
  int one = 1;
  int fd = mnl_socket_get_fd(socket.get());
  mnl_socket_setsockopt(socket.get(), NETLINK_EXT_ACK, &one, sizeof one);
  mnl_socket_setsockopt(socket.get(), NETLINK_CAP_ACK, &one, sizeof one);
  int size = kReceiveBufferSize;
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) != 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  uint32_t port_id = mnl_socket_get_portid(socket.get());
  return Socket(std::move(socket), port_id);
}

Status Socket::dump(Message request, const MessageHandler& handler) {
  if (request.overflowed()) return fail(ErrorCode::internal, "netlink dump request too large");
  std::vector<uint8_t> buffer(kDumpBufferSize * 2);
  for (int attempt = 0; attempt < 5; ++attempt) {
    uint32_t sequence = next_sequence_++;
    request.header()->nlmsg_seq = sequence;
    auto bytes = request.bytes();
    if (mnl_socket_sendto(socket_.get(), bytes.data(), bytes.size()) < 0)
      return fail(ErrorCode::kernel, "netlink dump request: {}", errno_text(errno));
    Status status = ok();
    bool interrupted = false, done = false;
    while (!done) {
      ssize_t received = mnl_socket_recvfrom(socket_.get(), buffer.data(), buffer.size());
      if (received < 0 && errno == EINTR) continue;
      if (received < 0) return fail(ErrorCode::kernel, "netlink dump: {}", errno_text(errno));
      auto* nlh = reinterpret_cast<const nlmsghdr*>(buffer.data());
      int remaining = static_cast<int>(received);
      for (; mnl_nlmsg_ok(nlh, remaining); nlh = mnl_nlmsg_next(nlh, &remaining)) {
        if (nlh->nlmsg_seq != sequence || nlh->nlmsg_pid != port_id_) continue;  // a stale reply
        if (nlh->nlmsg_flags & NLM_F_DUMP_INTR) interrupted = true;
        if (nlh->nlmsg_type == NLMSG_DONE) {
          done = true;
          break;
        }
        if (nlh->nlmsg_type == NLMSG_ERROR) {
          const auto* error = static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(nlh));
          return fail(ErrorCode::kernel, "netlink dump: {}", errno_text(-error->error));
        }
        if (status) status = handler(*nlh);
      }
    }
    if (!status) return status;
    if (!interrupted) return ok();
  }
  return fail(ErrorCode::kernel, "netlink dump kept being interrupted by concurrent changes");
}

Result<std::vector<RequestFailure>> Socket::execute(std::vector<Request>& requests) {
  std::vector<RequestFailure> failures;
  for (size_t first = 0; first < requests.size(); first += kMaxInFlight) {
    size_t end = std::min(requests.size(), first + kMaxInFlight);
    TRY(execute_chunk(requests, first, end, failures));
  }
  return failures;
}

Status Socket::execute_chunk(std::vector<Request>& requests, size_t first, size_t end,
                             std::vector<RequestFailure>& failures) {
  std::vector<uint8_t> batch;
  uint32_t base_sequence = next_sequence_;
  next_sequence_ += static_cast<uint32_t>(end - first);
  for (size_t i = first; i < end; ++i) {
    auto& message = requests[i].message;
    if (message.overflowed())
      return fail(ErrorCode::internal, "netlink request for {} too large", requests[i].label);
    message.header()->nlmsg_flags |= NLM_F_ACK;
    message.header()->nlmsg_seq = base_sequence + static_cast<uint32_t>(i - first);
    auto bytes = message.bytes();
    batch.insert(batch.end(), bytes.begin(), bytes.end());
  }
  if (mnl_socket_sendto(socket_.get(), batch.data(), batch.size()) < 0)
    return fail(ErrorCode::kernel, "netlink send: {}", errno_text(errno));

  std::vector<uint8_t> buffer(kDumpBufferSize);
  size_t outstanding = end - first;
  while (outstanding > 0) {
    ssize_t received = mnl_socket_recvfrom(socket_.get(), buffer.data(), buffer.size());
    if (received < 0 && errno == EINTR) continue;
    if (received < 0) return fail(ErrorCode::kernel, "netlink receive: {}", errno_text(errno));
    auto* nlh = reinterpret_cast<const nlmsghdr*>(buffer.data());
    int remaining = static_cast<int>(received);
    for (; mnl_nlmsg_ok(nlh, remaining); nlh = mnl_nlmsg_next(nlh, &remaining)) {
      if (nlh->nlmsg_type != NLMSG_ERROR || nlh->nlmsg_pid != port_id_) continue;
      uint32_t offset = nlh->nlmsg_seq - base_sequence;
      if (offset >= end - first) continue;
      --outstanding;
      const auto* error = static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(nlh));
      if (error->error == 0) continue;
      size_t index = first + offset;
      failures.push_back({index, -error->error, requests[index].label, extended_ack_message(nlh)});
    }
  }
  return ok();
}

Status Socket::drain_events(const MessageHandler& handler) {
  std::vector<uint8_t> buffer(kDumpBufferSize);
  for (;;) {
    ssize_t received = recv(fd(), buffer.data(), buffer.size(), MSG_DONTWAIT);
    if (received < 0 && errno == EINTR) continue;
    if (received < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return ok();
    if (received < 0 && errno == ENOBUFS)
      return fail(ErrorCode::kernel, "netlink events overflowed");
    if (received < 0) return fail(ErrorCode::kernel, "netlink events: {}", errno_text(errno));
    auto* nlh = reinterpret_cast<const nlmsghdr*>(buffer.data());
    int remaining = static_cast<int>(received);
    for (; mnl_nlmsg_ok(nlh, remaining); nlh = mnl_nlmsg_next(nlh, &remaining)) TRY(handler(*nlh));
  }
}

}  // namespace opdbus::netlink
