// Ledger verification and export; see verify.h.
#include "ledger/verify.h"

#include <fcntl.h>
#include <sys/file.h>

#include <algorithm>

#include "base/fs.h"
#include "ledger/block.h"
#include "ledger/ledger.h"

namespace opdbus::ledger {
namespace {

constexpr std::string_view kExportFormat = "op-dbus-ledger-export/1";

Error bad(std::string message) {
  return Error{ErrorCode::verify_failed, std::move(message), {}};
}

// Block `height` does not link to block height-1. If block height+1 links to this one, the
// previous block was altered; otherwise this block's own "prev" was.
Error broken_link(std::string_view blocks, size_t newline, std::string_view line, uint64_t height,
                  HeaderReader& reader) {
  auto next_newline = blocks.find('\n', newline + 1);
  bool next_link_holds = next_newline == std::string_view::npos;
  if (!next_link_holds) {
    auto next = reader.read(blocks.substr(newline + 1, next_newline - newline - 1),
                            blocks.size() - newline - 1);
    next_link_holds = next && next->prev == sha256(line);
  }
  if (next_link_holds)
    return bad(fmt::format(
        "height {}: the block's hash does not match \"prev\" in block {}: block {} was altered",
        height - 1, height, height - 1));
  return bad(
      fmt::format("height {}: \"prev\" does not match the hash of block {}: block {} was "
                  "altered",
                  height, height - 1, height));
}

struct KnownCheckpoint {
  Checkpoint checkpoint;
  std::optional<Digest> root_seen;
};

Result<std::vector<KnownCheckpoint>> open_known(const std::vector<std::string>& notes,
                                                const VerifierKey& key) {
  std::vector<KnownCheckpoint> out;
  for (size_t i = 0; i < notes.size(); ++i)
    out.push_back({TRY(with_context(open_checkpoint(notes[i], key),
                                    fmt::format("known checkpoint {}", i + 1))),
                   std::nullopt});
  return out;
}

// Walks the chain into `head`, recording the root at each known checkpoint's size.
Status walk_chain(std::string_view blocks, std::vector<KnownCheckpoint>& marks, Head& head) {
  HeaderReader reader;
  auto record_marks = [&] {
    for (auto& mark : marks)
      if (mark.checkpoint.size == head.size) mark.root_seen = head.range.root();
  };
  record_marks();
  while (head.end < blocks.size()) {
    uint64_t height = head.size;
    auto newline = blocks.find('\n', head.end);
    if (newline == std::string_view::npos)
      return make_failure(
          bad(fmt::format("height {}: the block is cut off (no end of line): "
                          "the ledger was truncated mid-block",
                          height)));
    auto line = blocks.substr(head.end, newline - head.end);
    auto header = reader.read(line, blocks.size() - head.end);
    if (!header)
      return make_failure(
          bad(fmt::format("height {}: not a valid block: {}", height, header.error().message)));
    if (header->height != height)
      return make_failure(bad(fmt::format(
          "height {}: the block records height {} (a block was removed, inserted or moved)", height,
          header->height)));
    if (header->prev != head.last)
      return make_failure(broken_link(blocks, newline, line, height, reader));
    head.last = sha256(line);
    head.range.append(leaf_hash(Bytes(head.last)));
    head.last_offset = head.end;
    head.end = newline + 1;
    ++head.size;
    record_marks();
  }
  return ok();
}

Status check_head(const std::string& text, const Head& head) {
  if (text != head_text(head))
    return make_failure(
        bad("ledger/head.json does not describe the blocks (it was altered, or a "
            "crash interrupted the last append; any write rebuilds it)"));
  return ok();
}

// Walks one segment file: from its anchor (which must continue `head` when a segment came
// before) or from genesis.
Status walk_segment(std::string_view data, const std::string& name, bool continuing,
                    const VerifierKey& key, std::vector<KnownCheckpoint>& marks, Head& head) {
  auto anchor = TRY(with_context(parse_anchor(data), name));
  if (anchor) {
    TRY(with_context(check_anchor(*anchor, key), name));
    bool continues = anchor->head.size == head.size && anchor->head.last == head.last &&
                     anchor->head.range.peaks() == head.range.peaks();
    if (continuing && !continues)
      return make_failure(bad(fmt::format(
          "{}: its anchor (height {}) does not continue the segment before it (height {})", name,
          anchor->head.size, head.size)));
    head = anchor->head;
  } else if (continuing) {
    return make_failure(
        bad(fmt::format("{}: starts from genesis but follows another segment", name)));
  } else {
    head = Head{};
  }
  return walk_chain(data, marks, head);
}

Status compare_known(const std::vector<KnownCheckpoint>& known, uint64_t first, uint64_t blocks,
                     std::vector<std::string>& notes) {
  for (size_t i = 0; i < known.size(); ++i) {
    const auto& [checkpoint, root] = known[i];
    if (checkpoint.size < first) {
      notes.push_back(
          fmt::format("known checkpoint {} (size {}) predates the archived "
                      "segments and was not checked",
                      i + 1, checkpoint.size));
      continue;
    }
    if (checkpoint.size > blocks)
      return make_failure(bad(fmt::format(
          "known checkpoint {} (signed {}) proves {} blocks existed but the ledger has {}: it "
          "was truncated or rolled back",
          i + 1, checkpoint.time, checkpoint.size, blocks)));
    if (!root || *root != checkpoint.root)
      return make_failure(bad(fmt::format(
          "the first {} blocks differ from what known checkpoint {} (signed {}) recorded: "
          "history was rewritten",
          checkpoint.size, i + 1, checkpoint.time)));
  }
  return ok();
}

}  // namespace

std::vector<std::string_view> block_lines(std::string_view blocks) {
  std::vector<std::string_view> lines;
  size_t start = 0;
  if (auto anchor = parse_anchor(blocks); anchor && *anchor) start = (*anchor)->head.end;
  for (size_t at = start; at < blocks.size();) {
    auto newline = blocks.find('\n', at);
    if (newline == std::string_view::npos) break;
    lines.push_back(blocks.substr(at, newline - at));
    at = newline + 1;
  }
  return lines;
}

uint64_t first_height(const LedgerData& data) {
  auto earliest = data.segments.empty() ? data.blocks : data.segments.front().second;
  auto anchor = parse_anchor(earliest);
  return anchor && *anchor ? (*anchor)->head.size : 0;
}

BlockIndex index_blocks(const LedgerData& data) {
  BlockIndex index;
  index.first = first_height(data);
  for (const auto& segment : data.segments)
    for (auto line : block_lines(segment.second)) index.lines.push_back(line);
  for (auto line : block_lines(data.blocks)) index.lines.push_back(line);
  return index;
}

Result<std::string_view> block_at(const BlockIndex& index, uint64_t height) {
  uint64_t end = index.first + index.lines.size();
  if (height < index.first)
    return fail(ErrorCode::invalid_input, "block {} is sealed in a segment archived elsewhere",
                height);
  if (height >= end)
    return fail(ErrorCode::invalid_input, "no block {}: the ledger has {} (heights 0..{})", height,
                end, end == 0 ? 0 : end - 1);
  return index.lines[height - index.first];
}

MerkleTree build_tree(std::string_view blocks) {
  MerkleTree tree;
  for (auto line : block_lines(blocks)) tree.append(leaf_hash(Bytes(sha256(line))));
  return tree;
}

Result<MerkleTree> build_tree(const BlockIndex& index) {
  if (index.first > 0)
    return fail(ErrorCode::unavailable,
                "proofs need every block since genesis; blocks 0..{} are in archived segments "
                "(put them back under ledger/segments/)",
                index.first - 1);
  MerkleTree tree;
  for (auto line : index.lines) tree.append(leaf_hash(Bytes(sha256(line))));
  return tree;
}

Result<LedgerData> load_local_ledger(const std::filesystem::path& state_dir) {
  LedgerFiles files(state_dir);
  if (::access(files.blocks.c_str(), F_OK) != 0)
    return fail(ErrorCode::not_found, "no ledger in {} (nothing has been recorded yet)",
                state_dir.string());
  LedgerData data;
  // Held while `data` lives: no append, repair or seal changes the mapped bytes meanwhile.
  data.lock = UniqueFd(::open(files.lock.c_str(), O_RDONLY | O_CLOEXEC));
  if (data.lock) ::flock(data.lock.get(), LOCK_SH);
  data.source = files.dir.string();
  std::vector<std::filesystem::path> segments;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(files.segments, error))
    if (entry.path().extension() == ".jsonl") segments.push_back(entry.path());
  std::sort(segments.begin(), segments.end());
  for (const auto& segment : segments) {
    data.mappings.push_back(TRY(MappedFile::open(segment)));
    data.segments.emplace_back(segment.filename().string(), data.mappings.back().view());
  }
  data.mappings.push_back(TRY(MappedFile::open(files.blocks)));
  data.blocks = data.mappings.back().view();
  data.checkpoint = TRY(read_file(files.checkpoint));
  data.public_key = TRY(read_file(files.public_key));
  if (auto head = read_file(files.head)) data.head = std::move(*head);
  return data;
}

Result<LedgerData> load_export(const std::filesystem::path& file) {
  LedgerData data;
  data.source = file.string();
  data.mappings.push_back(TRY(MappedFile::open(file)));
  auto view = data.mappings.back().view();
  auto newline = view.find('\n');
  auto header = Json::parse(view.substr(0, newline), nullptr, false);
  auto text_field = [&](const char* name) {
    return header.is_object() && header.contains(name) && header[name].is_string()
               ? header[name].get<std::string>()
               : std::string();
  };
  if (newline == std::string_view::npos || text_field("format") != kExportFormat)
    return fail(ErrorCode::invalid_input, "{} is not an op-dbus ledger export", file.string());
  data.checkpoint = text_field("checkpoint");
  data.public_key = text_field("public_key");
  data.blocks = view.substr(newline + 1);
  return data;
}

namespace {

// A segment's complete block lines as one range of bytes: after its anchor, before a torn tail.
std::string_view block_bytes(std::string_view segment) {
  size_t start = 0;
  if (auto anchor = parse_anchor(segment); anchor && *anchor) start = (*anchor)->head.end;
  auto last_newline = segment.rfind('\n');
  if (last_newline == std::string_view::npos || last_newline < start) return {};
  return segment.substr(start, last_newline + 1 - start);
}

}  // namespace

Status write_export(const LedgerData& data, int fd) {
  Json header = {{"format", kExportFormat},
                 {"public_key", data.public_key.substr(0, data.public_key.find('\n'))},
                 {"checkpoint", data.checkpoint}};
  auto text = header.dump() + "\n";
  auto earliest = data.segments.empty() ? data.blocks : data.segments.front().second;
  if (auto anchor = parse_anchor(earliest); anchor && *anchor)
    text += anchor_line((*anchor)->head, (*anchor)->checkpoint);  // kept verbatim: it is signed
  TRY(write_all(fd, text, "export"));
  for (const auto& segment : data.segments)
    TRY(write_all(fd, block_bytes(segment.second), "export"));
  return write_all(fd, block_bytes(data.blocks), "export");
}

Result<VerifyReport> verify_ledger(const LedgerData& data, const VerifyOptions& options) {
  VerifyReport report;
  auto own_key = VerifierKey::parse(data.public_key);
  if (!options.trusted_key && !own_key)
    return make_failure(bad("the ledger's public key is unreadable: " + own_key.error().message));
  const auto& key = options.trusted_key ? *options.trusted_key : *own_key;
  report.key = key.text();
  if (!options.trusted_key)
    report.notes.push_back(
        "checked against the ledger's own public key; pass --pubkey with a "
        "key kept elsewhere for an independent check");
  else if (!own_key || own_key->text() != key.text())
    report.notes.push_back("the ledger carries a different public key than --pubkey");
  report.checkpoint = TRY(with_context(open_checkpoint(data.checkpoint, key), "checkpoint"));
  auto known = TRY(open_known(options.known_checkpoints, key));
  known.push_back({report.checkpoint, std::nullopt});
  Head head;
  bool continuing = false;
  for (const auto& [name, bytes] : data.segments) {
    TRY(walk_segment(bytes, "segment " + name, continuing, key, known, head));
    continuing = true;
  }
  TRY(walk_segment(data.blocks, "current segment", continuing, key, known, head));
  report.blocks = head.size;
  auto first = first_height(data);
  if (first > 0)
    report.notes.push_back(fmt::format(
        "blocks 0..{} are sealed in segments archived elsewhere; verified from the signed anchor",
        first - 1));
  const auto& latest = known.back();
  if (latest.checkpoint.size > report.blocks)
    return make_failure(bad(fmt::format(
        "the ledger has {} blocks but the checkpoint signed {} covers {}: blocks {}..{} were "
        "removed",
        report.blocks, latest.checkpoint.time, latest.checkpoint.size, report.blocks,
        latest.checkpoint.size - 1)));
  if (latest.checkpoint.size < report.blocks)
    return make_failure(bad(fmt::format(
        "height {}: blocks {}..{} are not covered by the signed checkpoint (appended without "
        "signing, or a crash before the checkpoint was written; any write re-signs)",
        latest.checkpoint.size, latest.checkpoint.size, report.blocks - 1)));
  if (!latest.root_seen || *latest.root_seen != latest.checkpoint.root)
    return make_failure(bad(fmt::format(
        "height {}: the Merkle root of the {} blocks does not match the signed checkpoint: "
        "block {} was altered",
        report.blocks - 1, report.blocks, report.blocks - 1)));
  known.pop_back();
  TRY(compare_known(known, first, report.blocks, report.notes));
  if (data.head) TRY(check_head(*data.head, head));
  if (!known.empty())
    report.notes.push_back(fmt::format("consistent with {} known checkpoint(s)", known.size()));
  return report;
}

Result<Json> parse_block(std::string_view line) {
  auto block = Json::parse(line, nullptr, false);
  if (!block.is_object()) return fail(ErrorCode::verify_failed, "a block is not valid JSON");
  block["hash"] = to_hex(sha256(line));
  return block;
}

Result<std::vector<Json>> newest_blocks(const LedgerData& data, size_t count,
                                        const std::function<bool(const Json&)>& keep) {
  auto lines = index_blocks(data).lines;
  std::vector<Json> selected;
  for (auto it = lines.rbegin(); it != lines.rend() && selected.size() < count; ++it) {
    auto block = TRY(parse_block(*it));
    if (keep(block)) selected.push_back(std::move(block));
  }
  return selected;
}

Result<Json> verify_summary(const std::filesystem::path& state_dir) {
  return verify_summary(TRY(load_local_ledger(state_dir)));
}

Json verify_summary(const LedgerData& data) {
  auto report = verify_ledger(data, {});
  if (!report) return Json{{"ok", false}, {"error", report.error().describe()}};
  return Json{{"ok", true},
              {"blocks", report->blocks},
              {"checkpoint_time", report->checkpoint.time},
              {"notes", report->notes}};
}

namespace {
Json hex_list(const std::vector<Digest>& digests) {
  Json out = Json::array();
  for (const auto& digest : digests) out.push_back(to_hex(digest));
  return out;
}
}  // namespace

Result<Json> inclusion_proof_json(const LedgerData& data, uint64_t height,
                                  std::optional<uint64_t> size) {
  auto index = index_blocks(data);
  auto line = TRY(block_at(index, height));
  auto tree = TRY(build_tree(index));
  uint64_t tree_size = size.value_or(tree.size());
  Json out = {{"type", "inclusion"},
              {"leaf_index", height},
              {"tree_size", tree_size},
              {"block", std::string(line)},
              {"root", to_hex(TRY(tree.root(tree_size)))},
              {"proof", hex_list(TRY(tree.inclusion_proof(height, tree_size)))}};
  if (tree_size == tree.size()) out["checkpoint"] = data.checkpoint;
  return out;
}

Result<Json> consistency_proof_json(const LedgerData& data, uint64_t old_size,
                                    std::optional<uint64_t> size) {
  auto tree = TRY(build_tree(index_blocks(data)));
  uint64_t tree_size = size.value_or(tree.size());
  Json out = {{"type", "consistency"},
              {"old_size", old_size},
              {"new_size", tree_size},
              {"proof", hex_list(TRY(tree.consistency_proof(old_size, tree_size)))},
              {"old_root", to_hex(TRY(tree.root(old_size)))},
              {"new_root", to_hex(TRY(tree.root(tree_size)))}};
  if (tree_size == tree.size()) out["checkpoint"] = data.checkpoint;
  return out;
}

}  // namespace opdbus::ledger
