// Crash-safe file helpers; see fs.h for the invariants.
#include "base/fs.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace opdbus {
namespace {

Status fsync_path(const std::filesystem::path& path, int flags) {
  UniqueFd fd(::open(path.c_str(), flags | O_CLOEXEC));
  if (!fd) return fail(ErrorCode::io, "open {}: {}", path.string(), errno_text(errno));
  if (::fsync(fd.get()) != 0)
    return fail(ErrorCode::io, "fsync {}: {}", path.string(), errno_text(errno));
  return ok();
}

}  // namespace

std::string errno_text(int error_number) {
  return std::strerror(error_number);
}

Result<std::string> read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return fail(ErrorCode::not_found, "cannot read {}: {}", path.string(), errno_text(errno));
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

Status write_all(int fd, std::string_view content, const std::filesystem::path& path) {
  while (!content.empty()) {
    ssize_t written = ::write(fd, content.data(), content.size());
    if (written < 0 && errno == EINTR) continue;
    if (written < 0) return fail(ErrorCode::io, "write {}: {}", path.string(), errno_text(errno));
    content.remove_prefix(static_cast<size_t>(written));
  }
  return ok();
}

Status write_file_atomic(const std::filesystem::path& path, std::string_view content,
                         unsigned mode) {
  auto temp = path;
  temp += fmt::format(".tmp.{}", ::getpid());
  {
    UniqueFd fd(::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode));
    if (!fd) return fail(ErrorCode::io, "create {}: {}", temp.string(), errno_text(errno));
    TRY(write_all(fd.get(), content, temp));
    if (::fsync(fd.get()) != 0)
      return fail(ErrorCode::io, "fsync {}: {}", temp.string(), errno_text(errno));
  }
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    int saved = errno;
    ::unlink(temp.c_str());
    return fail(ErrorCode::io, "rename {}: {}", path.string(), errno_text(saved));
  }
  return fsync_path(path.parent_path().empty() ? "." : path.parent_path(), O_RDONLY | O_DIRECTORY);
}

Status ensure_directory(const std::filesystem::path& path, unsigned mode) {
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  if (ec) return fail(ErrorCode::io, "create directory {}: {}", path.string(), ec.message());
  ::chmod(path.c_str(), mode);
  return ok();
}

Status remove_file_durable(const std::filesystem::path& path) {
  if (::unlink(path.c_str()) != 0) {
    if (errno == ENOENT) return ok();
    return fail(ErrorCode::io, "remove {}: {}", path.string(), errno_text(errno));
  }
  return fsync_path(path.parent_path().empty() ? "." : path.parent_path(), O_RDONLY | O_DIRECTORY);
}

Result<FileLock> FileLock::acquire(const std::filesystem::path& path, bool wait) {
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (!fd) return fail(ErrorCode::io, "open lock {}: {}", path.string(), errno_text(errno));
  int rc;
  do {
    rc = ::flock(fd.get(), LOCK_EX | (wait ? 0 : LOCK_NB));
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) {
    if (errno == EWOULDBLOCK)
      return fail(ErrorCode::conflict, "another op-dbus operation holds {}", path.string());
    return fail(ErrorCode::io, "lock {}: {}", path.string(), errno_text(errno));
  }
  return FileLock(std::move(fd));
}

}  // namespace opdbus
