// WireGuard keys: 32-byte Curve25519 keys, written base64 in configuration files and hex on the
// UAPI socket. Private keys are generated and their public keys derived with OpenSSL's X25519.
// Invariants: a Key always holds exactly 32 bytes; key files are created with mode 0600 and never
// overwritten; nothing here logs or prints a key.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "base/result.h"

namespace opdbus::wireguard {

struct Key {
  std::array<uint8_t, 32> bytes{};

  static Result<Key> from_base64(std::string_view text);
  static Result<Key> from_hex(std::string_view text);
  static Result<Key> generate_private();
  std::string base64() const;
  std::string hex() const;
  Result<Key> public_key() const;  // of this private key
  // 16 hex digits of the key's SHA-256: names a secret (a preshared key) without revealing it.
  std::string fingerprint() const;
  bool operator==(const Key&) const = default;
};

// Reads a base64 key file (trailing white space allowed).
Result<Key> read_key_file(const std::filesystem::path& file);
// Writes `key` to a new file `file` (mode 0600), atomically: the file appears whole or not at all.
// An existing file is never overwritten; one that already holds `key` is success.
Status write_key_file(const std::filesystem::path& file, const Key& key);
// The key in `file`, or a new private key written there (mode 0600) when the file does not exist.
Result<Key> load_or_create_private_key(const std::filesystem::path& file);

}  // namespace opdbus::wireguard
