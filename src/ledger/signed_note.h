// Ed25519 keys and C2SP signed notes (https://c2sp.org/signed-note), the envelope of ledger
// checkpoints. Thin RAII seam over OpenSSL's EVP Ed25519.
// Invariants: the private key file is created once, mode 0600, and never rewritten; a note's text
// is non-empty, ends in a newline and has no blank line; a note opens only if a signature line
// carries this key's name and key ID and verifies over the exact text bytes.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "base/result.h"

typedef struct evp_pkey_st EVP_PKEY;

namespace opdbus::ledger {

struct PkeyFree {
  void operator()(EVP_PKEY* key) const;
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;

class VerifierKey {
 public:
  // Parses "<name>+<hex key id>+<base64(0x01 || public key)>".
  static Result<VerifierKey> parse(std::string_view text);
  const std::string& name() const { return name_; }
  uint32_t key_id() const { return key_id_; }
  std::string text() const;
  // The note's text when one of its signatures is this key's and verifies.
  Result<std::string> open(std::string_view note) const;

 private:
  friend class SigningKey;
  VerifierKey(std::string name, std::string public_key);
  std::string name_;
  std::string public_key_;  // 32 raw bytes
  uint32_t key_id_ = 0;
  std::shared_ptr<EVP_PKEY> key_;
};

class SigningKey {
 public:
  // Loads the PKCS#8 PEM key at `file`, creating it (mode 0600) if there is none.
  static Result<SigningKey> load_or_create(const std::filesystem::path& file, std::string name);
  static Result<SigningKey> load(const std::filesystem::path& file, std::string name);
  const VerifierKey& verifier() const { return verifier_; }
  Result<std::string> sign(std::string_view text) const;  // the whole signed note

 private:
  SigningKey(PkeyPtr key, VerifierKey verifier);
  std::shared_ptr<EVP_PKEY> key_;
  VerifierKey verifier_;
};

}  // namespace opdbus::ledger
