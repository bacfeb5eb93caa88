// Crash-safe file helpers: a file written with write_file_atomic is either the old or the new
// content after a crash, never a mix (write temp, fsync, rename, fsync directory).
#pragma once

#include <filesystem>
#include <string>

#include "base/result.h"
#include "base/unique_fd.h"

namespace opdbus {

Result<std::string> read_file(const std::filesystem::path& path);
// Writes all of `content` to `fd` (retrying short writes and EINTR); `what` names it in errors.
Status write_all(int fd, std::string_view content, const std::filesystem::path& what);
Status write_file_atomic(const std::filesystem::path& path, std::string_view content,
                         unsigned mode = 0644);
Status ensure_directory(const std::filesystem::path& path, unsigned mode = 0755);
// op-dbus's state directory: root's, listable by root only, traversable by everyone so that
// unprivileged users reach the refusal spool (engine/access.h) inside it.
inline constexpr unsigned kStateDirectoryMode = 0711;
// Removes a file and makes the removal durable; a missing file is not an error.
Status remove_file_durable(const std::filesystem::path& path);

// An exclusive advisory lock on a file, held until destruction.
class FileLock {
 public:
  static Result<FileLock> acquire(const std::filesystem::path& path, bool wait);

 private:
  explicit FileLock(UniqueFd fd) : fd_(std::move(fd)) {}
  UniqueFd fd_;
};

std::string errno_text(int error_number);

}  // namespace opdbus
