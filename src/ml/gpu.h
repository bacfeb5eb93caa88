// The CUDA backend: the encoder's forward pass on the device (cuBLAS products, strided-batched
// over the attention heads, and small kernels for embedding, LayerNorm, GELU, softmax and
// pooling) and the products of exact similarity search (cuBLAS sgemm over a device copy of the
// stored vectors). Built only when CMake finds nvcc (gpu_cuda.cpp, and gpu_kernels.cu, the one
// file nvcc compiles); without it gpu_none.cpp reports every entry point unavailable, so the
// rest of op-dbus builds and runs everywhere.
// Invariants: no CUDA type appears here; device memory and the cuBLAS handle are owned by RAII
// objects; an object is used by one thread at a time; results equal the CPU path's within float
// rounding (tests/unit/encoder_test.cpp, skipped where there is no device).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "base/result.h"
#include "ml/encoder_weights.h"

namespace opdbus::ml::gpu {

// The device op-dbus would use ("NVIDIA H100 80GB HBM3, compute 9.0, 79.1 GiB"), or why there
// is none (built without CUDA, no device, driver error) as ErrorCode::unavailable.
Result<std::string> device();

class Encoder {
 public:
  static Result<std::unique_ptr<Encoder>> create(const EncoderShape& shape,
                                                 const EncoderWeights& weights, size_t max_tokens);
  ~Encoder();
  // Adds the sum over the window's tokens (at most max_tokens, ids already in range) of the
  // final hidden states to `pooled` (shape.hidden floats, host memory).
  Status add_window(std::span<const int32_t> ids, float* pooled);

 private:
  struct State;
  explicit Encoder(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

class Similarity {
 public:
  static Result<std::unique_ptr<Similarity>> create(size_t dimensions);
  ~Similarity();
  // Appends `count` rows to the device copy of the stored vectors.
  Status add(const float* rows, size_t count);
  size_t size() const;
  // out (host, count x rows, row-major) = queries (host, count x dimensions) times stored rows
  // [first, first + rows) transposed.
  Status products(const float* queries, size_t count, size_t first, size_t rows, float* out);

 private:
  struct State;
  explicit Similarity(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace opdbus::ml::gpu
