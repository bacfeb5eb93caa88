// Element-wise kernels of the encoder's forward pass on the CPU, written so the compiler
// vectorises them (branch-free polynomial exp and erf; built for AVX2+FMA and a baseline, picked
// at load time).
// Invariants: rows are contiguous and row-major; results are within 2e-7 relative (exp) and
// 1.5e-7 absolute (erf) of the exact functions, far below what float matrix products add.
#pragma once

#include <cstddef>

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

}  // namespace opdbus::ml::kernels
