// CLI refusals noted by unprivileged processes and recorded by privileged ones; see access.h.
#include "engine/access.h"

#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <random>

#include "base/fs.h"
#include "engine/record.h"

namespace opdbus {
namespace {

constexpr off_t kMaxNoteBytes = 4096;

std::string safe_action(const std::string& action) {
  bool ok =
      !action.empty() && action.size() <= 64 &&
      action.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789._-") == std::string::npos;
  return ok ? action : "unknown";
}

std::string user_name(uid_t uid) {
  if (auto* entry = ::getpwuid(uid)) return entry->pw_name;
  return std::to_string(uid);
}

// The note's claims, or why it could not be read (`info` is the entry itself, never followed).
Json read_note(int dir_fd, const char* name, const struct stat& info) {
  if (!S_ISREG(info.st_mode)) return {{"unreadable", "not a plain file"}};
  UniqueFd fd(::openat(dir_fd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
  if (!fd) return {{"unreadable", errno_text(errno)}};
  if (info.st_size > kMaxNoteBytes) return {{"unreadable", "larger than 4 KiB"}};
  std::string text(static_cast<size_t>(info.st_size), '\0');
  if (::read(fd.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size()))
    return {{"unreadable", "short read"}};
  auto note = Json::parse(text, nullptr, false);
  if (!note.is_object()) return {{"unreadable", "not a JSON object"}};
  return note;
}

ledger::BlockDraft note_record(const Context& context, const Json& note, const struct stat& info) {
  auto action =
      note.contains("unreadable") ? std::string("unknown") : safe_action(note.value("action", ""));
  auto draft = denied_record(context, "cli." + action,
                             note.value("reason", "an unreadable refusal note: " +
                                                      note.value("unreadable", std::string())));
  draft.actor.uid = info.st_uid;
  draft.actor.user = user_name(info.st_uid);
  draft.actor.interface = "cli";
  draft.actor.pid = note.value("pid", 0);
  draft.actor.process = note.value("process", std::string("unknown"));
  draft.result["noted_at"] =
      format_rfc3339(TimePoint(std::chrono::seconds(info.st_mtim.tv_sec) +
                               std::chrono::duration_cast<TimePoint::duration>(
                                   std::chrono::nanoseconds(info.st_mtim.tv_nsec))),
                     false);
  draft.result["claimed"] = "pid and process are as the refused process stated them";
  return draft;
}

}  // namespace

Result<AccessPolicy> parse_access_policy(const Json& json) {
  if (!json.is_object() || json.size() != 1 || !json.contains("group"))
    return fail(ErrorCode::invalid_input, "access must be {{\"group\": NAME or GID}}");
  const auto& group = json["group"];
  if (group.is_number_unsigned())
    return AccessPolicy{group.get<uint32_t>(), std::to_string(group.get<uint32_t>())};
  if (!group.is_string())
    return fail(ErrorCode::invalid_input, "access.group must be a group name or a GID");
  auto* entry = ::getgrnam(group.get<std::string>().c_str());
  if (!entry)
    return fail(ErrorCode::invalid_input, "access.group: there is no group '{}'",
                group.get<std::string>());
  return AccessPolicy{entry->gr_gid, group.get<std::string>()};
}

std::filesystem::path denial_spool(const std::filesystem::path& state_dir) {
  return state_dir / "denied";
}

Status prepare_denial_spool(const std::filesystem::path& state_dir) {
  return ensure_directory(denial_spool(state_dir), 01733);
}

Status note_denial(const std::filesystem::path& state_dir, const std::string& action,
                   const std::string& reason) {
  std::random_device random;
  auto file = denial_spool(state_dir) /
              fmt::format("{}-{}-{:08x}.json", ::time(nullptr), ::getpid(), random());
  auto actor = ledger::current_actor("cli");
  Json note = {
      {"action", action}, {"reason", reason}, {"pid", actor.pid}, {"process", actor.process}};
  UniqueFd fd(::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!fd)
    return fail(ErrorCode::io, "the refusal could not be noted in {}: {}",
                denial_spool(state_dir).string(), errno_text(errno));
  auto text = note.dump();
  if (::write(fd.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size()))
    return fail(ErrorCode::io, "write {}: {}", file.string(), errno_text(errno));
  return ok();
}

Result<size_t> record_noted_denials(Context& context) {
  auto spool = denial_spool(context.config.state_dir);
  UniqueFd dir_fd(::open(spool.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir_fd) return size_t{0};
  std::unique_ptr<DIR, int (*)(DIR*)> dir(::fdopendir(::dup(dir_fd.get())), ::closedir);
  if (!dir) return fail(ErrorCode::io, "read {}: {}", spool.string(), errno_text(errno));
  auto* ledger = TRY(open_ledger(context));
  size_t recorded = 0;
  while (auto* entry = ::readdir(dir.get())) {
    if (entry->d_name[0] == '.' || recorded == kMaxNotesPerPass) continue;
    struct stat info {};
    if (::fstatat(dir_fd.get(), entry->d_name, &info, AT_SYMLINK_NOFOLLOW) != 0) continue;
    TRY(ledger->append(note_record(context, read_note(dir_fd.get(), entry->d_name, info), info)));
    ::unlinkat(dir_fd.get(), entry->d_name, 0);
    ++recorded;
  }
  return recorded;
}

}  // namespace opdbus
