// The BERT encoder's forward pass; see encoder.h.
#include "ml/encoder.h"

#include <cblas.h>

#include <cmath>
#include <fstream>

#include "ml/gpu.h"
#include "ml/kernels.h"
#include "ml/safetensors.h"

namespace opdbus::ml {

struct SentenceEncoder::Buffers {
  std::vector<float> hidden;        // [length, hidden]
  std::vector<float> qkv;           // [length, 3 hidden]
  std::vector<float> scores;        // [length, length]
  std::vector<float> context;       // [length, hidden]
  std::vector<float> intermediate;  // [length, intermediate]
};

namespace {

// Reads the tensors of one model in the names Hugging Face's BertModel gives them.
class TensorReader {
 public:
  TensorReader(const SafeTensors& file, std::string prefix)
      : file_(file), prefix_(std::move(prefix)) {}

  Result<std::vector<float>> read(const std::string& name, std::vector<int64_t> shape) const {
    auto tensor = file_.read(prefix_ + name, shape);
    if (!tensor) return make_failure(std::move(tensor).error());
    return std::move(tensor->values);
  }

  Status linear(const std::string& name, int out, int in, std::vector<float>& weight,
                std::vector<float>& bias) const {
    weight = TRY(read(name + ".weight", {out, in}));
    bias = TRY(read(name + ".bias", {out}));
    return ok();
  }

  Status norm(const std::string& name, int width, std::vector<float>& gamma,
              std::vector<float>& beta) const {
    gamma = TRY(read(name + ".weight", {width}));
    beta = TRY(read(name + ".bias", {width}));
    return ok();
  }

 private:
  const SafeTensors& file_;
  std::string prefix_;
};

std::string tensor_prefix(const SafeTensors& file) {
  return file.contains("bert.embeddings.word_embeddings.weight") ? "bert." : "";
}

Result<EncoderShape> shape_from_tensors(const SafeTensors& file, const std::string& prefix) {
  EncoderShape shape;
  auto words = file.shape(prefix + "embeddings.word_embeddings.weight");
  auto positions = file.shape(prefix + "embeddings.position_embeddings.weight");
  auto intermediate = file.shape(prefix + "encoder.layer.0.intermediate.dense.weight");
  if (words.size() != 2 || positions.size() != 2 || intermediate.size() != 2)
    return fail(ErrorCode::invalid_input,
                "not a BERT model: embeddings.word_embeddings, embeddings.position_embeddings or "
                "encoder.layer.0.intermediate.dense is missing");
  shape.vocabulary = static_cast<int>(words[0]);
  shape.hidden = static_cast<int>(words[1]);
  shape.max_positions = static_cast<int>(positions[0]);
  shape.intermediate = static_cast<int>(intermediate[0]);
  while (file.contains(
      fmt::format("{}encoder.layer.{}.attention.self.query.weight", prefix, shape.layers)))
    ++shape.layers;
  return shape;
}

Status apply_config(const std::filesystem::path& file, EncoderShape& shape) {
  std::ifstream in(file);
  auto config = Json::parse(in, nullptr, false);
  if (!config.is_object())
    return fail(ErrorCode::invalid_input, "{}: not a JSON object", file.string());
  auto activation = config.value("hidden_act", std::string("gelu"));
  if (activation != "gelu")
    return fail(ErrorCode::invalid_input, "{}: hidden_act {} is not supported (gelu is)",
                file.string(), activation);
  shape.heads = config.value("num_attention_heads", shape.heads);
  shape.layer_norm_eps = config.value("layer_norm_eps", shape.layer_norm_eps);
  if (config.value("hidden_size", shape.hidden) != shape.hidden ||
      config.value("num_hidden_layers", shape.layers) != shape.layers ||
      config.value("intermediate_size", shape.intermediate) != shape.intermediate)
    return fail(ErrorCode::invalid_input, "{} does not describe the weights' shape", file.string());
  return ok();
}

Result<EncoderShape> read_shape(const SafeTensors& file, const std::string& prefix,
                                const EncoderFiles& files) {
  auto shape = TRY(shape_from_tensors(file, prefix));
  auto config = files.config.empty() ? files.weights.parent_path() / "config.json" : files.config;
  if (!files.config.empty() || std::filesystem::exists(config)) TRY(apply_config(config, shape));
  if (shape.layers == 0 || shape.heads <= 0 || shape.hidden % shape.heads != 0)
    return fail(ErrorCode::invalid_input, "{} layers of hidden size {} in {} heads is no model",
                shape.layers, shape.hidden, shape.heads);
  return shape;
}

Status read_layer(const TensorReader& reader, const EncoderShape& shape, int index, auto& layer) {
  auto name = fmt::format("encoder.layer.{}.", index);
  int hidden = shape.hidden;
  for (const char* part : {"query", "key", "value"}) {
    std::vector<float> weight, bias;
    TRY(reader.linear(name + "attention.self." + part, hidden, hidden, weight, bias));
    layer.qkv.weight.insert(layer.qkv.weight.end(), weight.begin(), weight.end());
    layer.qkv.bias.insert(layer.qkv.bias.end(), bias.begin(), bias.end());
  }
  TRY(reader.linear(name + "attention.output.dense", hidden, hidden, layer.attention_out.weight,
                    layer.attention_out.bias));
  TRY(reader.norm(name + "attention.output.LayerNorm", hidden, layer.attention_norm.gamma,
                  layer.attention_norm.beta));
  TRY(reader.linear(name + "intermediate.dense", shape.intermediate, hidden,
                    layer.intermediate.weight, layer.intermediate.bias));
  TRY(reader.linear(name + "output.dense", hidden, shape.intermediate, layer.output.weight,
                    layer.output.bias));
  return reader.norm(name + "output.LayerNorm", hidden, layer.output_norm.gamma,
                     layer.output_norm.beta);
}

// out[rows, n] += a[rows, k] * w[n, k]^T, with the packed weight when there is one.
void multiply_transposed(const float* a, size_t rows, size_t k,
                         const EncoderWeights::Linear& linear, size_t n, float* out) {
  if (!linear.packed.empty())
    return kernels::multiply_packed(a, rows, k, linear.packed.data(), n, out);
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(rows), static_cast<int>(n),
              static_cast<int>(k), 1.0F, a, static_cast<int>(k), linear.weight.data(),
              static_cast<int>(k), 1.0F, out, static_cast<int>(n));
}

// Packs every linear layer for kernels::multiply_packed where the CPU can run it (after the
// weights went to the device, if any); the unpacked copies are released.
void pack_for_cpu(EncoderWeights& weights, const EncoderShape& shape) {
  auto panels = [](int n) { return static_cast<size_t>(n) % kernels::kPanelWidth == 0; };
  if (!kernels::packed_products_supported() || !panels(shape.hidden) || !panels(shape.intermediate))
    return;
  auto pack = [](EncoderWeights::Linear& linear, int n, int k) {
    linear.packed =
        kernels::pack_panels(linear.weight, static_cast<size_t>(n), static_cast<size_t>(k));
    linear.weight = {};
  };
  for (auto& layer : weights.layers) {
    pack(layer.qkv, 3 * shape.hidden, shape.hidden);
    pack(layer.attention_out, shape.hidden, shape.hidden);
    pack(layer.intermediate, shape.intermediate, shape.hidden);
    pack(layer.output, shape.hidden, shape.intermediate);
  }
}

}  // namespace

SentenceEncoder::SentenceEncoder(EncoderShape shape, WordPiece vocabulary, size_t max_tokens)
    : shape_(shape),
      vocabulary_(std::move(vocabulary)),
      max_tokens_(max_tokens),
      weights_(std::make_unique<EncoderWeights>()),
      buffers_(std::make_unique<Buffers>()) {}

SentenceEncoder::~SentenceEncoder() = default;

Result<std::unique_ptr<SentenceEncoder>> SentenceEncoder::load(const EncoderFiles& files,
                                                               size_t max_tokens, Backend backend) {
  auto vocabulary = TRY(WordPiece::load(files.vocab));
  auto file = TRY(SafeTensors::open(files.weights));
  auto prefix = tensor_prefix(file);
  auto shape = read_shape(file, prefix, files);
  if (!shape) return make_failure(std::move(shape).error().with_context(files.weights.string()));
  if (static_cast<size_t>(shape->vocabulary) != vocabulary.size())
    return fail(ErrorCode::invalid_input, "{} has {} tokens but the model embeds {}",
                files.vocab.string(), vocabulary.size(), shape->vocabulary);
  if (max_tokens < 3 || max_tokens > static_cast<size_t>(shape->max_positions))
    return fail(ErrorCode::invalid_input, "max_tokens {} is outside 3..{} (the model's positions)",
                max_tokens, shape->max_positions);
  std::unique_ptr<SentenceEncoder> encoder(
      new SentenceEncoder(*shape, std::move(vocabulary), max_tokens));
  TensorReader reader(file, prefix);
  auto& weights = *encoder->weights_;
  int hidden = shape->hidden;
  weights.words =
      TRY(reader.read("embeddings.word_embeddings.weight", {shape->vocabulary, hidden}));
  weights.positions =
      TRY(reader.read("embeddings.position_embeddings.weight", {shape->max_positions, hidden}));
  auto types = file.shape(prefix + "embeddings.token_type_embeddings.weight");
  weights.token_type = TRY(reader.read("embeddings.token_type_embeddings.weight",
                                       {types.empty() ? 1 : types[0], hidden}));
  weights.token_type.resize(static_cast<size_t>(hidden));
  TRY(reader.norm("embeddings.LayerNorm", hidden, weights.embedding_norm.gamma,
                  weights.embedding_norm.beta));
  weights.layers.resize(static_cast<size_t>(shape->layers));
  for (int i = 0; i < shape->layers; ++i)
    TRY(read_layer(reader, *shape, i, weights.layers[static_cast<size_t>(i)]));
  if (backend != Backend::cpu) TRY(encoder->use_device(backend == Backend::cuda));
  pack_for_cpu(weights, *shape);
  return encoder;
}

Status SentenceEncoder::use_device(bool required) {
  auto name = gpu::device();
  auto device = name ? gpu::Encoder::create(shape_, *weights_, max_tokens_)
                     : Result<std::unique_ptr<gpu::Encoder>>(make_failure(name.error()));
  if (!device) {
    if (required) return make_failure(std::move(device).error().with_context("backend cuda"));
    return ok();
  }
  device_ = std::move(*device);
  device_name_ = *name;
  return ok();
}

std::string SentenceEncoder::backend() const {
  return device_ ? "cuda (" + device_name_ + ")" : "cpu";
}

std::vector<float> SentenceEncoder::embed_ids(std::span<const int32_t> ids) {
  // Ids from outside may be anything: those outside the vocabulary are [UNK], as in text.
  std::vector<int32_t> window(
      ids.begin(), ids.begin() + static_cast<std::ptrdiff_t>(std::min(ids.size(), max_tokens_)));
  for (auto& id : window)
    if (id < 0 || id >= shape_.vocabulary) id = vocabulary_.unknown();
  std::vector<float> pooled(static_cast<size_t>(shape_.hidden), 0.0F);
  if (!window.empty()) encode_window(window, pooled);
  kernels::normalize(pooled.data(), pooled.size());
  return pooled;
}

std::vector<std::vector<int32_t>> SentenceEncoder::windows(std::string_view text) const {
  auto ids = vocabulary_.encode(text);
  size_t per_window = max_tokens_ - 2;
  std::vector<std::vector<int32_t>> windows;
  for (size_t start = 0; start < ids.size() || start == 0; start += per_window) {
    auto& window = windows.emplace_back(std::vector<int32_t>{vocabulary_.cls()});
    auto end = std::min(ids.size(), start + per_window);
    window.insert(window.end(), ids.begin() + static_cast<std::ptrdiff_t>(start),
                  ids.begin() + static_cast<std::ptrdiff_t>(end));
    window.push_back(vocabulary_.sep());
  }
  return windows;
}

std::vector<float> SentenceEncoder::embed(std::string_view text) {
  std::vector<float> pooled(static_cast<size_t>(shape_.hidden), 0.0F);
  for (const auto& window : windows(text)) encode_window(window, pooled);
  kernels::normalize(pooled.data(), pooled.size());
  return pooled;
}

void SentenceEncoder::encode_window(std::span<const int32_t> ids, std::vector<float>& pooled) {
  if (device_) {
    if (device_->add_window(ids, pooled.data())) return;
    device_.reset();  // a device that failed once is not trusted again
  }
  embed_tokens(ids);
  for (size_t layer = 0; layer < weights_->layers.size(); ++layer) run_layer(layer, ids.size());
  auto hidden = static_cast<size_t>(shape_.hidden);
  for (size_t t = 0; t < ids.size(); ++t)
    for (size_t i = 0; i < hidden; ++i) pooled[i] += buffers_->hidden[t * hidden + i];
}

void SentenceEncoder::embed_tokens(std::span<const int32_t> ids) {
  auto hidden = static_cast<size_t>(shape_.hidden);
  auto& x = buffers_->hidden;
  x.resize(ids.size() * hidden);
  for (size_t t = 0; t < ids.size(); ++t) {
    auto id = static_cast<size_t>(ids[t]);
    const float* word = weights_->words.data() + id * hidden;
    const float* position = weights_->positions.data() + t * hidden;
    for (size_t i = 0; i < hidden; ++i)
      x[t * hidden + i] = word[i] + position[i] + weights_->token_type[i];
  }
  kernels::layer_norm(x.data(), ids.size(), hidden, weights_->embedding_norm.gamma.data(),
                      weights_->embedding_norm.beta.data(), shape_.layer_norm_eps);
}

void SentenceEncoder::run_layer(size_t index, size_t length) {
  const auto& layer = weights_->layers[index];
  auto hidden = static_cast<size_t>(shape_.hidden);
  auto inner = static_cast<size_t>(shape_.intermediate);
  auto& b = *buffers_;
  b.qkv.resize(length * 3 * hidden);
  kernels::broadcast_row(b.qkv.data(), layer.qkv.bias.data(), length, 3 * hidden);
  multiply_transposed(b.hidden.data(), length, hidden, layer.qkv, 3 * hidden, b.qkv.data());
  attend(length);
  kernels::add_row(b.hidden.data(), layer.attention_out.bias.data(), length, hidden);
  multiply_transposed(b.context.data(), length, hidden, layer.attention_out, hidden,
                      b.hidden.data());
  kernels::layer_norm(b.hidden.data(), length, hidden, layer.attention_norm.gamma.data(),
                      layer.attention_norm.beta.data(), shape_.layer_norm_eps);
  b.intermediate.resize(length * inner);
  kernels::broadcast_row(b.intermediate.data(), layer.intermediate.bias.data(), length, inner);
  multiply_transposed(b.hidden.data(), length, hidden, layer.intermediate, inner,
                      b.intermediate.data());
  kernels::gelu(b.intermediate.data(), b.intermediate.size());
  kernels::add_row(b.hidden.data(), layer.output.bias.data(), length, hidden);
  multiply_transposed(b.intermediate.data(), length, inner, layer.output, hidden, b.hidden.data());
  kernels::layer_norm(b.hidden.data(), length, hidden, layer.output_norm.gamma.data(),
                      layer.output_norm.beta.data(), shape_.layer_norm_eps);
}

void SentenceEncoder::attend(size_t length) {
  auto hidden = static_cast<size_t>(shape_.hidden);
  auto heads = static_cast<size_t>(shape_.heads);
  auto head_size = hidden / heads;
  auto& b = *buffers_;
  b.scores.resize(length * length);
  b.context.resize(length * hidden);
  auto n = static_cast<int>(length);
  auto d = static_cast<int>(head_size);
  auto stride = static_cast<int>(3 * hidden);
  float scale = 1.0F / std::sqrt(static_cast<float>(head_size));
  for (size_t head = 0; head < heads; ++head) {
    const float* query = b.qkv.data() + head * head_size;
    const float* key = query + hidden;
    const float* value = key + hidden;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, n, d, scale, query, stride, key, stride,
                0.0F, b.scores.data(), n);
    kernels::softmax_rows(b.scores.data(), length, length);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, d, n, 1.0F, b.scores.data(), n, value,
                stride, 0.0F, b.context.data() + head * head_size, static_cast<int>(hidden));
  }
}

}  // namespace opdbus::ml
