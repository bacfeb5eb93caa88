// The CUDA kernels of the encoder's forward pass (see gpu.h), with plain launchers: this file
// alone goes through nvcc, and it includes nothing of op-dbus but gpu_kernels.h (fmt and the
// rest stay with the host compiler in gpu_cuda.cpp).
// Invariants: one block per row for the row reductions (LayerNorm, softmax), grid-stride loops
// elsewhere; every launcher returns the launch's error.
#include "ml/gpu_kernels.h"

namespace opdbus::ml::gpu::kernels {
namespace {

constexpr int kThreads = 256;

__device__ float block_reduce(float value, float* shared, bool maximum) {
  auto combine = [maximum](float a, float b) { return maximum ? fmaxf(a, b) : a + b; };
  for (int offset = 16; offset > 0; offset /= 2)
    value = combine(value, __shfl_down_sync(0xffffffffU, value, offset));
  int lane = threadIdx.x % 32;
  int warp = threadIdx.x / 32;
  if (lane == 0) shared[warp] = value;
  __syncthreads();
  if (warp == 0) {
    value = lane < static_cast<int>(blockDim.x / 32) ? shared[lane] : (maximum ? -INFINITY : 0.0F);
    for (int offset = 16; offset > 0; offset /= 2)
      value = combine(value, __shfl_down_sync(0xffffffffU, value, offset));
    if (lane == 0) shared[0] = value;
  }
  __syncthreads();
  float result = shared[0];
  __syncthreads();
  return result;
}

__global__ void embed_kernel(const int32_t* ids, const float* words, const float* positions,
                             const float* token_type, float* x, int hidden) {
  int t = blockIdx.x;
  const float* word = words + static_cast<size_t>(ids[t]) * hidden;
  for (int i = threadIdx.x; i < hidden; i += blockDim.x)
    x[t * hidden + i] = word[i] + positions[t * hidden + i] + token_type[i];
}

__global__ void layer_norm_kernel(float* x, int width, const float* gamma, const float* beta,
                                  float eps) {
  __shared__ float shared[32];
  float* row = x + static_cast<size_t>(blockIdx.x) * width;
  float sum = 0;
  for (int i = threadIdx.x; i < width; i += blockDim.x) sum += row[i];
  float mean = block_reduce(sum, shared, false) / width;
  float squares = 0;
  for (int i = threadIdx.x; i < width; i += blockDim.x)
    squares += (row[i] - mean) * (row[i] - mean);
  float inverse = rsqrtf(block_reduce(squares, shared, false) / width + eps);
  for (int i = threadIdx.x; i < width; i += blockDim.x)
    row[i] = (row[i] - mean) * inverse * gamma[i] + beta[i];
}

__global__ void softmax_kernel(float* x, int width) {
  __shared__ float shared[32];
  float* row = x + static_cast<size_t>(blockIdx.x) * width;
  float highest = -INFINITY;
  for (int i = threadIdx.x; i < width; i += blockDim.x) highest = fmaxf(highest, row[i]);
  highest = block_reduce(highest, shared, true);
  float sum = 0;
  for (int i = threadIdx.x; i < width; i += blockDim.x) {
    row[i] = expf(row[i] - highest);
    sum += row[i];
  }
  float inverse = 1.0F / block_reduce(sum, shared, false);
  for (int i = threadIdx.x; i < width; i += blockDim.x) row[i] *= inverse;
}

__global__ void gelu_kernel(float* x, size_t count) {
  for (size_t i = blockIdx.x * blockDim.x + threadIdx.x; i < count; i += gridDim.x * blockDim.x)
    x[i] = 0.5F * x[i] * (1.0F + erff(x[i] * 0.70710678F));
}

__global__ void broadcast_row_kernel(float* out, const float* row, size_t count, int width,
                                     bool accumulate) {
  for (size_t i = blockIdx.x * blockDim.x + threadIdx.x; i < count; i += gridDim.x * blockDim.x)
    out[i] = (accumulate ? out[i] : 0.0F) + row[i % width];
}

__global__ void column_sums_kernel(const float* x, int rows, int width, float* out) {
  for (int c = blockIdx.x * blockDim.x + threadIdx.x; c < width; c += gridDim.x * blockDim.x) {
    float sum = 0;
    for (int r = 0; r < rows; ++r) sum += x[static_cast<size_t>(r) * width + c];
    out[c] = sum;
  }
}

int blocks_for(size_t count) {
  return static_cast<int>(std::min<size_t>((count + kThreads - 1) / kThreads, 4096));
}

}  // namespace

cudaError_t embed(const int32_t* ids, int length, const float* words, const float* positions,
                  const float* token_type, float* x, int hidden) {
  embed_kernel<<<length, kThreads>>>(ids, words, positions, token_type, x, hidden);
  return cudaGetLastError();
}

cudaError_t layer_norm(float* x, int rows, int width, const float* gamma, const float* beta,
                       float eps) {
  layer_norm_kernel<<<rows, kThreads>>>(x, width, gamma, beta, eps);
  return cudaGetLastError();
}

cudaError_t softmax_rows(float* x, int rows, int width) {
  softmax_kernel<<<rows, kThreads>>>(x, width);
  return cudaGetLastError();
}

cudaError_t gelu(float* x, size_t count) {
  gelu_kernel<<<blocks_for(count), kThreads>>>(x, count);
  return cudaGetLastError();
}

cudaError_t broadcast_row(float* out, const float* row, size_t count, int width, bool accumulate) {
  broadcast_row_kernel<<<blocks_for(count), kThreads>>>(out, row, count, width, accumulate);
  return cudaGetLastError();
}

cudaError_t column_sums(const float* x, int rows, int width, float* out) {
  column_sums_kernel<<<blocks_for(static_cast<size_t>(width)), kThreads>>>(x, rows, width, out);
  return cudaGetLastError();
}

}  // namespace opdbus::ml::gpu::kernels
