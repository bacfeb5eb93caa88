// The byte stream under the OVSDB client: "unix:PATH", "tcp:HOST:PORT", or "ssl:HOST:PORT" (TLS
// 1.2+ over OpenSSL with a client certificate and key, the server verified against a CA
// certificate, as Open vSwitch does it: by CA, not by host name).
// Invariants: move-only, every handle owned; read() never blocks once poll(2) said readable,
// and buffered() tells about bytes TLS already decrypted, which poll(2) cannot see.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "base/result.h"
#include "base/unique_fd.h"

typedef struct ssl_st SSL;
typedef struct ssl_ctx_st SSL_CTX;

namespace opdbus::ovsdb {

struct TlsFiles {
  std::string private_key;     // PEM
  std::string certificate;     // PEM, may hold the chain
  std::string ca_certificate;  // PEM: the CA that signed the server's certificate
};

class Stream {
 public:
  static Result<Stream> open(const std::string& address, const TlsFiles& tls);
  Status write_all(std::string_view data);
  // Bytes read into `buffer` (0: none available now); an error when the peer closed.
  Result<size_t> read(char* buffer, size_t size);
  bool buffered() const;
  int fd() const { return fd_.get(); }
  explicit operator bool() const { return static_cast<bool>(fd_); }
  void close();

 private:
  struct SslFree {
    void operator()(SSL* ssl) const;
  };
  struct ContextFree {
    void operator()(SSL_CTX* context) const;
  };
  Stream() = default;
  std::string address_;
  UniqueFd fd_;
  std::unique_ptr<SSL_CTX, ContextFree> context_;
  std::unique_ptr<SSL, SslFree> ssl_;  // destroyed before the context and the socket
};

}  // namespace opdbus::ovsdb
