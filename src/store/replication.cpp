// BTRFS send/receive replication; see replication.h.
#include "store/replication.h"

#include <fcntl.h>
#include <linux/btrfs.h>
#include <linux/fs.h>
#include <linux/openat2.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <array>
#include <cstring>
#include <thread>

#include <btrfs/send-stream.h>
#include <btrfsutil.h>
#include <linux/magic.h>

#include "base/fs.h"
#include "base/unique_fd.h"

namespace opdbus::store {
namespace {

namespace fs = std::filesystem;
using Uuid = std::array<uint8_t, 16>;

constexpr std::string_view kHeader = "opdbus-send 1 ";
constexpr std::string_view kEnd = "opdbus-send end\n";

fs::path kind_directory(const fs::path& state_dir, const std::string& kind) {
  return state_dir / (kind == "ledger" ? ".snapshots-ledger" : ".snapshots");
}

std::vector<std::string> subvolume_names(const fs::path& directory) {
  std::vector<std::string> names;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(directory, error)) {
    auto name = entry.path().filename().string();
    if (parse_snapshot_time(name)) names.push_back(name);
  }
  std::sort(names.begin(), names.end());
  return names;
}

Result<uint64_t> subvolume_id(const fs::path& path) {
  uint64_t id = 0;
  if (btrfs_util_subvolume_id(path.c_str(), &id) != BTRFS_UTIL_OK)
    return fail(ErrorCode::io, "{} is not a BTRFS subvolume: {}", path.string(), errno_text(errno));
  return id;
}

Status send_one(const fs::path& state_dir, const SendItem& item, int fd) {
  auto directory = kind_directory(state_dir, item.kind);
  TRY(write_all(fd,
                fmt::format("{}{} {} {}\n", kHeader, item.kind, item.name,
                            item.parent.empty() ? "-" : item.parent),
                "replication stream"));
  UniqueFd source(::open((directory / item.name).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!source) return fail(ErrorCode::io, "open snapshot {}: {}", item.name, errno_text(errno));
  __u64 parent = 0;
  if (!item.parent.empty()) parent = TRY(subvolume_id(directory / item.parent));
  btrfs_ioctl_send_args args{};
  args.send_fd = fd;
  args.parent_root = parent;
  args.clone_sources_count = parent ? 1 : 0;
  args.clone_sources = parent ? &parent : nullptr;
  if (::ioctl(source.get(), BTRFS_IOC_SEND, &args) != 0)
    return fail(ErrorCode::io, "send {}: {}", item.name, errno_text(errno));
  return ok();
}

// The state of one send stream being received.
struct Receiving {
  fs::path directory;  // where subvolumes of this kind live in the replica
  fs::path temp;       // the new subvolume, under a temporary name
  UniqueFd root;
  Uuid uuid{};
  uint64_t ctransid = 0;
};

Receiving& state(void* user) {
  return *static_cast<Receiving*>(user);
}

int result_of(int rc) {
  return rc < 0 ? -errno : 0;
}

// The received (or, on the sender's side, own) subvolume with this UUID.
std::optional<fs::path> find_by_uuid(const fs::path& directory, const uint8_t* uuid) {
  for (const auto& name : subvolume_names(directory)) {
    struct btrfs_util_subvolume_info info {};
    if (btrfs_util_subvolume_info((directory / name).c_str(), 0, &info) != BTRFS_UTIL_OK) continue;
    if (std::memcmp(info.received_uuid, uuid, 16) == 0 || std::memcmp(info.uuid, uuid, 16) == 0)
      return directory / name;
  }
  return std::nullopt;
}

int open_root(Receiving& receiving, const u8* uuid, u64 ctransid) {
  receiving.root = UniqueFd(::open(receiving.temp.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  std::memcpy(receiving.uuid.data(), uuid, 16);
  receiving.ctransid = ctransid;
  return receiving.root ? 0 : -errno;
}

int on_subvol(const char*, const u8* uuid, u64 ctransid, void* user) {
  auto& receiving = state(user);
  if (btrfs_util_create_subvolume(receiving.temp.c_str(), 0, nullptr, nullptr) != BTRFS_UTIL_OK)
    return -errno;
  return open_root(receiving, uuid, ctransid);
}

int on_snapshot(const char*, const u8* uuid, u64 ctransid, const u8* parent_uuid, u64, void* user) {
  auto& receiving = state(user);
  auto parent = find_by_uuid(receiving.directory, parent_uuid);
  if (!parent) return -ENOENT;
  if (btrfs_util_create_snapshot(parent->c_str(), receiving.temp.c_str(), 0, nullptr, nullptr) !=
      BTRFS_UTIL_OK)
    return -errno;
  return open_root(receiving, uuid, ctransid);
}

int root_fd(void* user) {
  return state(user).root.get();
}

// Opens `path` inside the tree under `root`: absolute paths, "..", and symlinks anywhere on the
// way are refused by the kernel (openat2 RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS), so a crafted
// stream cannot reach outside the subvolume being received. Returns -errno on failure.
int open_beneath(int root, const char* path, int flags) {
  struct open_how how {};
  how.flags = static_cast<uint64_t>(flags | O_CLOEXEC);
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
  long fd = ::syscall(SYS_openat2, root, path[0] ? path : ".", &how, sizeof how);
  return fd < 0 ? -errno : static_cast<int>(fd);
}

// The directory holding `path` (opened beneath the root) and the entry's own name.
struct Entry {
  UniqueFd directory;
  std::string name;
  int error = 0;
};

Entry entry_of(void* user, const char* path) {
  std::string_view text(path);
  auto slash = text.rfind('/');
  Entry entry;
  entry.name = std::string(slash == std::string_view::npos ? text : text.substr(slash + 1));
  if (entry.name.empty() || entry.name == "." || entry.name == "..") {
    entry.error = -EINVAL;
    return entry;
  }
  auto parent =
      slash == std::string_view::npos ? std::string() : std::string(text.substr(0, slash));
  int fd = open_beneath(root_fd(user), parent.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd < 0) entry.error = fd;
  entry.directory = UniqueFd(fd < 0 ? -1 : fd);
  return entry;
}

// Runs `op(directory fd, name)` on the entry for `path`.
template <typename Op>
int at_entry(void* user, const char* path, Op op) {
  auto entry = entry_of(user, path);
  if (entry.error) return entry.error;
  return result_of(op(entry.directory.get(), entry.name.c_str()));
}

int on_mkfile(const char* path, void* user) {
  return at_entry(user, path, [](int dir, const char* name) {
    int fd = ::openat(dir, name, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0600);
    return fd < 0 ? -1 : ::close(fd);
  });
}
int on_mkdir(const char* path, void* user) {
  return at_entry(user, path, [](int dir, const char* name) { return ::mkdirat(dir, name, 0700); });
}
int on_mknod(const char* path, u64 mode, u64 dev, void* user) {
  return at_entry(user, path, [&](int dir, const char* name) {
    return ::mknodat(dir, name, static_cast<mode_t>(mode), static_cast<dev_t>(dev));
  });
}
int on_mkfifo(const char* path, void* user) {
  return at_entry(user, path, [](int dir, const char* name) {
    return ::mknodat(dir, name, S_IFIFO | 0600, 0);
  });
}
int on_mksock(const char* path, void* user) {
  return at_entry(user, path, [](int dir, const char* name) {
    return ::mknodat(dir, name, S_IFSOCK | 0600, 0);
  });
}
int on_symlink(const char* path, const char* target, void* user) {
  return at_entry(user, path,
                  [&](int dir, const char* name) { return ::symlinkat(target, dir, name); });
}
int on_rename(const char* from, const char* to, void* user) {
  auto source = entry_of(user, from);
  auto target = entry_of(user, to);
  if (source.error || target.error) return source.error ? source.error : target.error;
  return result_of(::renameat(source.directory.get(), source.name.c_str(), target.directory.get(),
                              target.name.c_str()));
}
int on_link(const char* path, const char* existing, void* user) {
  auto source = entry_of(user, existing);
  auto target = entry_of(user, path);
  if (source.error || target.error) return source.error ? source.error : target.error;
  return result_of(::linkat(source.directory.get(), source.name.c_str(), target.directory.get(),
                            target.name.c_str(), 0));
}
int on_unlink(const char* path, void* user) {
  return at_entry(user, path, [](int dir, const char* name) { return ::unlinkat(dir, name, 0); });
}
int on_rmdir(const char* path, void* user) {
  return at_entry(user, path,
                  [](int dir, const char* name) { return ::unlinkat(dir, name, AT_REMOVEDIR); });
}

int on_write(const char* path, const void* data, u64 offset, u64 length, void* user) {
  int raw = open_beneath(root_fd(user), path, O_WRONLY);
  if (raw < 0) return raw;
  UniqueFd fd(raw);
  auto bytes = static_cast<const char*>(data);
  for (u64 done = 0; done < length;) {
    ssize_t n = ::pwrite(fd.get(), bytes + done, length - done, static_cast<off_t>(offset + done));
    if (n < 0) return -errno;
    done += static_cast<u64>(n);
  }
  return 0;
}

int on_clone(const char* path, u64 offset, u64 length, const u8* clone_uuid, u64,
             const char* clone_path, u64 clone_offset, void* user) {
  auto& receiving = state(user);
  UniqueFd source_root;
  if (std::memcmp(clone_uuid, receiving.uuid.data(), 16) != 0) {
    auto found = find_by_uuid(receiving.directory, clone_uuid);
    if (!found) return -ENOENT;
    source_root = UniqueFd(::open(found->c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!source_root) return -errno;
  }
  int source = open_beneath(source_root ? source_root.get() : root_fd(user), clone_path, O_RDONLY);
  if (source < 0) return source;
  UniqueFd source_fd(source);
  int target = open_beneath(root_fd(user), path, O_WRONLY);
  if (target < 0) return target;
  UniqueFd target_fd(target);
  file_clone_range range{};
  range.src_fd = source;
  range.src_offset = clone_offset;
  range.src_length = length;
  range.dest_offset = offset;
  return result_of(::ioctl(target, FICLONERANGE, &range));
}

int on_set_xattr(const char* path, const char* name, const void* data, int length, void* user) {
  int fd = open_beneath(root_fd(user), path, O_RDONLY | O_NONBLOCK);
  if (fd < 0) return fd;
  UniqueFd file(fd);
  return result_of(::fsetxattr(fd, name, data, static_cast<size_t>(length), 0));
}
int on_remove_xattr(const char* path, const char* name, void* user) {
  int fd = open_beneath(root_fd(user), path, O_RDONLY | O_NONBLOCK);
  if (fd < 0) return fd;
  UniqueFd file(fd);
  return result_of(::fremovexattr(fd, name));
}
int on_truncate(const char* path, u64 size, void* user) {
  int fd = open_beneath(root_fd(user), path, O_WRONLY);
  if (fd < 0) return fd;
  UniqueFd file(fd);
  return result_of(::ftruncate(fd, static_cast<off_t>(size)));
}
// The root itself is the entry "" in a stream; attributes on it go through ".".
int on_chmod(const char* path, u64 mode, void* user) {
  if (!path[0]) return result_of(::fchmod(root_fd(user), static_cast<mode_t>(mode)));
  return at_entry(user, path, [&](int dir, const char* name) {
    return ::fchmodat(dir, name, static_cast<mode_t>(mode), AT_SYMLINK_NOFOLLOW);
  });
}
int on_chown(const char* path, u64 uid, u64 gid, void* user) {
  if (!path[0])
    return result_of(::fchown(root_fd(user), static_cast<uid_t>(uid), static_cast<gid_t>(gid)));
  return at_entry(user, path, [&](int dir, const char* name) {
    return ::fchownat(dir, name, static_cast<uid_t>(uid), static_cast<gid_t>(gid),
                      AT_SYMLINK_NOFOLLOW);
  });
}
int on_utimes(const char* path, struct timespec* accessed, struct timespec* modified,
              struct timespec*, void* user) {
  struct timespec times[2] = {*accessed, *modified};
  if (!path[0]) return result_of(::futimens(root_fd(user), times));
  return at_entry(user, path, [&](int dir, const char* name) {
    return ::utimensat(dir, name, times, AT_SYMLINK_NOFOLLOW);
  });
}
int on_update_extent(const char*, u64, u64, void*) {
  return 0;  // only sent with BTRFS_SEND_FLAG_NO_FILE_DATA, which op-dbus never asks for
}

btrfs_send_ops receive_operations() {
  btrfs_send_ops ops{};
  ops.subvol = on_subvol;
  ops.snapshot = on_snapshot;
  ops.mkfile = on_mkfile;
  ops.mkdir = on_mkdir;
  ops.mknod = on_mknod;
  ops.mkfifo = on_mkfifo;
  ops.mksock = on_mksock;
  ops.symlink = on_symlink;
  ops.rename = on_rename;
  ops.link = on_link;
  ops.unlink = on_unlink;
  ops.rmdir = on_rmdir;
  ops.write = on_write;
  ops.clone = on_clone;
  ops.set_xattr = on_set_xattr;
  ops.remove_xattr = on_remove_xattr;
  ops.truncate = on_truncate;
  ops.chmod = on_chmod;
  ops.chown = on_chown;
  ops.utimes = on_utimes;
  ops.update_extent = on_update_extent;
  return ops;
}

Result<std::string> read_header(int fd) {
  std::string line;
  for (char c = 0; c != '\n';) {
    ssize_t n = ::read(fd, &c, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return fail(ErrorCode::invalid_input, "the replication stream ended early");
    line += c;
    if (line.size() > 512)
      return fail(ErrorCode::invalid_input, "not an op-dbus replication stream");
  }
  return line;
}

Status finish_subvolume(Receiving& receiving, const fs::path& final_path) {
  btrfs_ioctl_received_subvol_args args{};
  std::memcpy(args.uuid, receiving.uuid.data(), 16);
  args.stransid = receiving.ctransid;
  if (::ioctl(receiving.root.get(), BTRFS_IOC_SET_RECEIVED_SUBVOL, &args) != 0)
    return fail(ErrorCode::io, "mark {} received: {}", final_path.string(), errno_text(errno));
  receiving.root.reset();
  if (btrfs_util_set_subvolume_read_only(receiving.temp.c_str(), true) != BTRFS_UTIL_OK)
    return fail(ErrorCode::io, "make {} read-only: {}", final_path.string(), errno_text(errno));
  if (::rename(receiving.temp.c_str(), final_path.c_str()) != 0)
    return fail(ErrorCode::io, "rename {}: {}", final_path.string(), errno_text(errno));
  return ok();
}

Status point_ledger_at(const fs::path& replica, const std::string& name) {
  auto link = replica / "ledger";
  if (fs::exists(fs::symlink_status(link)) && !fs::is_symlink(fs::symlink_status(link)))
    return fail(ErrorCode::invalid_input,
                "{} holds a live ledger: receive into a replica directory instead",
                replica.string());
  auto temp = replica / "ledger.new";
  fs::remove(temp);
  std::error_code error;
  fs::create_directory_symlink(fs::path(".snapshots-ledger") / name, temp, error);
  if (error || ::rename(temp.c_str(), link.c_str()) != 0)
    return fail(ErrorCode::io, "point {} at {}: {}", link.string(), name, errno_text(errno));
  return ok();
}

Result<std::string> receive_one(const fs::path& replica, const std::string& header, int fd) {
  char kind[16] = {}, name[128] = {}, parent[128] = {};
  if (std::sscanf(header.c_str() + kHeader.size(), "%15s %127s %127s", kind, name, parent) != 3 ||
      !parse_snapshot_time(name) || (std::string(kind) != "state" && std::string(kind) != "ledger"))
    return fail(ErrorCode::invalid_input, "bad replication record '{}'", header);
  Receiving receiving;
  receiving.directory = kind_directory(replica, kind);
  TRY(ensure_directory(receiving.directory, 0700));
  auto final_path = receiving.directory / name;
  if (fs::exists(final_path))
    return fail(ErrorCode::conflict, "{} already has {}", replica.string(), name);
  receiving.temp = receiving.directory / (std::string(".receiving-") + name);
  if (fs::exists(receiving.temp)) btrfs_util_delete_subvolume(receiving.temp.c_str(), 0);
  auto ops = receive_operations();
  int rc = btrfs_read_and_process_send_stream(fd, &ops, &receiving, 1, 1);
  if (rc < 0 || !receiving.root) {
    receiving.root.reset();
    if (fs::exists(receiving.temp)) btrfs_util_delete_subvolume(receiving.temp.c_str(), 0);
    return fail(ErrorCode::io, "receive {} {}: {}", kind, name, errno_text(rc < 0 ? -rc : EIO));
  }
  if (auto finished = finish_subvolume(receiving, final_path); !finished) {
    receiving.root.reset();
    btrfs_util_delete_subvolume(receiving.temp.c_str(), 0);
    return make_failure(finished.error());
  }
  if (std::string(kind) == "ledger") TRY(point_ledger_at(replica, name));
  return std::string(kind) + " " + name;
}

}  // namespace

Result<std::string> snapshot_ledger(const StateStore& store, TimePoint time) {
  if (!store.on_btrfs())
    return fail(ErrorCode::unavailable, "send/receive needs the state directory on BTRFS");
  auto directory = store.snapshots_path().parent_path() / ".snapshots-ledger";
  TRY(ensure_directory(directory, 0700));
  auto name = snapshot_stamp(time);
  for (int n = 2; fs::exists(directory / name); ++n)
    name = fmt::format("{}-{}", snapshot_stamp(time), n);
  auto source = store.snapshots_path().parent_path() / "ledger";
  if (btrfs_util_create_snapshot(source.c_str(), (directory / name).c_str(),
                                 BTRFS_UTIL_CREATE_SNAPSHOT_READ_ONLY, nullptr,
                                 nullptr) != BTRFS_UTIL_OK)
    return fail(ErrorCode::io, "snapshot {}: {}", source.string(), errno_text(errno));
  return name;
}

void prune_ledger_snapshots(const StateStore& store) {
  auto directory = kind_directory(store.snapshots_path().parent_path(), "ledger");
  auto names = subvolume_names(directory);
  for (size_t i = 0; i + 1 < names.size(); ++i)
    btrfs_util_delete_subvolume((directory / names[i]).c_str(), 0);
}

Result<std::vector<SendItem>> plan_send(const StateStore& store,
                                        const std::optional<fs::path>& replica) {
  auto state_dir = store.snapshots_path().parent_path();
  std::vector<SendItem> items;
  for (const char* kind : {"state", "ledger"}) {
    auto local = subvolume_names(kind_directory(state_dir, kind));
    auto remote =
        replica ? subvolume_names(kind_directory(*replica, kind)) : std::vector<std::string>{};
    std::string parent;
    for (const auto& name : local) {
      bool there = std::find(remote.begin(), remote.end(), name) != remote.end();
      bool wanted = std::string(kind) == "state" || name == local.back();
      if (!there && wanted) items.push_back({kind, name, parent});
      if (there || wanted) parent = name;
    }
  }
  return items;
}

namespace {

// The kernel writes a send stream at its own offset from 0, which would overwrite the header
// lines in a regular file; so anything but a pipe gets the stream through a pipe and a copier.
Status send_through_copier(const StateStore& store, const std::vector<SendItem>& items, int fd) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return fail(ErrorCode::io, "pipe: {}", errno_text(errno));
  UniqueFd read_end(fds[0]), write_end(fds[1]);
  Status copied = ok();
  std::thread copier([&] {
    char buffer[1 << 16];
    for (ssize_t n; (n = ::read(read_end.get(), buffer, sizeof buffer)) != 0;) {
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 || !(copied = write_all(fd, std::string_view(buffer, static_cast<size_t>(n)),
                                        "replication stream")))
        break;
    }
    read_end.reset();
  });
  auto sent = send_stream(store, items, write_end.get());
  write_end.reset();
  copier.join();
  if (!copied) return copied;
  return sent;
}

}  // namespace

Status send_stream(const StateStore& store, const std::vector<SendItem>& items, int fd) {
  if (!store.on_btrfs())
    return fail(ErrorCode::unavailable, "send/receive needs the state directory on BTRFS");
  struct stat info {};
  if (::fstat(fd, &info) == 0 && !S_ISFIFO(info.st_mode))
    return send_through_copier(store, items, fd);
  auto state_dir = store.snapshots_path().parent_path();
  for (const auto& item : items) TRY(send_one(state_dir, item, fd));
  return write_all(fd, kEnd, "replication stream");
}

Result<std::vector<std::string>> receive_stream(const fs::path& replica, int fd) {
  TRY(ensure_directory(replica, 0700));
  struct statfs info {};
  if (::statfs(replica.c_str(), &info) != 0 || info.f_type != BTRFS_SUPER_MAGIC)
    return fail(ErrorCode::invalid_input, "{} is not on a BTRFS filesystem", replica.string());
  std::vector<std::string> received;
  for (;;) {
    auto header = TRY(read_header(fd));
    if (header == kEnd) return received;
    if (!header.starts_with(kHeader))
      return fail(ErrorCode::invalid_input, "not an op-dbus replication stream");
    received.push_back(TRY(receive_one(replica, header, fd)));
  }
}

}  // namespace opdbus::store
