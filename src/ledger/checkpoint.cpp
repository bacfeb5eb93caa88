// Checkpoint bodies; see checkpoint.h.
#include "ledger/checkpoint.h"

#include <charconv>
#include <vector>

namespace opdbus::ledger {

std::string Checkpoint::body() const {
  return fmt::format("{}\n{}\n{}\ntime {}\n", origin, size, base64_encode(Bytes(root)), time);
}

Result<Checkpoint> Checkpoint::parse(std::string_view body) {
  std::vector<std::string_view> lines;
  while (!body.empty()) {
    auto end = body.find('\n');
    if (end == std::string_view::npos)
      return fail(ErrorCode::verify_failed, "checkpoint line is not terminated");
    lines.push_back(body.substr(0, end));
    body.remove_prefix(end + 1);
  }
  if (lines.size() < 3) return fail(ErrorCode::verify_failed, "checkpoint has fewer than 3 lines");
  Checkpoint checkpoint;
  checkpoint.origin = lines[0];
  auto size_text = lines[1];
  auto [end, error] =
      std::from_chars(size_text.data(), size_text.data() + size_text.size(), checkpoint.size);
  if (error != std::errc() || end != size_text.data() + size_text.size() || size_text.empty() ||
      (size_text.size() > 1 && size_text[0] == '0'))
    return fail(ErrorCode::verify_failed, "checkpoint tree size '{}' is not a number", size_text);
  auto root = base64_decode(lines[2]);
  if (!root || root->size() != checkpoint.root.size())
    return fail(ErrorCode::verify_failed, "checkpoint root is not a base64 SHA-256 hash");
  std::copy(root->begin(), root->end(), checkpoint.root.begin());
  for (size_t i = 3; i < lines.size(); ++i)
    if (lines[i].starts_with("time ")) checkpoint.time = lines[i].substr(5);
  return checkpoint;
}

Result<Checkpoint> open_checkpoint(std::string_view note, const VerifierKey& key) {
  auto body = TRY(key.open(note));
  auto checkpoint = TRY(Checkpoint::parse(body));
  if (checkpoint.origin != key.name())
    return fail(ErrorCode::verify_failed, "checkpoint origin '{}' is not the key's name '{}'",
                checkpoint.origin, key.name());
  return checkpoint;
}

}  // namespace opdbus::ledger
