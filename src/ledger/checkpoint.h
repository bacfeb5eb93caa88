// Ledger checkpoints in the C2SP tlog-checkpoint form: origin, tree size, base64 root hash, then
// one extension line "time RFC3339". Signed and opened as C2SP signed notes.
// Invariant: parse(body()) round-trips; anything else is rejected with what is wrong.
#pragma once

#include <cstdint>
#include <string>

#include "base/result.h"
#include "ledger/digest.h"
#include "ledger/signed_note.h"

namespace opdbus::ledger {

struct Checkpoint {
  std::string origin;
  uint64_t size = 0;
  Digest root{};
  std::string time;

  std::string body() const;
  static Result<Checkpoint> parse(std::string_view body);
};

// Verifies the note's signature with `key`, then parses the checkpoint it carries.
Result<Checkpoint> open_checkpoint(std::string_view note, const VerifierKey& key);

}  // namespace opdbus::ledger
