// OVSDB transport; see stream.h.
#include "proto/ovsdb/stream.h"

#include <fcntl.h>
#include <netdb.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "base/fs.h"

namespace opdbus::ovsdb {
namespace {

Result<UniqueFd> connect_unix(const std::string& path) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path.size() >= sizeof address.sun_path)
    return fail(ErrorCode::invalid_input, "OVSDB socket path too long: {}", path);
  path.copy(address.sun_path, path.size());
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return fail(ErrorCode::io, "socket: {}", errno_text(errno));
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0)
    return fail(ErrorCode::unavailable, "connect to OVSDB at unix:{}: {}", path, errno_text(errno));
  return fd;
}

Result<UniqueFd> connect_tcp(const std::string& scheme, const std::string& target) {
  auto colon = target.rfind(':');
  if (colon == std::string::npos)
    return fail(ErrorCode::invalid_input, "OVSDB address {}:{} lacks a port", scheme, target);
  auto host = target.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (int rc = ::getaddrinfo(host.c_str(), target.substr(colon + 1).c_str(), &hints, &found); rc)
    return fail(ErrorCode::invalid_input, "OVSDB address {}:{}: {}", scheme, target,
                gai_strerror(rc));
  std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> list(found, freeaddrinfo);
  std::string last_error = "no address";
  for (auto* entry = list.get(); entry; entry = entry->ai_next) {
    UniqueFd fd(::socket(entry->ai_family, entry->ai_socktype | SOCK_CLOEXEC, entry->ai_protocol));
    if (fd && ::connect(fd.get(), entry->ai_addr, entry->ai_addrlen) == 0) return fd;
    last_error = errno_text(errno);
  }
  return fail(ErrorCode::unavailable, "connect to OVSDB at {}:{}: {}", scheme, target, last_error);
}

std::string tls_error() {
  unsigned long code = ERR_get_error();
  if (code == 0) return "unknown TLS error";
  char text[256];
  ERR_error_string_n(code, text, sizeof text);
  ERR_clear_error();
  return text;
}

}  // namespace

void Stream::SslFree::operator()(SSL* ssl) const {
  SSL_free(ssl);
}

void Stream::ContextFree::operator()(SSL_CTX* context) const {
  SSL_CTX_free(context);
}

Result<Stream> Stream::open(const std::string& address, const TlsFiles& tls) {
  Stream stream;
  stream.address_ = address;
  if (address.starts_with("unix:")) {
    stream.fd_ = TRY(connect_unix(address.substr(5)));
    return stream;
  }
  if (address.starts_with("tcp:")) {
    stream.fd_ = TRY(connect_tcp("tcp", address.substr(4)));
    return stream;
  }
  if (!address.starts_with("ssl:"))
    return fail(ErrorCode::invalid_input,
                "OVSDB address '{}' is not unix:PATH, tcp:HOST:PORT or ssl:HOST:PORT", address);
  if (tls.private_key.empty() || tls.certificate.empty() || tls.ca_certificate.empty())
    return fail(ErrorCode::invalid_input,
                "OVSDB address {} needs --ovsdb-private-key, --ovsdb-certificate and "
                "--ovsdb-ca-cert",
                address);
  stream.context_.reset(SSL_CTX_new(TLS_client_method()));
  auto* context = stream.context_.get();
  if (!context) return fail(ErrorCode::internal, "TLS: {}", tls_error());
  SSL_CTX_set_min_proto_version(context, TLS1_2_VERSION);
  if (SSL_CTX_use_certificate_chain_file(context, tls.certificate.c_str()) != 1)
    return fail(ErrorCode::invalid_input, "certificate {}: {}", tls.certificate, tls_error());
  if (SSL_CTX_use_PrivateKey_file(context, tls.private_key.c_str(), SSL_FILETYPE_PEM) != 1 ||
      SSL_CTX_check_private_key(context) != 1)
    return fail(ErrorCode::invalid_input, "private key {}: {}", tls.private_key, tls_error());
  if (SSL_CTX_load_verify_locations(context, tls.ca_certificate.c_str(), nullptr) != 1)
    return fail(ErrorCode::invalid_input, "CA certificate {}: {}", tls.ca_certificate, tls_error());
  SSL_CTX_set_verify(context, SSL_VERIFY_PEER, nullptr);
  stream.fd_ = TRY(connect_tcp("ssl", address.substr(4)));
  stream.ssl_.reset(SSL_new(context));
  if (!stream.ssl_ || SSL_set_fd(stream.ssl_.get(), stream.fd_.get()) != 1)
    return fail(ErrorCode::internal, "TLS: {}", tls_error());
  if (SSL_connect(stream.ssl_.get()) != 1)
    return fail(ErrorCode::unavailable, "TLS handshake with OVSDB at {}: {}", address, tls_error());
  // Non-blocking from here: a partial TLS record must not block a read poll(2) woke up for.
  ::fcntl(stream.fd_.get(), F_SETFL, ::fcntl(stream.fd_.get(), F_GETFL) | O_NONBLOCK);
  return stream;
}

Status Stream::write_all(std::string_view data) {
  if (!fd_) return fail(ErrorCode::unavailable, "the OVSDB connection to {} is closed", address_);
  if (!ssl_) return opdbus::write_all(fd_.get(), data, address_);
  while (!data.empty()) {
    int written = SSL_write(ssl_.get(), data.data(), static_cast<int>(data.size()));
    if (written > 0) {
      data.remove_prefix(static_cast<size_t>(written));
      continue;
    }
    int error = SSL_get_error(ssl_.get(), written);
    if (error != SSL_ERROR_WANT_WRITE && error != SSL_ERROR_WANT_READ)
      return fail(ErrorCode::unavailable, "TLS write to {}: {}", address_, tls_error());
    pollfd ready{fd_.get(), static_cast<short>(error == SSL_ERROR_WANT_WRITE ? POLLOUT : POLLIN),
                 0};
    if (::poll(&ready, 1, 5000) <= 0)
      return fail(ErrorCode::unavailable, "TLS write to {}: the peer does not read", address_);
  }
  return ok();
}

Result<size_t> Stream::read(char* buffer, size_t size) {
  if (!fd_) return fail(ErrorCode::unavailable, "the OVSDB connection to {} is closed", address_);
  if (ssl_) {
    int got = SSL_read(ssl_.get(), buffer, static_cast<int>(size));
    if (got > 0) return static_cast<size_t>(got);
    int error = SSL_get_error(ssl_.get(), got);
    if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE) return size_t{0};
    close();
    return fail(ErrorCode::unavailable, "OVSDB connection to {}: {}", address_,
                error == SSL_ERROR_ZERO_RETURN ? std::string("closed by the server") : tls_error());
  }
  auto got = ::recv(fd_.get(), buffer, size, MSG_DONTWAIT);
  if (got > 0) return static_cast<size_t>(got);
  if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return size_t{0};
  auto why = got == 0 ? std::string("closed by the server") : errno_text(errno);
  close();
  return fail(ErrorCode::unavailable, "OVSDB connection to {}: {}", address_, why);
}

bool Stream::buffered() const {
  return ssl_ && SSL_pending(ssl_.get()) > 0;
}

void Stream::close() {
  ssl_.reset();
  fd_.reset();
}

}  // namespace opdbus::ovsdb
