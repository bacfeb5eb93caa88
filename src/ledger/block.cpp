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

namespace {

Json actor_json(const Actor& actor) {
  return {{"uid", actor.uid},
          {"user", actor.user},
          {"process", actor.process},
          {"pid", actor.pid},
          {"interface", actor.interface}};
}

Status append_member(std::string& out, std::string_view name, const Json& value) {
  if (!out.empty() && out.back() != '{') out += ',';
  out += '"';
  out += name;
  out += "\":";
  out += TRY(with_context(canonical_json(value), std::string(name)));
  return ok();
}

}  // namespace

Result<EncodedDraft> encode_draft(const BlockDraft& draft) {
  EncodedDraft encoded;
  encoded.up_to_height = "{";
  TRY(append_member(encoded.up_to_height, "action", draft.action));
  TRY(append_member(encoded.up_to_height, "actor", actor_json(draft.actor)));
  TRY(append_member(encoded.up_to_height, "after", draft.after));
  TRY(append_member(encoded.up_to_height, "before", draft.before));
  TRY(append_member(encoded.up_to_height, "diff", draft.diff));
  TRY(append_member(encoded.plugins, "plugins", draft.plugins));
  TRY(append_member(encoded.refs_result, "refs", draft.refs));
  TRY(append_member(encoded.refs_result, "result", draft.result));
  return encoded;
}

std::string assemble_block(const EncodedDraft& draft, uint64_t height, const Digest& prev,
                           TimePoint time) {
  std::string out;
  out.reserve(draft.up_to_height.size() + draft.plugins.size() + draft.refs_result.size() + 160);
  out += draft.up_to_height;
  out += ",\"height\":";
  out += std::to_string(height);
  out += ',';
  out += draft.plugins;
  out += ",\"prev\":\"";
  out += to_hex(prev);
  out += "\",";
  out += draft.refs_result;
  out += ",\"time\":\"";
  out += format_rfc3339(time);
  out += "\"}";
  return out;
}

Result<std::string> encode_block(uint64_t height, const Digest& prev, TimePoint time,
                                 const BlockDraft& draft) {
  auto encoded = TRY(with_context(encode_draft(draft), "block " + std::to_string(height)));
  return assemble_block(encoded, height, prev, time);
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
