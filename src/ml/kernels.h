// Kernels of the encoder's forward pass on the CPU: element-wise ones written so the compiler
// vectorises them (branch-free polynomial exp and erf; built for AVX2 and a baseline, picked at
// load time), and, on CPUs with AVX-512, products with weights packed once at load (OpenBLAS
// packs its operands again on every call, which is most of the time of a short input).
// Invariants: rows are contiguous and row-major; results are within 2e-7 relative (exp) and
// 1.5e-7 absolute (erf) of the exact functions, far below what float matrix products add.
#pragma once

#include <cstddef>
#include <vector>

namespace opdbus::ml::kernels {

// x[r] = (x[r] - mean) / sqrt(var + eps) * gamma + beta, for each of `rows` rows of `width`.
void layer_norm(float* x, size_t rows, size_t width, const float* gamma, const float* beta,
                float eps);
// x = x * Phi(x), the exact (erf) GELU.
void gelu(float* x, size_t count);
// Each row becomes softmax(row).
void softmax_rows(float* x, size_t rows, size_t width);
// Each of `rows` rows of `out` becomes `row` (a bias before a product accumulates onto it).
void broadcast_row(float* out, const float* row, size_t rows, size_t width);
// Each row of `out` gets `row` added.
void add_row(float* out, const float* row, size_t rows, size_t width);
// Scales x to unit length (a zero vector stays zero).
void normalize(float* x, size_t count);

inline constexpr size_t kPanelWidth = 32;
// Whether multiply_packed can run here (AVX-512F).
bool packed_products_supported();
// W[n, k] (row-major) as panels of kPanelWidth output columns: [n / kPanelWidth][k][kPanelWidth].
// n must be a multiple of kPanelWidth.
std::vector<float> pack_panels(const std::vector<float>& weight, size_t n, size_t k);
// out[rows, n] += x[rows, k] * W^T, with W packed by pack_panels.
void multiply_packed(const float* x, size_t rows, size_t k, const float* packed, size_t n,
                     float* out);

}  // namespace opdbus::ml::kernels
