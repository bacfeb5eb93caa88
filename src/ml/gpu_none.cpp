// The CUDA backend's stand-in in builds without nvcc: nothing is available, and says why.
#include "ml/gpu.h"

namespace opdbus::ml::gpu {
namespace {

Error unavailable() {
  return {ErrorCode::unavailable,
          "op-dbus was built without CUDA (CMake found no nvcc); the CPU path is used",
          {}};
}

}  // namespace

struct Encoder::State {};
struct Similarity::State {};

Result<std::string> device() {
  return make_failure(unavailable());
}

Encoder::Encoder(std::unique_ptr<State> state) : state_(std::move(state)) {}
Encoder::~Encoder() = default;
Result<std::unique_ptr<Encoder>> Encoder::create(const EncoderShape&, const EncoderWeights&,
                                                 size_t) {
  return make_failure(unavailable());
}
Status Encoder::add_window(std::span<const int32_t>, float*) {
  return make_failure(unavailable());
}

Similarity::Similarity(std::unique_ptr<State> state) : state_(std::move(state)) {}
Similarity::~Similarity() = default;
Result<std::unique_ptr<Similarity>> Similarity::create(size_t) {
  return make_failure(unavailable());
}
Status Similarity::add(const float*, size_t) {
  return make_failure(unavailable());
}
size_t Similarity::size() const {
  return 0;
}
Status Similarity::products(const float*, size_t, size_t, size_t, float*) {
  return make_failure(unavailable());
}

}  // namespace opdbus::ml::gpu
