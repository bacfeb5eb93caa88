// MappedFile: a read-only memory map of a whole file, unmapped on destruction. Move-only.
// Invariant: an empty file maps to an empty view (no mapping is made).
#pragma once

#include <filesystem>
#include <string_view>

#include "base/result.h"

namespace opdbus {

class MappedFile {
 public:
  MappedFile() = default;
  static Result<MappedFile> open(const std::filesystem::path& path);
  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&& other) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile();
  std::string_view view() const { return {data_, size_}; }

 private:
  MappedFile(const char* data, size_t size) : data_(data), size_(size) {}
  const char* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace opdbus
