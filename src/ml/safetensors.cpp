// safetensors reading; see safetensors.h.
#include "ml/safetensors.h"

#include <bit>
#include <cstring>

namespace opdbus::ml {
namespace {

constexpr uint64_t kMaxHeaderBytes = 100 << 20;

float from_half(uint16_t half) {
  uint32_t sign = (half & 0x8000U) << 16;
  uint32_t exponent = (half >> 10) & 0x1FU;
  uint32_t mantissa = half & 0x3FFU;
  if (exponent == 0x1F) return std::bit_cast<float>(sign | 0x7F800000U | (mantissa << 13));
  if (exponent != 0)
    return std::bit_cast<float>(sign | ((exponent + 112) << 23) | (mantissa << 13));
  float magnitude = static_cast<float>(mantissa) * 0x1p-24F;  // subnormal or zero
  return sign != 0 ? -magnitude : magnitude;
}

size_t dtype_bytes(const std::string& dtype) {
  if (dtype == "F32") return 4;
  if (dtype == "F16" || dtype == "BF16") return 2;
  return 0;
}

void convert(const std::string& dtype, const char* data, size_t count, float* out) {
  if (dtype == "F32") return static_cast<void>(std::memcpy(out, data, count * sizeof(float)));
  for (size_t i = 0; i < count; ++i) {
    uint16_t raw = 0;
    std::memcpy(&raw, data + i * 2, 2);
    out[i] = dtype == "F16" ? from_half(raw) : std::bit_cast<float>(uint32_t{raw} << 16);
  }
}

std::string shape_text(const std::vector<int64_t>& shape) {
  return Json(shape).dump();
}

}  // namespace

Result<SafeTensors> SafeTensors::open(const std::filesystem::path& file) {
  auto mapped = MappedFile::open(file);
  if (!mapped) return make_failure(std::move(mapped).error());
  auto bytes = mapped->view();
  uint64_t header_size = 0;
  if (bytes.size() >= 8) std::memcpy(&header_size, bytes.data(), 8);
  if (bytes.size() < 8 || header_size > kMaxHeaderBytes || header_size > bytes.size() - 8)
    return fail(ErrorCode::invalid_input, "{}: not a safetensors file (bad header length)",
                file.string());
  auto header = Json::parse(bytes.substr(8, header_size), nullptr, false);
  if (!header.is_object())
    return fail(ErrorCode::invalid_input, "{}: the safetensors header is not a JSON object",
                file.string());
  header.erase("__metadata__");
  return SafeTensors(std::move(*mapped), std::move(header), 8 + header_size, file.string());
}

std::vector<int64_t> SafeTensors::shape(const std::string& name) const {
  if (!contains(name)) return {};
  const auto& shape = header_[name].value("shape", Json::array());
  return shape.is_array() && std::all_of(shape.begin(), shape.end(),
                                         [](const Json& d) { return d.is_number_unsigned(); })
             ? shape.get<std::vector<int64_t>>()
             : std::vector<int64_t>{};
}

std::vector<std::string> SafeTensors::names() const {
  std::vector<std::string> names;
  for (const auto& item : header_.items()) names.push_back(item.key());
  return names;
}

Result<Tensor> SafeTensors::read(const std::string& name) const {
  if (!contains(name)) return fail(ErrorCode::invalid_input, "{}: no tensor {}", path_, name);
  const auto& entry = header_[name];
  auto dtype = entry.value("dtype", std::string());
  auto range = entry.value("data_offsets", Json::array());
  Tensor tensor{shape(name), {}};
  size_t count = 1;
  for (auto dimension : tensor.shape) count *= static_cast<size_t>(dimension);
  size_t element = dtype_bytes(dtype);
  if (element == 0)
    return fail(ErrorCode::invalid_input, "{}: tensor {} has dtype {}; F32, F16 or BF16 expected",
                path_, name, dtype);
  auto data_size = file_.view().size() - data_start_;
  if (range.size() != 2 || !range[0].is_number_unsigned() || !range[1].is_number_unsigned() ||
      range[0].get<uint64_t>() > range[1].get<uint64_t>() || range[1].get<uint64_t>() > data_size ||
      range[1].get<uint64_t>() - range[0].get<uint64_t>() != count * element)
    return fail(ErrorCode::invalid_input, "{}: tensor {} has a bad byte range for shape {}", path_,
                name, shape_text(tensor.shape));
  tensor.values.resize(count);
  convert(dtype, file_.view().data() + data_start_ + range[0].get<size_t>(), count,
          tensor.values.data());
  return tensor;
}

Result<Tensor> SafeTensors::read(const std::string& name, const std::vector<int64_t>& shape) const {
  if (contains(name) && this->shape(name) != shape)
    return fail(ErrorCode::invalid_input, "{}: tensor {} has shape {}, {} expected", path_, name,
                shape_text(this->shape(name)), shape_text(shape));
  return read(name);
}

}  // namespace opdbus::ml
