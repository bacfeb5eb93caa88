// Ed25519 signed notes; see signed_note.h.
#include "ledger/signed_note.h"

#include <fcntl.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "base/fs.h"
#include "ledger/digest.h"

namespace opdbus::ledger {
namespace {

constexpr uint8_t kAlgorithmEd25519 = 0x01;
constexpr std::string_view kSignaturePrefix = "\xe2\x80\x94 ";  // U+2014 EM DASH, then a space

struct MdCtxFree {
  void operator()(EVP_MD_CTX* context) const { EVP_MD_CTX_free(context); }
};
struct BioFree {
  void operator()(BIO* bio) const { BIO_free(bio); }
};

bool valid_key_name(std::string_view name) {
  if (name.empty()) return false;
  for (unsigned char c : name)
    if (c <= 0x20 || c == '+' || c == 0x7f) return false;
  return true;
}

uint32_t compute_key_id(std::string_view name, std::string_view public_key) {
  std::string input(name);
  input += '\n';
  input += static_cast<char>(kAlgorithmEd25519);
  input += public_key;
  auto digest = sha256(input);
  return uint32_t(digest[0]) << 24 | uint32_t(digest[1]) << 16 | uint32_t(digest[2]) << 8 |
         digest[3];
}

Result<std::string> raw_public_key(EVP_PKEY* key) {
  std::string out(32, '\0');
  size_t length = out.size();
  if (EVP_PKEY_get_raw_public_key(key, reinterpret_cast<unsigned char*>(out.data()), &length) !=
          1 ||
      length != 32)
    return fail(ErrorCode::invalid_input, "the key is not an Ed25519 key");
  return out;
}

Status check_note_text(std::string_view text) {
  if (text.empty() || text.back() != '\n')
    return fail(ErrorCode::invalid_input, "a note's text must end with a newline");
  if (text.find("\n\n") != std::string_view::npos || text.front() == '\n')
    return fail(ErrorCode::invalid_input, "a note's text must not contain a blank line");
  return ok();
}

Result<PkeyPtr> generate_key() {
  PkeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
  if (!key) return fail(ErrorCode::internal, "OpenSSL could not generate an Ed25519 key");
  return key;
}

Result<std::string> to_pem(EVP_PKEY* key) {
  std::unique_ptr<BIO, BioFree> bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1)
    return fail(ErrorCode::internal, "OpenSSL could not encode the key");
  char* data = nullptr;
  long length = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(length));
}

Status write_new_key_file(const std::filesystem::path& file, std::string_view pem) {
  auto temp = file;
  temp += ".new";
  TRY(write_file_atomic(temp, pem, 0600));
  // link() fails if another process created the key first; then both use that one.
  if (::link(temp.c_str(), file.c_str()) != 0 && errno != EEXIST) {
    int saved = errno;
    ::unlink(temp.c_str());
    return fail(ErrorCode::io, "create {}: {}", file.string(), errno_text(saved));
  }
  ::unlink(temp.c_str());
  return ok();
}

}  // namespace

void PkeyFree::operator()(EVP_PKEY* key) const {
  EVP_PKEY_free(key);
}

VerifierKey::VerifierKey(std::string name, std::string public_key)
    : name_(std::move(name)),
      public_key_(std::move(public_key)),
      key_id_(compute_key_id(name_, public_key_)),
      key_(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr,
                                       reinterpret_cast<const unsigned char*>(public_key_.data()),
                                       public_key_.size()),
           PkeyFree{}) {}

Result<VerifierKey> VerifierKey::parse(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.remove_suffix(1);
  auto first = text.find('+');
  auto second = first == std::string_view::npos ? first : text.find('+', first + 1);
  if (second == std::string_view::npos)
    return fail(ErrorCode::invalid_input, "a verifier key reads NAME+KEYID+BASE64KEY");
  auto name = text.substr(0, first);
  auto id_hex = text.substr(first + 1, second - first - 1);
  auto key = base64_decode(text.substr(second + 1));
  if (!valid_key_name(name)) return fail(ErrorCode::invalid_input, "bad key name '{}'", name);
  if (!key || key->size() != 33 || (*key)[0] != kAlgorithmEd25519)
    return fail(ErrorCode::invalid_input, "the verifier key is not an Ed25519 key");
  VerifierKey verifier(std::string(name), std::string(key->begin() + 1, key->end()));
  if (id_hex.size() != 8 || fmt::format("{:08x}", verifier.key_id()) != id_hex)
    return fail(ErrorCode::invalid_input, "the verifier key's ID {} does not match its key",
                id_hex);
  if (!verifier.key_) return fail(ErrorCode::invalid_input, "OpenSSL rejected the public key");
  return verifier;
}

std::string VerifierKey::text() const {
  std::string key(1, static_cast<char>(kAlgorithmEd25519));
  key += public_key_;
  return fmt::format("{}+{:08x}+{}", name_, key_id_, base64_encode(as_bytes(key)));
}

Result<std::string> VerifierKey::open(std::string_view note) const {
  auto split = note.find("\n\n");
  if (split == std::string_view::npos)
    return fail(ErrorCode::verify_failed, "not a signed note (no blank line before signatures)");
  auto text = note.substr(0, split + 1);
  TRY(check_note_text(text));
  auto signatures = note.substr(split + 2);
  std::string signers;
  while (!signatures.empty()) {
    auto end = signatures.find('\n');
    if (end == std::string_view::npos)
      return fail(ErrorCode::verify_failed, "the note's last signature line is unterminated");
    auto line = signatures.substr(0, end);
    signatures.remove_prefix(end + 1);
    if (!line.starts_with(kSignaturePrefix))
      return fail(ErrorCode::verify_failed, "malformed signature line '{}'", line);
    line.remove_prefix(kSignaturePrefix.size());
    auto space = line.find(' ');
    if (space == std::string_view::npos)
      return fail(ErrorCode::verify_failed, "malformed signature line");
    auto signer = line.substr(0, space);
    auto blob = base64_decode(line.substr(space + 1));
    if (!blob || blob->size() < 5)
      return fail(ErrorCode::verify_failed, "signature by {} is not valid base64", signer);
    uint32_t id = uint32_t((*blob)[0]) << 24 | uint32_t((*blob)[1]) << 16 |
                  uint32_t((*blob)[2]) << 8 | (*blob)[3];
    signers += fmt::format("{}{}+{:08x}", signers.empty() ? "" : ", ", signer, id);
    if (signer != name_ || id != key_id_) continue;
    std::unique_ptr<EVP_MD_CTX, MdCtxFree> context(EVP_MD_CTX_new());
    bool verified =
        context && blob->size() == 4 + 64 &&
        EVP_DigestVerifyInit(context.get(), nullptr, nullptr, nullptr, key_.get()) == 1 &&
        EVP_DigestVerify(context.get(), blob->data() + 4, 64,
                         reinterpret_cast<const unsigned char*>(text.data()), text.size()) == 1;
    if (!verified)
      return fail(ErrorCode::verify_failed, "the signature by {}+{:08x} does not verify", name_,
                  key_id_);
    return std::string(text);
  }
  return fail(ErrorCode::verify_failed, "the note is not signed by {}+{:08x} (signed by: {})",
              name_, key_id_, signers.empty() ? "nobody" : signers);
}

SigningKey::SigningKey(PkeyPtr key, VerifierKey verifier)
    : key_(std::move(key)), verifier_(std::move(verifier)) {}

Result<SigningKey> SigningKey::load(const std::filesystem::path& file, std::string name) {
  if (!valid_key_name(name)) return fail(ErrorCode::invalid_input, "bad key name '{}'", name);
  auto pem = TRY(read_file(file));
  std::unique_ptr<BIO, BioFree> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  PkeyPtr key(bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  if (!key || EVP_PKEY_get_id(key.get()) != EVP_PKEY_ED25519)
    return fail(ErrorCode::invalid_input, "{} is not an Ed25519 private key in PEM form",
                file.string());
  auto public_key = TRY(raw_public_key(key.get()));
  return SigningKey(std::move(key), VerifierKey(std::move(name), std::move(public_key)));
}

Result<SigningKey> SigningKey::load_or_create(const std::filesystem::path& file, std::string name) {
  if (::access(file.c_str(), F_OK) != 0) {
    auto key = TRY(generate_key());
    TRY(write_new_key_file(file, TRY(to_pem(key.get()))));
  }
  return load(file, std::move(name));
}

Result<std::string> SigningKey::sign(std::string_view text) const {
  TRY(check_note_text(text));
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> context(EVP_MD_CTX_new());
  std::string blob(4 + 64, '\0');
  uint32_t id = verifier_.key_id();
  for (int i = 0; i < 4; ++i) blob[i] = static_cast<char>(id >> (24 - 8 * i));
  size_t length = 64;
  if (!context || EVP_DigestSignInit(context.get(), nullptr, nullptr, nullptr, key_.get()) != 1 ||
      EVP_DigestSign(context.get(), reinterpret_cast<unsigned char*>(blob.data() + 4), &length,
                     reinterpret_cast<const unsigned char*>(text.data()), text.size()) != 1)
    return fail(ErrorCode::internal, "OpenSSL could not sign the note");
  return fmt::format("{}\n{}{} {}\n", text, kSignaturePrefix, verifier_.name(),
                     base64_encode(as_bytes(blob)));
}

}  // namespace opdbus::ledger
