// Ledger blocks: what one recorded action looks like, its canonical bytes, and the cheap header
// read that verification needs.
// Invariants: a block is one RFC 8785 canonical JSON object on one line; its hash is SHA-256 of
// exactly those bytes (without the newline); "prev" of block 0 is 64 zeros; heights count from 0.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/json_util.h"
#include "base/result.h"
#include "ledger/digest.h"

namespace opdbus::ledger {

// Who caused a recorded action.
struct Actor {
  uint32_t uid = 0;
  std::string user;
  std::string process;
  int pid = 0;
  std::string interface;  // cli, dbus, mcp, daemon
};

// The current process as an actor, for `interface`.
Actor current_actor(std::string interface);

// What a caller appends; the ledger adds height, prev and time.
struct BlockDraft {
  std::string action;  // apply, rollback, commit, retention.set, ledger.repair, ...
  Actor actor;
  std::vector<std::string> plugins;
  Json diff = Json::array();
  Json before = Json::object();  // full payload of the touched resources before the action
  Json after = Json::object();
  Json result = Json::object();  // {"outcome": ..., "writes": ..., "error": ...}
  Json refs = Json::object();    // {"checkpoint": ..., "snapshot": ...}
};

// A draft's canonical members, encoded ahead of time by the appending thread so that the
// ledger's serial commit path only splices in height, prev and time. Block members sort as
// action, actor, after, before, diff, height, plugins, prev, refs, result, time.
struct EncodedDraft {
  std::string up_to_height;  // {"action":..,"actor":..,"after":..,"before":..,"diff":..
  std::string plugins;       // "plugins":[..]
  std::string refs_result;   // "refs":..,"result":..
};

Result<EncodedDraft> encode_draft(const BlockDraft& draft);
std::string assemble_block(const EncodedDraft& draft, uint64_t height, const Digest& prev,
                           TimePoint time);
// The whole block as one canonical JSON document; equal to assemble_block(encode_draft(...)).
Result<std::string> encode_block(uint64_t height, const Digest& prev, TimePoint time,
                                 const BlockDraft& draft);

inline constexpr Digest kGenesisPrev{};

struct BlockHeader {
  uint64_t height = 0;
  Digest prev{};
};

// Reads "height" and "prev" from a block line without building a document. Thread-compatible:
// one HeaderReader per thread.
class HeaderReader {
 public:
  HeaderReader();
  ~HeaderReader();
  HeaderReader(const HeaderReader&) = delete;
  HeaderReader& operator=(const HeaderReader&) = delete;
  // `available` is how many bytes may be read from line.data() (>= line.size()); simdjson reads
  // ahead, so short tails are copied into a padded buffer.
  Result<BlockHeader> read(std::string_view line, size_t available);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace opdbus::ledger
