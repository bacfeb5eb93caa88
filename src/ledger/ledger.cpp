// The on-disk ledger with group commit and tail repair; see ledger.h.
#include "ledger/ledger.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include "base/fs.h"
#include "base/mapped_file.h"

namespace opdbus::ledger {

struct Ledger::Pending {
  EncodedDraft draft;
  std::optional<Result<uint64_t>> result;
};

namespace {

// Holds an flock on an fd that stays open for the ledger's lifetime.
class FlockGuard {
 public:
  static Result<FlockGuard> exclusive(int fd) {
    while (::flock(fd, LOCK_EX) != 0)
      if (errno != EINTR) return fail(ErrorCode::io, "lock ledger: {}", errno_text(errno));
    return FlockGuard(fd);
  }
  FlockGuard(FlockGuard&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  FlockGuard(const FlockGuard&) = delete;
  ~FlockGuard() {
    if (fd_ >= 0) ::flock(fd_, LOCK_UN);
  }

 private:
  explicit FlockGuard(int fd) : fd_(fd) {}
  int fd_;
};

Result<UniqueFd> open_file(const std::filesystem::path& path, int flags) {
  UniqueFd fd(::open(path.c_str(), flags | O_CLOEXEC, 0644));
  if (!fd) return fail(ErrorCode::io, "open {}: {}", path.string(), errno_text(errno));
  return fd;
}

// Replaces a derived file atomically (temp + rename) without fsync: after a crash it is either
// old, new, or rebuilt from the blocks on the next open.
Status replace_derived_file(const std::filesystem::path& path, std::string_view content) {
  auto temp = path;
  temp += ".tmp";
  {
    auto fd = TRY(open_file(temp, O_WRONLY | O_CREAT | O_TRUNC));
    TRY(write_all(fd.get(), content, temp));
  }
  if (::rename(temp.c_str(), path.c_str()) != 0)
    return fail(ErrorCode::io, "rename {}: {}", path.string(), errno_text(errno));
  return ok();
}

Json head_to_json(const Head& head) {
  Json peaks = Json::array();
  for (const auto& peak : head.range.peaks()) peaks.push_back(to_hex(peak));
  return {{"size", head.size},
          {"end", head.end},
          {"last_offset", head.last_offset},
          {"last", to_hex(head.last)},
          {"peaks", peaks}};
}

std::optional<Head> head_from_json(std::string_view text) {
  auto json = Json::parse(text, nullptr, false);
  if (!json.is_object()) return std::nullopt;
  Head head;
  try {
    head.size = json.at("size").get<uint64_t>();
    head.end = json.at("end").get<uint64_t>();
    head.last_offset = json.at("last_offset").get<uint64_t>();
    auto last = digest_from_hex(json.at("last").get<std::string>());
    std::vector<Digest> peaks;
    for (const auto& peak : json.at("peaks")) {
      auto digest = digest_from_hex(peak.get<std::string>());
      if (!digest) return std::nullopt;
      peaks.push_back(*digest);
    }
    auto range = CompactRange::restore(head.size, std::move(peaks));
    if (!last || !range) return std::nullopt;
    head.last = *last;
    head.range = std::move(*range);
  } catch (const Json::exception&) {
    return std::nullopt;
  }
  return head;
}

// True when the block that head says ends the file is really there with that hash (or, right
// after a seal, the anchor that carries it).
bool head_matches_file(const Head& head, int fd) {
  constexpr uint64_t kLongestBlock = uint64_t{1} << 30;
  if (head.size == 0) return head.end == 0;
  struct stat info {};
  if (::fstat(fd, &info) != 0 || head.end > static_cast<uint64_t>(info.st_size) ||
      head.end <= head.last_offset || head.end - head.last_offset > kLongestBlock)
    return false;
  std::string line(head.end - head.last_offset, '\0');
  if (::pread(fd, line.data(), line.size(), static_cast<off_t>(head.last_offset)) !=
          static_cast<ssize_t>(line.size()) ||
      line.back() != '\n')
    return false;
  if (head.last_offset == 0 && line.starts_with("{\"anchor\":")) {  // sealed, nothing since
    auto anchor = parse_anchor(line);
    return anchor && *anchor && (*anchor)->head.last == head.last;
  }
  line.pop_back();
  return sha256(line) == head.last;
}

}  // namespace

LedgerFiles::LedgerFiles(const std::filesystem::path& state_dir)
    : dir(state_dir / "ledger"),
      blocks(dir / "blocks.jsonl"),
      head(dir / "head.json"),
      checkpoint(dir / "checkpoint"),
      public_key(dir / "ledger.pub"),
      lock(dir / "lock"),
      private_key(state_dir / "ledger.key"),
      segments(dir / "segments") {}

std::string anchor_line(const Head& head, const std::string& checkpoint) {
  Head at_seal = head;
  at_seal.end = at_seal.last_offset = 0;
  return Json{{"anchor", head_to_json(at_seal)}, {"checkpoint", checkpoint}}.dump() + "\n";
}

Result<std::optional<Anchor>> parse_anchor(std::string_view data) {
  if (!data.starts_with("{\"anchor\":")) return std::optional<Anchor>();
  auto newline = data.find('\n');
  if (newline == std::string_view::npos)
    return fail(ErrorCode::verify_failed, "the segment's anchor line is cut off");
  auto json = Json::parse(data.substr(0, newline), nullptr, false);
  std::optional<Head> head;
  if (json.is_object() && json["anchor"].is_object() && json["checkpoint"].is_string())
    head = head_from_json(json["anchor"].dump());
  if (!head) return fail(ErrorCode::verify_failed, "the segment's anchor line is malformed");
  Anchor anchor{std::move(*head), json["checkpoint"].get<std::string>()};
  if (anchor_line(anchor.head, anchor.checkpoint) != data.substr(0, newline + 1))
    return fail(ErrorCode::verify_failed, "the segment's anchor line is not in canonical form");
  anchor.head.end = newline + 1;
  anchor.head.last_offset = 0;
  return std::optional<Anchor>(std::move(anchor));
}

Status check_anchor(const Anchor& anchor, const VerifierKey& key) {
  auto checkpoint = TRY(with_context(open_checkpoint(anchor.checkpoint, key), "segment anchor"));
  if (checkpoint.size != anchor.head.size || checkpoint.root != anchor.head.range.root())
    return fail(ErrorCode::verify_failed,
                "the segment's anchor (size {}) does not match the checkpoint it carries (size {})",
                anchor.head.size, checkpoint.size);
  return ok();
}

std::string head_text(const Head& head) {
  return head_to_json(head).dump() + "\n";
}

std::string default_origin() {
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  std::string name = host[0] ? host : "localhost";
  for (auto& c : name)
    if (static_cast<unsigned char>(c) <= 0x20 || c == '+') c = '-';
  return "op-dbus/" + name;
}

std::optional<Error> scan_blocks(std::string_view data, Head& head, uint64_t mark_size,
                                 Digest* mark_root) {
  HeaderReader reader;
  auto stop = [&](std::string what) {
    return Error{ErrorCode::verify_failed, fmt::format("height {}: {}", head.size, what), {}};
  };
  while (head.end < data.size()) {
    auto newline = data.find('\n', head.end);
    if (newline == std::string_view::npos) return stop("unterminated block at the end of the file");
    auto line = data.substr(head.end, newline - head.end);
    auto header = reader.read(line, data.size() - head.end);
    if (!header) return stop(header.error().message);
    if (header->height != head.size)
      return stop(fmt::format("the block records height {}", header->height));
    if (header->prev != head.last) return stop("\"prev\" does not match the previous block");
    auto digest = sha256(line);
    head.range.append(leaf_hash(Bytes(digest)));
    head.last = digest;
    head.last_offset = head.end;
    head.end = newline + 1;
    ++head.size;
    if (mark_root && head.size == mark_size) *mark_root = head.range.root();
  }
  return std::nullopt;
}

Ledger::Ledger(LedgerFiles files, SigningKey key, UniqueFd blocks, UniqueFd head, UniqueFd lock,
               Clock clock, std::string interface)
    : files_(std::move(files)),
      key_(std::move(key)),
      blocks_fd_(std::move(blocks)),
      head_fd_(std::move(head)),
      lock_fd_(std::move(lock)),
      clock_(std::move(clock)),
      interface_(std::move(interface)) {}

Ledger::~Ledger() = default;

Result<std::unique_ptr<Ledger>> Ledger::open(const std::filesystem::path& state_dir,
                                             std::string interface, Clock clock) {
  LedgerFiles files(state_dir);
  TRY(ensure_directory(state_dir, kStateDirectoryMode));
  TRY(ensure_directory(files.dir));
  std::optional<VerifierKey> published;
  if (::access(files.public_key.c_str(), F_OK) == 0)
    published = TRY(with_context(VerifierKey::parse(TRY(read_file(files.public_key))),
                                 files.public_key.string()));
  auto origin = published ? published->name() : default_origin();
  auto key = TRY(SigningKey::load_or_create(files.private_key, origin));
  if (published && published->text() != key.verifier().text())
    return fail(ErrorCode::conflict, "{} does not belong to the signing key {}",
                files.public_key.string(), files.private_key.string());
  if (!published) TRY(write_file_atomic(files.public_key, key.verifier().text() + "\n"));
  auto blocks = TRY(open_file(files.blocks, O_RDWR | O_CREAT | O_APPEND));
  auto head = TRY(open_file(files.head, O_RDWR | O_CREAT));
  auto lock = TRY(open_file(files.lock, O_RDWR | O_CREAT));
  std::unique_ptr<Ledger> ledger(new Ledger(std::move(files), std::move(key), std::move(blocks),
                                            std::move(head), std::move(lock), std::move(clock),
                                            std::move(interface)));
  TRY(ledger->recover());
  if (ledger->repair_record_) TRY(ledger->append(*std::exchange(ledger->repair_record_, {})));
  return ledger;
}

Result<std::optional<Checkpoint>> Ledger::read_signed_checkpoint() const {
  auto note = read_file(files_.checkpoint);
  // Missing, empty or torn (it is written without fsync): rebuilt from the blocks.
  if (!note || note->find("\n\n") == std::string::npos) return std::optional<Checkpoint>();
  auto checkpoint = open_checkpoint(*note, key_.verifier());
  if (!checkpoint)
    return fail(ErrorCode::verify_failed,
                "{}: {}; refusing to append (run 'op-dbus ledger verify')",
                files_.checkpoint.string(), checkpoint.error().message);
  return std::optional<Checkpoint>(std::move(*checkpoint));
}

Status Ledger::check_against_checkpoint(const Checkpoint& checkpoint,
                                        const Digest& root_at_size) const {
  if (root_at_size != checkpoint.root)
    return fail(ErrorCode::verify_failed,
                "the first {} blocks do not match the signed checkpoint: history was altered; "
                "refusing to append (run 'op-dbus ledger verify')",
                checkpoint.size);
  return ok();
}

Status Ledger::recover() {
  auto guard = TRY(FlockGuard::exclusive(lock_fd_.get()));
  TRY(undo_interrupted_seal());
  blocks_fd_ = TRY(open_file(files_.blocks, O_RDWR | O_CREAT | O_APPEND));  // as of the lock
  auto checkpoint = TRY(read_signed_checkpoint());
  std::optional<Head> cached;
  if (auto text = read_file(files_.head)) cached = head_from_json(*text);
  bool trusted = cached && checkpoint && checkpoint->size == cached->size &&
                 cached->range.root() == checkpoint->root &&
                 head_matches_file(*cached, blocks_fd_.get());
  auto map = TRY(MappedFile::open(files_.blocks));
  auto data = map.view();
  head_ = trusted ? std::move(*cached) : TRY(initial_head(data));
  Digest root_at_checkpoint{};
  if (checkpoint && checkpoint->size == head_.size) root_at_checkpoint = head_.range.root();
  auto stopped = scan_blocks(data, head_, checkpoint ? checkpoint->size : 0, &root_at_checkpoint);
  if (checkpoint && head_.size < checkpoint->size)
    return fail(ErrorCode::verify_failed,
                "the signed checkpoint covers {} blocks but only {} are intact{}; refusing to "
                "append (run 'op-dbus ledger verify')",
                checkpoint->size, head_.size, stopped ? " (" + stopped->message + ")" : "");
  if (checkpoint) TRY(check_against_checkpoint(*checkpoint, root_at_checkpoint));
  if (stopped) TRY(repair_tail(data, *stopped));
  if (!checkpoint || checkpoint->size != head_.size || !trusted) TRY(publish());
  return ok();
}

Result<Head> Ledger::initial_head(std::string_view data) const {
  auto anchor = TRY(parse_anchor(data));
  if (!anchor) return Head{};
  TRY(check_anchor(*anchor, key_.verifier()));
  return anchor->head;
}

// A seal in another process replaced blocks.jsonl: continue from the new file's anchor, which
// must not be behind what this process has seen.
Status Ledger::follow_seal() {
  struct stat by_path {
  }, by_fd{};
  if (::stat(files_.blocks.c_str(), &by_path) != 0 || ::fstat(blocks_fd_.get(), &by_fd) != 0)
    return fail(ErrorCode::io, "stat {}: {}", files_.blocks.string(), errno_text(errno));
  if (by_path.st_ino == by_fd.st_ino && by_path.st_dev == by_fd.st_dev) return ok();
  blocks_fd_ = TRY(open_file(files_.blocks, O_RDWR | O_APPEND));
  auto map = TRY(MappedFile::open(files_.blocks));
  auto fresh = TRY(initial_head(map.view()));
  if (fresh.size < head_.size)
    return fail(ErrorCode::verify_failed,
                "{} was replaced by a segment starting at height {}, before {}: refusing to append",
                files_.blocks.string(), fresh.size, head_.size);
  head_ = std::move(fresh);
  return ok();
}

// A crash between a seal's link() and its rename leaves segments/X.jsonl as a second name of the
// live blocks.jsonl; that name is dropped (the seal did not happen).
Status Ledger::undo_interrupted_seal() {
  struct stat live {};
  if (::stat(files_.blocks.c_str(), &live) != 0 || live.st_nlink < 2) return ok();
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(files_.segments, error)) {
    struct stat segment {};
    if (::stat(entry.path().c_str(), &segment) == 0 && segment.st_ino == live.st_ino &&
        segment.st_dev == live.st_dev && ::unlink(entry.path().c_str()) != 0)
      return fail(ErrorCode::io, "remove {}: {}", entry.path().string(), errno_text(errno));
  }
  ::chmod(files_.blocks.c_str(), 0644);
  return ok();
}

Status Ledger::catch_up() {
  TRY(follow_seal());
  struct stat info {};
  if (::fstat(blocks_fd_.get(), &info) != 0)
    return fail(ErrorCode::io, "stat {}: {}", files_.blocks.string(), errno_text(errno));
  auto size = static_cast<uint64_t>(info.st_size);
  if (size == head_.end) return ok();
  if (size < head_.end)
    return fail(ErrorCode::verify_failed,
                "{} shrank from {} to {} bytes while open: blocks were removed",
                files_.blocks.string(), head_.end, size);
  auto map = TRY(MappedFile::open(files_.blocks));
  if (auto stopped = scan_blocks(map.view(), head_)) TRY(repair_tail(map.view(), *stopped));
  return publish();
}

Status Ledger::repair_tail(std::string_view data, const Error& reason) {
  auto tail = data.substr(head_.end);
  auto checkpoint = TRY(read_signed_checkpoint());
  // Beyond the signed checkpoint; or, with no readable checkpoint, only an unterminated line.
  bool unacknowledged =
      checkpoint ? head_.size >= checkpoint->size : tail.find('\n') == std::string_view::npos;
  if (!unacknowledged)
    return fail(ErrorCode::verify_failed,
                "the ledger is damaged at byte {} ({}), inside signed history; refusing to "
                "append (run 'op-dbus ledger verify')",
                head_.end, reason.message);
  auto saved = files_.dir / fmt::format("torn-{}.bin", head_.end);
  TRY(write_file_atomic(saved, tail, 0600));
  auto tail_size = tail.size();
  auto tail_hash = to_hex(sha256(tail));  // the mapping of these bytes ends with the truncation
  if (::ftruncate(blocks_fd_.get(), static_cast<off_t>(head_.end)) != 0 ||
      ::fdatasync(blocks_fd_.get()) != 0)
    return fail(ErrorCode::io, "truncate {}: {}", files_.blocks.string(), errno_text(errno));
  BlockDraft record;
  record.action = "ledger.repair";
  record.actor = current_actor(interface_);
  record.result = {{"outcome", "repaired"}, {"reason", reason.message},
                   {"offset", head_.end},   {"bytes", tail_size},
                   {"sha256", tail_hash},   {"saved_to", saved.filename().string()}};
  repair_record_ = std::move(record);
  return ok();
}

Status Ledger::publish() {
  Checkpoint checkpoint{key_.verifier().name(), head_.size, head_.range.root(),
                        format_rfc3339(clock_(), false)};
  auto note = TRY(key_.sign(checkpoint.body()));
  TRY(replace_derived_file(files_.checkpoint, note));
  auto text = head_text(head_);
  if (::pwrite(head_fd_.get(), text.data(), text.size(), 0) != static_cast<ssize_t>(text.size()) ||
      ::ftruncate(head_fd_.get(), static_cast<off_t>(text.size())) != 0)
    return fail(ErrorCode::io, "write {}: {}", files_.head.string(), errno_text(errno));
  return ok();
}

Result<std::string> Ledger::seal() {
  std::unique_lock lock(mutex_);
  done_.wait(lock, [&] { return !leader_active_; });
  leader_active_ = true;
  lock.unlock();
  auto sealed = seal_segment();
  lock.lock();
  leader_active_ = false;
  done_.notify_all();
  lock.unlock();
  if (!sealed) return sealed;
  auto bytes = TRY(read_file(files_.segments / *sealed));
  BlockDraft record;
  record.action = "ledger.seal";
  record.actor = current_actor(interface_);
  record.result = {{"outcome", "sealed"}};
  record.refs = {{"segment", *sealed}, {"sha256", to_hex(sha256(bytes))}};
  TRY(append(std::move(record)));
  return sealed;
}

// Hard-links blocks.jsonl into segments/ and then atomically replaces blocks.jsonl with a file
// holding only the anchor: a crash before the rename leaves the ledger as it was (the stale link
// is replaced by the next seal), a crash after it leaves a complete seal.
Result<std::string> Ledger::seal_segment() {
  auto guard = TRY(FlockGuard::exclusive(lock_fd_.get()));
  TRY(catch_up());
  TRY(publish());
  auto map = TRY(MappedFile::open(files_.blocks));
  auto anchor = TRY(parse_anchor(map.view()));
  uint64_t first = anchor ? anchor->head.size : 0;
  if (head_.size == first)
    return fail(ErrorCode::invalid_input, "nothing to seal: no blocks since the last seal");
  auto name = fmt::format("{:012}-{:012}.jsonl", first, head_.size - 1);
  auto segment = files_.segments / name;
  TRY(ensure_directory(files_.segments));
  ::unlink(segment.c_str());
  if (::link(files_.blocks.c_str(), segment.c_str()) != 0 || ::chmod(segment.c_str(), 0444) != 0)
    return fail(ErrorCode::io, "seal {}: {}", segment.string(), errno_text(errno));
  auto line = anchor_line(head_, TRY(read_file(files_.checkpoint)));
  TRY(write_file_atomic(files_.blocks, line));
  blocks_fd_ = TRY(open_file(files_.blocks, O_RDWR | O_APPEND));
  head_.end = line.size();
  head_.last_offset = 0;
  TRY(publish());
  return name;
}

uint64_t Ledger::size() const {
  std::lock_guard lock(mutex_);
  return head_.size;
}

Result<uint64_t> Ledger::append(BlockDraft draft) {
  std::vector<BlockDraft> drafts;
  drafts.push_back(std::move(draft));
  return std::move(append_all(std::move(drafts)).front());
}

std::vector<Result<uint64_t>> Ledger::append_all(std::vector<BlockDraft> drafts) {
  std::vector<Pending> mine;
  mine.reserve(drafts.size());
  for (auto& draft : drafts) {
    auto encoded = encode_draft(draft);
    if (encoded)
      mine.push_back({std::move(*encoded), std::nullopt});
    else
      mine.push_back({{}, make_failure(std::move(encoded).error())});
  }
  auto all_done = [&] {
    return std::all_of(mine.begin(), mine.end(),
                       [](const Pending& p) { return p.result.has_value(); });
  };
  std::unique_lock lock(mutex_);
  for (auto& pending : mine)
    if (!pending.result) queue_.push_back(&pending);
  arrived_.notify_one();
  for (;;) {
    // Results are written by the active leader without the mutex: read them only when no
    // leader is active (the last one published them by taking the mutex to step down).
    if (leader_active_) {
      done_.wait(lock);
      continue;
    }
    if (all_done()) break;
    leader_active_ = true;
    auto batch = take_batch(lock);
    lock.unlock();
    commit_batch(batch);
    lock.lock();
    leader_active_ = false;
    done_.notify_all();
  }
  std::vector<Result<uint64_t>> results;
  for (auto& pending : mine) results.push_back(std::move(*pending.result));
  return results;
}

// Under concurrent load (the last group had several appenders), waits a fraction of an fsync
// for those appenders to queue again, so that one fdatasync covers them all (like PostgreSQL's
// commit_delay). A lone appender never waits.
std::vector<Ledger::Pending*> Ledger::take_batch(std::unique_lock<std::mutex>& lock) {
  constexpr auto kGroupWait = std::chrono::microseconds(150);
  if (last_batch_size_ > 1 && queue_.size() < last_batch_size_)
    arrived_.wait_for(lock, kGroupWait, [&] { return queue_.size() >= last_batch_size_; });
  std::vector<Pending*> batch(queue_.begin(), queue_.end());
  queue_.clear();
  last_batch_size_ = batch.size();
  return batch;
}

void Ledger::commit_batch(const std::vector<Pending*>& batch) {
  std::optional<Pending> repair;
  auto status = [&]() -> Status {
    auto guard = TRY(FlockGuard::exclusive(lock_fd_.get()));
    TRY(catch_up());
    if (!repair_record_) return write_batch(batch);
    repair.emplace(Pending{TRY(encode_draft(*std::exchange(repair_record_, {}))), std::nullopt});
    std::vector<Pending*> with_repair{&*repair};
    with_repair.insert(with_repair.end(), batch.begin(), batch.end());
    return write_batch(with_repair);
  }();
  if (status) return;
  for (auto* pending : batch)
    if (!pending->result || *pending->result) pending->result = make_failure(status.error());
}

Status Ledger::write_batch(const std::vector<Pending*>& batch) {
  Head next = head_;
  std::string buffer;
  std::vector<std::pair<Pending*, uint64_t>> written;
  for (auto* pending : batch) {
    auto line = assemble_block(pending->draft, next.size, next.last, clock_());
    auto digest = sha256(line);
    next.last_offset = head_.end + buffer.size();
    buffer += line;
    buffer += '\n';
    next.range.append(leaf_hash(Bytes(digest)));
    next.last = digest;
    written.emplace_back(pending, next.size++);
  }
  next.end = head_.end + buffer.size();
  if (written.empty()) return ok();
  auto durable = write_all(blocks_fd_.get(), buffer, files_.blocks);
  if (durable && ::fdatasync(blocks_fd_.get()) != 0)
    durable = fail(ErrorCode::io, "fdatasync {}: {}", files_.blocks.string(), errno_text(errno));
  if (!durable) {
    if (::ftruncate(blocks_fd_.get(), static_cast<off_t>(head_.end)) != 0)
      return with_context(std::move(durable), "and the partial write could not be undone");
    return durable;
  }
  head_ = std::move(next);
  TRY(publish());
  for (auto& [pending, height] : written) pending->result = height;
  return ok();
}

}  // namespace opdbus::ledger
