// CPU kernels of the encoder; see kernels.h. Reductions are vectorised with OpenMP simd
// pragmas (-fopenmp-simd: no OpenMP runtime). exp: 2^n * e^r with n = round(x log2 e) and a
// degree-6 polynomial for e^r on |r| <= ln2/2; erf: Abramowitz and Stegun 7.1.26.
#include "ml/kernels.h"

#include <immintrin.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>

#define OPDBUS_VECTOR_CLONES __attribute__((target_clones("avx2", "default")))

namespace opdbus::ml::kernels {
namespace {

inline float clamp(float x, float low, float high) {  // minps/maxps, unlike std::fmin
  x = x < low ? low : x;
  return x > high ? high : x;
}

inline float exp_approx(float x) {
  x = clamp(x, -87.0F, 88.0F);
  constexpr float kRound = 12582912.0F;  // 1.5 * 2^23: adding it rounds to an integer
  float n = (x * 1.44269504F + kRound) - kRound;
  float r = x - n * 0.693145751953125F - n * 1.428606765330187e-06F;
  float p = 1.0F / 720;
  p = p * r + 1.0F / 120;
  p = p * r + 1.0F / 24;
  p = p * r + 1.0F / 6;
  p = p * r + 0.5F;
  p = p * r + 1.0F;
  p = p * r + 1.0F;
  auto scale = std::bit_cast<float>(static_cast<uint32_t>(static_cast<int32_t>(n) + 127) << 23);
  return p * scale;
}

inline float erf_approx(float x) {
  float a = std::fabs(x);
  float t = 1.0F / (1.0F + 0.3275911F * a);
  float p = 1.061405429F;
  p = p * t - 1.453152027F;
  p = p * t + 1.421413741F;
  p = p * t - 0.284496736F;
  p = p * t + 0.254829592F;
  float y = 1.0F - p * t * exp_approx(-a * a);
  return std::copysign(y, x);
}

}  // namespace

OPDBUS_VECTOR_CLONES
void layer_norm(float* x, size_t rows, size_t width, const float* gamma, const float* beta,
                float eps) {
  for (size_t r = 0; r < rows; ++r, x += width) {
    float sum = 0;
#pragma omp simd reduction(+ : sum)
    for (size_t i = 0; i < width; ++i) sum += x[i];
    float mean = sum / static_cast<float>(width);
    float squares = 0;
#pragma omp simd reduction(+ : squares)
    for (size_t i = 0; i < width; ++i) squares += (x[i] - mean) * (x[i] - mean);
    float inverse = 1.0F / std::sqrt(squares / static_cast<float>(width) + eps);
    for (size_t i = 0; i < width; ++i) x[i] = (x[i] - mean) * inverse * gamma[i] + beta[i];
  }
}

OPDBUS_VECTOR_CLONES
void gelu(float* x, size_t count) {
  for (size_t i = 0; i < count; ++i) x[i] = 0.5F * x[i] * (1.0F + erf_approx(x[i] * 0.70710678F));
}

OPDBUS_VECTOR_CLONES
void softmax_rows(float* x, size_t rows, size_t width) {
  for (size_t r = 0; r < rows; ++r, x += width) {
    float highest = x[0];
    for (size_t i = 1; i < width; ++i) highest = x[i] > highest ? x[i] : highest;
    float sum = 0;
#pragma omp simd reduction(+ : sum)
    for (size_t i = 0; i < width; ++i) {
      x[i] = exp_approx(x[i] - highest);
      sum += x[i];
    }
    float inverse = 1.0F / sum;
    for (size_t i = 0; i < width; ++i) x[i] *= inverse;
  }
}

void broadcast_row(float* out, const float* row, size_t rows, size_t width) {
  for (size_t r = 0; r < rows; ++r) std::memcpy(out + r * width, row, width * sizeof(float));
}

OPDBUS_VECTOR_CLONES
void add_row(float* out, const float* row, size_t rows, size_t width) {
  for (size_t r = 0; r < rows; ++r, out += width)
    for (size_t i = 0; i < width; ++i) out[i] += row[i];
}

void normalize(float* x, size_t count) {
  double squares = 0;
  for (size_t i = 0; i < count; ++i) squares += static_cast<double>(x[i]) * x[i];
  if (squares == 0) return;
  auto inverse = static_cast<float>(1.0 / std::sqrt(squares));
  for (size_t i = 0; i < count; ++i) x[i] *= inverse;
}

namespace {

// `Rows` rows of out (one panel of 32 columns, two registers per row) += x rows * the panel:
// for each k one load of the panel's row serves 2 * Rows fused multiply-adds.
template <int Rows>
__attribute__((target("avx512f"))) void multiply_panel(const float* x, size_t k, const float* panel,
                                                       float* out, size_t n) {
  __m512 sums[Rows][2];
  for (int r = 0; r < Rows; ++r) {
    sums[r][0] = _mm512_loadu_ps(out + r * n);
    sums[r][1] = _mm512_loadu_ps(out + r * n + 16);
  }
  for (size_t i = 0; i < k; ++i) {
    __m512 low = _mm512_loadu_ps(panel + i * kPanelWidth);
    __m512 high = _mm512_loadu_ps(panel + i * kPanelWidth + 16);
    for (int r = 0; r < Rows; ++r) {
      __m512 value = _mm512_set1_ps(x[r * k + i]);
      sums[r][0] = _mm512_fmadd_ps(value, low, sums[r][0]);
      sums[r][1] = _mm512_fmadd_ps(value, high, sums[r][1]);
    }
  }
  for (int r = 0; r < Rows; ++r) {
    _mm512_storeu_ps(out + r * n, sums[r][0]);
    _mm512_storeu_ps(out + r * n + 16, sums[r][1]);
  }
}

}  // namespace

bool packed_products_supported() {
  return __builtin_cpu_supports("avx512f") != 0;
}

std::vector<float> pack_panels(const std::vector<float>& weight, size_t n, size_t k) {
  std::vector<float> packed(n * k);
  for (size_t panel = 0; panel < n / kPanelWidth; ++panel)
    for (size_t i = 0; i < k; ++i)
      for (size_t j = 0; j < kPanelWidth; ++j)
        packed[(panel * k + i) * kPanelWidth + j] = weight[(panel * kPanelWidth + j) * k + i];
  return packed;
}

__attribute__((target("avx512f"))) void multiply_packed(const float* x, size_t rows, size_t k,
                                                        const float* packed, size_t n, float* out) {
  for (size_t panel = 0; panel < n / kPanelWidth; ++panel) {
    const float* weights = packed + panel * k * kPanelWidth;
    float* columns = out + panel * kPanelWidth;
    size_t r = 0;
    for (; r + 8 <= rows; r += 8) multiply_panel<8>(x + r * k, k, weights, columns + r * n, n);
    for (; r + 4 <= rows; r += 4) multiply_panel<4>(x + r * k, k, weights, columns + r * n, n);
    for (; r < rows; ++r) multiply_panel<1>(x + r * k, k, weights, columns + r * n, n);
  }
}

}  // namespace opdbus::ml::kernels
