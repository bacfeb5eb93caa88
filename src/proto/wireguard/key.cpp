// WireGuard keys; see key.h.
#include "proto/wireguard/key.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <memory>

#include "base/unique_fd.h"

namespace opdbus::wireguard {
namespace {

std::string hex_of(const uint8_t* data, size_t length) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string text;
  for (size_t i = 0; i < length; ++i) {
    text += kDigits[data[i] >> 4];
    text += kDigits[data[i] & 15];
  }
  return text;
}

struct PkeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
struct PkeyContextFree {
  void operator()(EVP_PKEY_CTX* context) const { EVP_PKEY_CTX_free(context); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Result<Key> raw_private_key(EVP_PKEY* pkey) {
  Key key;
  size_t length = key.bytes.size();
  if (EVP_PKEY_get_raw_private_key(pkey, key.bytes.data(), &length) != 1 || length != 32)
    return fail(ErrorCode::internal, "OpenSSL could not export an X25519 private key");
  return key;
}

}  // namespace

Result<Key> Key::from_base64(std::string_view text) {
  // 32 bytes are 44 base64 characters ending in one '='.
  if (text.size() != 44 || text.back() != '=')
    return fail(ErrorCode::invalid_input, "a WireGuard key is 44 base64 characters");
  std::array<unsigned char, 33> decoded{};
  int length = EVP_DecodeBlock(decoded.data(), reinterpret_cast<const unsigned char*>(text.data()),
                               static_cast<int>(text.size()));
  if (length != 33)  // EVP_DecodeBlock counts the padding as a zero byte
    return fail(ErrorCode::invalid_input, "a WireGuard key is 44 base64 characters");
  Key key;
  std::copy_n(decoded.begin(), 32, key.bytes.begin());
  if (key.base64() != text)
    return fail(ErrorCode::invalid_input, "a WireGuard key is 44 base64 characters");
  return key;
}

Result<Key> Key::from_hex(std::string_view text) {
  if (text.size() != 64) return fail(ErrorCode::invalid_input, "a hex key is 64 digits");
  Key key;
  for (size_t i = 0; i < 32; ++i) {
    int high = hex_digit(text[2 * i]);
    int low = hex_digit(text[2 * i + 1]);
    if (high < 0 || low < 0) return fail(ErrorCode::invalid_input, "a hex key is 64 digits");
    key.bytes[i] = static_cast<uint8_t>(high * 16 + low);
  }
  return key;
}

std::string Key::base64() const {
  std::array<unsigned char, 45> encoded{};
  EVP_EncodeBlock(encoded.data(), bytes.data(), static_cast<int>(bytes.size()));
  return {reinterpret_cast<const char*>(encoded.data()), 44};
}

std::string Key::hex() const {
  return hex_of(bytes.data(), bytes.size());
}

Result<Key> Key::generate_private() {
  std::unique_ptr<EVP_PKEY_CTX, PkeyContextFree> context(
      EVP_PKEY_CTX_new_id(EVP_PKEY_X25519, nullptr));
  EVP_PKEY* generated = nullptr;
  if (!context || EVP_PKEY_keygen_init(context.get()) != 1 ||
      EVP_PKEY_keygen(context.get(), &generated) != 1)
    return fail(ErrorCode::internal, "OpenSSL could not generate an X25519 key");
  Pkey pkey(generated);
  return raw_private_key(pkey.get());
}

Result<Key> Key::public_key() const {
  Pkey pkey(EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, nullptr, bytes.data(), bytes.size()));
  Key key;
  size_t length = key.bytes.size();
  if (!pkey || EVP_PKEY_get_raw_public_key(pkey.get(), key.bytes.data(), &length) != 1 ||
      length != 32)
    return fail(ErrorCode::internal, "OpenSSL could not derive an X25519 public key");
  return key;
}

std::string Key::fingerprint() const {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(bytes.data(), bytes.size(), digest, &length, EVP_sha256(), nullptr);
  return hex_of(digest, std::min<size_t>(8, length));
}

Result<Key> read_key_file(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) return fail(ErrorCode::not_found, "cannot read the key file {}", file.string());
  std::string text;
  std::getline(in, text);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.pop_back();
  auto key = Key::from_base64(text);
  if (!key) return fail(ErrorCode::invalid_input, "{}: {}", file.string(), key.error().message);
  return key;
}

Status write_key_file(const std::filesystem::path& file, const Key& key) {
  auto temporary = file.string() + ".XXXXXX";
  UniqueFd fd(::mkostemp(temporary.data(), O_CLOEXEC));  // mode 0600
  if (!fd) return fail(ErrorCode::io, "cannot create a key file next to {}", file.string());
  auto text = key.base64() + "\n";
  bool written = ::write(fd.get(), text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
                 ::fsync(fd.get()) == 0;
  bool linked = written && ::link(temporary.c_str(), file.c_str()) == 0;
  int link_error = errno;
  ::unlink(temporary.c_str());
  if (!written) return fail(ErrorCode::io, "cannot write the key file {}", file.string());
  if (linked) return ok();
  if (auto existing = read_key_file(file); link_error == EEXIST && existing && *existing == key)
    return ok();
  return fail(ErrorCode::io, "cannot create the key file {}: {}", file.string(),
              link_error == EEXIST ? "it exists and holds another key" : std::strerror(link_error));
}

Result<Key> load_or_create_private_key(const std::filesystem::path& file) {
  std::error_code error;
  if (std::filesystem::exists(file, error)) return read_key_file(file);
  auto key = TRY(Key::generate_private());
  if (auto written = write_key_file(file, key); !written) {
    if (std::filesystem::exists(file, error)) return read_key_file(file);  // created meanwhile
    return make_failure(written.error());
  }
  return key;
}

}  // namespace opdbus::wireguard
