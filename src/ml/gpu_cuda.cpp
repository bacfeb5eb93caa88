// The CUDA backend's host side (cuBLAS, device memory, errors); see gpu.h. The kernels are in
// gpu_kernels.cu, the one file nvcc compiles. Row-major host layouts are handed to column-major
// cuBLAS as their transposes: out[rows, n] += a[rows, k] * w[n, k]^T is sgemm(T, N, n, rows, k) on
// (w, a). Attention runs as two strided-batched products over the heads (a head's Q, K and V are
// columns h*d.. of the fused [length, 3 hidden] matrix) with a row softmax in between.
#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <dlfcn.h>
#include <fmt/format.h>

#include <algorithm>

#include <cmath>
#include <utility>
#include <vector>

#include "ml/gpu.h"
#include "ml/gpu_kernels.h"

namespace opdbus::ml::gpu {
namespace {

Status check(cudaError_t code, const char* what) {
  if (code == cudaSuccess) return ok();
  return fail(ErrorCode::unavailable, "CUDA {}: {}", what, cudaGetErrorString(code));
}

// cuBLAS is opened when a device is first used, not linked: linked, it cost every op-dbus
// command 70 ms and 200 MB at start. The library stays open until the process exits.
struct Cublas {
  decltype(&cublasCreate_v2) create = nullptr;
  decltype(&cublasDestroy_v2) destroy = nullptr;
  decltype(&cublasSgemm_v2) sgemm = nullptr;
  decltype(&cublasSgemmStridedBatched) sgemm_batched = nullptr;
  decltype(&cublasGetStatusString) status_string = nullptr;
};

struct LibraryCloser {
  void operator()(void* handle) const { dlclose(handle); }
};

template <typename Function>
Status bind(void* library, const char* name, Function& function) {
  function = reinterpret_cast<Function>(dlsym(library, name));
  if (function == nullptr) return fail(ErrorCode::unavailable, "cuBLAS has no {}", name);
  return ok();
}

Result<Cublas> open_cublas() {
  static std::unique_ptr<void, LibraryCloser> library;
  for (const char* name : {"libcublas.so." OPDBUS_CUBLAS_MAJOR, "libcublas.so"})
    if (!library) library.reset(dlopen(name, RTLD_NOW | RTLD_LOCAL));
  if (!library) return fail(ErrorCode::unavailable, "cannot open cuBLAS: {}", dlerror());
  Cublas cublas;
  TRY(bind(library.get(), "cublasCreate_v2", cublas.create));
  TRY(bind(library.get(), "cublasDestroy_v2", cublas.destroy));
  TRY(bind(library.get(), "cublasSgemm_v2", cublas.sgemm));
  TRY(bind(library.get(), "cublasSgemmStridedBatched", cublas.sgemm_batched));
  TRY(bind(library.get(), "cublasGetStatusString", cublas.status_string));
  return cublas;
}

Result<const Cublas*> cublas() {
  static const Result<Cublas> loaded = open_cublas();
  if (!loaded) return make_failure(loaded.error());
  return &*loaded;
}

Status check(cublasStatus_t code, const char* what) {
  if (code == CUBLAS_STATUS_SUCCESS) return ok();
  auto library = cublas();
  return fail(ErrorCode::unavailable, "cuBLAS {}: {}", what,
              library ? (*library)->status_string(code) : "error");
}

template <typename T>
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  static Result<DeviceBuffer> allocate(size_t count) {
    DeviceBuffer buffer;
    TRY(check(
        cudaMalloc(reinterpret_cast<void**>(&buffer.data_), std::max<size_t>(count, 1) * sizeof(T)),
        "cudaMalloc"));
    buffer.size_ = count;
    return buffer;
  }
  static Result<DeviceBuffer> upload(const std::vector<T>& host) {
    auto buffer = TRY(allocate(host.size()));
    TRY(check(
        cudaMemcpy(buffer.data_, host.data(), host.size() * sizeof(T), cudaMemcpyHostToDevice),
        "upload"));
    return buffer;
  }
  DeviceBuffer(DeviceBuffer&& other) noexcept
      : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}
  DeviceBuffer& operator=(DeviceBuffer&& other) noexcept {
    std::swap(data_, other.data_);
    std::swap(size_, other.size_);
    return *this;
  }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  ~DeviceBuffer() {
    if (data_ != nullptr) cudaFree(data_);
  }
  T* get() const { return data_; }
  size_t size() const { return size_; }

 private:
  T* data_ = nullptr;
  size_t size_ = 0;
};

class BlasHandle {
 public:
  static Result<BlasHandle> create() {
    BlasHandle handle;
    handle.library_ = TRY(cublas());
    TRY(check(handle.library_->create(&handle.handle_), "cublasCreate"));
    return handle;
  }
  BlasHandle() = default;
  BlasHandle(BlasHandle&& other) noexcept
      : library_(other.library_), handle_(std::exchange(other.handle_, nullptr)) {}
  BlasHandle& operator=(BlasHandle&& other) noexcept {
    std::swap(library_, other.library_);
    std::swap(handle_, other.handle_);
    return *this;
  }
  BlasHandle(const BlasHandle&) = delete;
  BlasHandle& operator=(const BlasHandle&) = delete;
  ~BlasHandle() {
    if (handle_ != nullptr) library_->destroy(handle_);
  }
  cublasHandle_t get() const { return handle_; }
  const Cublas& library() const { return *library_; }

 private:
  const Cublas* library_ = nullptr;
  cublasHandle_t handle_ = nullptr;
};

// out[rows, n] (row-major) = beta * out + a[rows, k] * w[n, k]^T
Status multiply_transposed(const BlasHandle& blas, const float* a, int rows, int k, const float* w,
                           int n, float* out, float beta) {
  const float one = 1.0F;
  return check(blas.library().sgemm(blas.get(), CUBLAS_OP_T, CUBLAS_OP_N, n, rows, k, &one, w, k, a,
                                    k, &beta, out, n),
               "sgemm");
}

struct DeviceLinear {
  DeviceBuffer<float> weight;
  DeviceBuffer<float> bias;
};

struct DeviceNorm {
  DeviceBuffer<float> gamma;
  DeviceBuffer<float> beta;
};

struct DeviceLayer {
  DeviceLinear qkv, attention_out, intermediate, output;
  DeviceNorm attention_norm, output_norm;
};

Result<DeviceLinear> upload(const EncoderWeights::Linear& linear) {
  return DeviceLinear{TRY(DeviceBuffer<float>::upload(linear.weight)),
                      TRY(DeviceBuffer<float>::upload(linear.bias))};
}

Result<DeviceNorm> upload(const EncoderWeights::Norm& norm) {
  return DeviceNorm{TRY(DeviceBuffer<float>::upload(norm.gamma)),
                    TRY(DeviceBuffer<float>::upload(norm.beta))};
}

}  // namespace

Result<std::string> device() {
  int count = 0;
  if (auto counted = check(cudaGetDeviceCount(&count), "cudaGetDeviceCount"); !counted)
    return make_failure(counted.error());
  if (count == 0) return fail(ErrorCode::unavailable, "CUDA: no device is visible");
  cudaDeviceProp properties{};
  TRY(check(cudaGetDeviceProperties(&properties, 0), "cudaGetDeviceProperties"));
  return fmt::format("{}, compute {}.{}, {:.1f} GiB", properties.name, properties.major,
                     properties.minor,
                     static_cast<double>(properties.totalGlobalMem) / (1024.0 * 1024 * 1024));
}

struct Encoder::State {
  EncoderShape shape;
  size_t max_tokens = 0;
  BlasHandle blas;
  DeviceBuffer<float> words, positions, token_type;
  DeviceNorm embedding_norm;
  std::vector<DeviceLayer> layers;
  DeviceBuffer<int32_t> ids;
  DeviceBuffer<float> hidden, qkv, scores, context, intermediate, pooled;

  Status allocate() {
    auto tokens = max_tokens;
    auto h = static_cast<size_t>(shape.hidden);
    ids = TRY(DeviceBuffer<int32_t>::allocate(tokens));
    hidden = TRY(DeviceBuffer<float>::allocate(tokens * h));
    qkv = TRY(DeviceBuffer<float>::allocate(tokens * 3 * h));
    scores = TRY(DeviceBuffer<float>::allocate(static_cast<size_t>(shape.heads) * tokens * tokens));
    context = TRY(DeviceBuffer<float>::allocate(tokens * h));
    intermediate =
        TRY(DeviceBuffer<float>::allocate(tokens * static_cast<size_t>(shape.intermediate)));
    pooled = TRY(DeviceBuffer<float>::allocate(h));
    return ok();
  }

  Status attend(int length) {
    int h = shape.hidden;
    int d = h / shape.heads;
    float scale = 1.0F / std::sqrt(static_cast<float>(d));
    const float zero = 0.0F;
    const float one = 1.0F;
    const float* query = qkv.get();
    const float* key = query + h;
    const float* value = key + h;
    long long square = static_cast<long long>(length) * length;
    TRY(check(blas.library().sgemm_batched(blas.get(), CUBLAS_OP_T, CUBLAS_OP_N, length, length, d,
                                           &scale, key, 3 * h, d, query, 3 * h, d, &zero,
                                           scores.get(), length, square, shape.heads),
              "attention scores"));
    TRY(check(kernels::softmax_rows(scores.get(), shape.heads * length, length), "softmax"));
    return check(blas.library().sgemm_batched(blas.get(), CUBLAS_OP_N, CUBLAS_OP_N, d, length,
                                              length, &one, value, 3 * h, d, scores.get(), length,
                                              square, &zero, context.get(), h, d, shape.heads),
                 "attention context");
  }

  Status run_layer(const DeviceLayer& layer, int length) {
    int h = shape.hidden;
    int inner = shape.intermediate;
    auto rows = static_cast<size_t>(length);
    auto cells = rows * static_cast<size_t>(h);
    auto inner_cells = rows * static_cast<size_t>(inner);
    TRY(check(kernels::broadcast_row(qkv.get(), layer.qkv.bias.get(), 3 * cells, 3 * h, false),
              "bias"));
    TRY(multiply_transposed(blas, hidden.get(), length, h, layer.qkv.weight.get(), 3 * h, qkv.get(),
                            1.0F));
    TRY(attend(length));
    TRY(check(kernels::broadcast_row(hidden.get(), layer.attention_out.bias.get(), cells, h, true),
              "bias"));
    TRY(multiply_transposed(blas, context.get(), length, h, layer.attention_out.weight.get(), h,
                            hidden.get(), 1.0F));
    TRY(check(kernels::layer_norm(hidden.get(), length, h, layer.attention_norm.gamma.get(),
                                  layer.attention_norm.beta.get(), shape.layer_norm_eps),
              "layer norm"));
    TRY(check(kernels::broadcast_row(intermediate.get(), layer.intermediate.bias.get(), inner_cells,
                                     inner, false),
              "bias"));
    TRY(multiply_transposed(blas, hidden.get(), length, h, layer.intermediate.weight.get(), inner,
                            intermediate.get(), 1.0F));
    TRY(check(kernels::gelu(intermediate.get(), inner_cells), "gelu"));
    TRY(check(kernels::broadcast_row(hidden.get(), layer.output.bias.get(), cells, h, true),
              "bias"));
    TRY(multiply_transposed(blas, intermediate.get(), length, inner, layer.output.weight.get(), h,
                            hidden.get(), 1.0F));
    return check(kernels::layer_norm(hidden.get(), length, h, layer.output_norm.gamma.get(),
                                     layer.output_norm.beta.get(), shape.layer_norm_eps),
                 "layer norm");
  }
};

Encoder::Encoder(std::unique_ptr<State> state) : state_(std::move(state)) {}
Encoder::~Encoder() = default;

Result<std::unique_ptr<Encoder>> Encoder::create(const EncoderShape& shape,
                                                 const EncoderWeights& weights, size_t max_tokens) {
  TRY(device());
  auto state = std::make_unique<State>();
  state->shape = shape;
  state->max_tokens = max_tokens;
  state->blas = TRY(BlasHandle::create());
  state->words = TRY(DeviceBuffer<float>::upload(weights.words));
  state->positions = TRY(DeviceBuffer<float>::upload(weights.positions));
  state->token_type = TRY(DeviceBuffer<float>::upload(weights.token_type));
  state->embedding_norm = TRY(upload(weights.embedding_norm));
  for (const auto& layer : weights.layers)
    state->layers.push_back({TRY(upload(layer.qkv)), TRY(upload(layer.attention_out)),
                             TRY(upload(layer.intermediate)), TRY(upload(layer.output)),
                             TRY(upload(layer.attention_norm)), TRY(upload(layer.output_norm))});
  TRY(state->allocate());
  return std::unique_ptr<Encoder>(new Encoder(std::move(state)));
}

Status Encoder::add_window(std::span<const int32_t> ids, float* pooled) {
  auto& s = *state_;
  if (ids.empty() || ids.size() > s.max_tokens)
    return fail(ErrorCode::internal, "a window of {} ids (1 to {} expected)", ids.size(),
                s.max_tokens);
  int length = static_cast<int>(ids.size());
  int h = s.shape.hidden;
  TRY(check(
      cudaMemcpy(s.ids.get(), ids.data(), ids.size() * sizeof(int32_t), cudaMemcpyHostToDevice),
      "ids"));
  TRY(check(kernels::embed(s.ids.get(), length, s.words.get(), s.positions.get(),
                           s.token_type.get(), s.hidden.get(), h),
            "embedding"));
  TRY(check(kernels::layer_norm(s.hidden.get(), length, h, s.embedding_norm.gamma.get(),
                                s.embedding_norm.beta.get(), s.shape.layer_norm_eps),
            "layer norm"));
  for (const auto& layer : s.layers) TRY(s.run_layer(layer, length));
  TRY(check(kernels::column_sums(s.hidden.get(), length, h, s.pooled.get()), "pooling"));
  std::vector<float> sums(static_cast<size_t>(h));
  TRY(check(
      cudaMemcpy(sums.data(), s.pooled.get(), sums.size() * sizeof(float), cudaMemcpyDeviceToHost),
      "pooled"));
  for (size_t i = 0; i < sums.size(); ++i) pooled[i] += sums[i];
  return ok();
}

struct Similarity::State {
  size_t dimensions = 0;
  size_t count = 0;
  BlasHandle blas;
  DeviceBuffer<float> rows, queries, out;
};

Similarity::Similarity(std::unique_ptr<State> state) : state_(std::move(state)) {}
Similarity::~Similarity() = default;

Result<std::unique_ptr<Similarity>> Similarity::create(size_t dimensions) {
  TRY(device());
  auto state = std::make_unique<State>();
  state->dimensions = dimensions;
  state->blas = TRY(BlasHandle::create());
  return std::unique_ptr<Similarity>(new Similarity(std::move(state)));
}

size_t Similarity::size() const {
  return state_->count;
}

Status Similarity::add(const float* rows, size_t count) {
  auto& s = *state_;
  size_t needed = (s.count + count) * s.dimensions;
  if (needed > s.rows.size()) {
    auto grown = TRY(DeviceBuffer<float>::allocate(std::max(needed, s.rows.size() * 2)));
    TRY(check(cudaMemcpy(grown.get(), s.rows.get(), s.count * s.dimensions * sizeof(float),
                         cudaMemcpyDeviceToDevice),
              "grow"));
    s.rows = std::move(grown);
  }
  TRY(check(cudaMemcpy(s.rows.get() + s.count * s.dimensions, rows,
                       count * s.dimensions * sizeof(float), cudaMemcpyHostToDevice),
            "add"));
  s.count += count;
  return ok();
}

Status Similarity::products(const float* queries, size_t count, size_t first, size_t rows,
                            float* out) {
  auto& s = *state_;
  if (first + rows > s.count)
    return fail(ErrorCode::internal, "rows {}..{} of {}", first, first + rows, s.count);
  if (s.queries.size() < count * s.dimensions)
    s.queries = TRY(DeviceBuffer<float>::allocate(count * s.dimensions));
  if (s.out.size() < count * rows) s.out = TRY(DeviceBuffer<float>::allocate(count * rows));
  TRY(check(cudaMemcpy(s.queries.get(), queries, count * s.dimensions * sizeof(float),
                       cudaMemcpyHostToDevice),
            "queries"));
  auto dims = static_cast<int>(s.dimensions);
  TRY(multiply_transposed(s.blas, s.queries.get(), static_cast<int>(count), dims,
                          s.rows.get() + first * s.dimensions, static_cast<int>(rows), s.out.get(),
                          0.0F));
  return check(cudaMemcpy(out, s.out.get(), count * rows * sizeof(float), cudaMemcpyDeviceToHost),
               "products");
}

}  // namespace opdbus::ml::gpu
