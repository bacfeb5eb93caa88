// SHA-256 digests and the text encodings the ledger uses for them (lowercase hex in blocks,
// standard base64 in signed notes). Thin wrappers over OpenSSL's one-shot functions.
// Invariant: a Digest is always exactly 32 bytes; decoders reject anything else.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace opdbus::ledger {

using Digest = std::array<uint8_t, 32>;
using Bytes = std::span<const uint8_t>;

inline Bytes as_bytes(std::string_view text) {
  return {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
}

Digest sha256(Bytes data);
inline Digest sha256(std::string_view text) {
  return sha256(as_bytes(text));
}

std::string to_hex(Bytes data);
inline std::string to_hex(const Digest& digest) {
  return to_hex(Bytes(digest));
}
std::optional<Digest> digest_from_hex(std::string_view hex);

std::string base64_encode(Bytes data);
std::optional<std::vector<uint8_t>> base64_decode(std::string_view text);

}  // namespace opdbus::ledger
