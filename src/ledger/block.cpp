// Ledger blocks; see block.h.
#include "ledger/block.h"

#include <pwd.h>
#include <unistd.h>

#include <simdjson.h>

#include "base/fs.h"
#include "ledger/canonical_json.h"

namespace opdbus::ledger {

Actor current_actor(std::string interface) {
  Actor actor;
  actor.uid = ::getuid();
  actor.pid = ::getpid();
  actor.interface = std::move(interface);
  if (auto* entry = ::getpwuid(actor.uid)) actor.user = entry->pw_name;
  if (auto comm = read_file("/proc/self/comm")) {
    actor.process = *comm;
    while (!actor.process.empty() && actor.process.back() == '\n') actor.process.pop_back();
  }
  return actor;
}

Result<std::string> encode_block(uint64_t height, const Digest& prev, TimePoint time,
                                 const BlockDraft& draft) {
  const auto& actor = draft.actor;
  Json block = {
      {"height", height},
      {"prev", to_hex(prev)},
      {"time", format_rfc3339(time)},
      {"actor",
       {{"uid", actor.uid},
        {"user", actor.user},
        {"process", actor.process},
        {"pid", actor.pid},
        {"interface", actor.interface}}},
      {"action", draft.action},
      {"plugins", draft.plugins},
      {"diff", draft.diff},
      {"before", draft.before},
      {"after", draft.after},
      {"result", draft.result},
      {"refs", draft.refs},
  };
  return with_context(canonical_json(block), "block " + std::to_string(height));
}

struct HeaderReader::Impl {
  simdjson::ondemand::parser parser;
  simdjson::padded_string copy;
};

HeaderReader::HeaderReader() : impl_(std::make_unique<Impl>()) {}
HeaderReader::~HeaderReader() = default;

Result<BlockHeader> HeaderReader::read(std::string_view line, size_t available) {
  simdjson::padded_string_view view;
  if (available >= line.size() + simdjson::SIMDJSON_PADDING) {
    view = simdjson::padded_string_view(line.data(), line.size(), available);
  } else {
    impl_->copy = simdjson::padded_string(line);
    view = impl_->copy;
  }
  BlockHeader header;
  uint64_t height = 0;
  std::string_view prev;
  auto document = impl_->parser.iterate(view);
  if (document.error() || document.get_object().error())
    return fail(ErrorCode::verify_failed, "not a JSON object");
  if (document["height"].get_uint64().get(height))
    return fail(ErrorCode::verify_failed, "no numeric \"height\"");
  if (document["prev"].get_string().get(prev))
    return fail(ErrorCode::verify_failed, "no \"prev\" hash");
  auto digest = digest_from_hex(prev);
  if (!digest) return fail(ErrorCode::verify_failed, "\"prev\" is not a SHA-256 hex digest");
  header.height = height;
  header.prev = *digest;
  return header;
}

}  // namespace opdbus::ledger
