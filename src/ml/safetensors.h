// Reads tensors from a safetensors file (8-byte little-endian header length, a JSON header
// naming each tensor's dtype, shape and byte range, then the data), converted to float32.
// Invariants: the header is checked before any data is read (size limit, ranges inside the file,
// sizes matching shape x dtype); F32, F16 and BF16 are accepted; a missing tensor or a shape
// other than the expected one is an error naming the tensor.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "base/json_util.h"
#include "base/mapped_file.h"
#include "base/result.h"

namespace opdbus::ml {

struct Tensor {
  std::vector<int64_t> shape;
  std::vector<float> values;
};

class SafeTensors {
 public:
  static Result<SafeTensors> open(const std::filesystem::path& file);
  bool contains(const std::string& name) const { return header_.contains(name); }
  std::vector<int64_t> shape(const std::string& name) const;
  Result<Tensor> read(const std::string& name) const;
  // Reads a tensor that must have exactly `shape`.
  Result<Tensor> read(const std::string& name, const std::vector<int64_t>& shape) const;
  std::vector<std::string> names() const;

 private:
  SafeTensors(MappedFile file, Json header, size_t data_start, std::string path)
      : file_(std::move(file)),
        header_(std::move(header)),
        data_start_(data_start),
        path_(std::move(path)) {}
  MappedFile file_;
  Json header_;
  size_t data_start_ = 0;
  std::string path_;
};

}  // namespace opdbus::ml
