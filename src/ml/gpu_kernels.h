// Launchers of the CUDA kernels of the encoder's forward pass (gpu_kernels.cu), callable from
// host C++: device pointers in, the launch's error out. Rows are row-major and contiguous.
#pragma once

#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>

namespace opdbus::ml::gpu::kernels {

// x[t] = words[ids[t]] + positions[t] + token_type, for t < length.
cudaError_t embed(const int32_t* ids, int length, const float* words, const float* positions,
                  const float* token_type, float* x, int hidden);
cudaError_t layer_norm(float* x, int rows, int width, const float* gamma, const float* beta,
                       float eps);
cudaError_t softmax_rows(float* x, int rows, int width);
cudaError_t gelu(float* x, size_t count);  // exact (erf) GELU
// out[i] = (accumulate ? out[i] : 0) + row[i % width], for i < count.
cudaError_t broadcast_row(float* out, const float* row, size_t count, int width, bool accumulate);
// out[c] = sum over rows of x[r][c].
cudaError_t column_sums(const float* x, int rows, int width, float* out);

}  // namespace opdbus::ml::gpu::kernels
