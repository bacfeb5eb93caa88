// The sentence-transformer encoder: a BERT forward pass on OpenBLAS (token, position and type
// embeddings; N layers of multi-head self-attention and a GELU feed-forward block, each with a
// residual connection and LayerNorm), mean pooling over the tokens and L2 normalisation, as
// sentence-transformers' all-MiniLM-L6-v2 (6 layers, hidden 384, 12 heads) computes it.
// Weights come from a Hugging Face safetensors file (names "embeddings.*", "encoder.layer.N.*",
// optionally prefixed "bert."), the vocabulary from vocab.txt and the shape from config.json
// (hidden_size, num_hidden_layers, num_attention_heads, intermediate_size, layer_norm_eps);
// without config.json the shape is read off the tensors with 12 heads.
// Invariants: text longer than one window (max_tokens with [CLS] and [SEP]) is embedded in
// consecutive windows whose token embeddings are all pooled together: nothing is truncated.
// Q, K and V are one fused matrix, biases and residuals enter the products as their initial
// value, and the buffers are reused between calls, so an encoder is used by one thread at a time.
#pragma once

#include <filesystem>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "ml/encoder_weights.h"
#include "ml/wordpiece.h"

namespace opdbus::ml {

namespace gpu {
class Encoder;
}

struct EncoderFiles {
  std::filesystem::path weights;  // model.safetensors
  std::filesystem::path vocab;    // vocab.txt
  std::filesystem::path config;   // config.json; empty: the weights' directory's, if any
};

// Where the forward pass runs: automatic takes a CUDA device when there is one (ml/gpu.h).
enum class Backend { automatic, cpu, cuda };

class SentenceEncoder {
 public:
  static constexpr size_t kDefaultMaxTokens = 256;

  static Result<std::unique_ptr<SentenceEncoder>> load(const EncoderFiles& files,
                                                       size_t max_tokens = kDefaultMaxTokens,
                                                       Backend backend = Backend::automatic);
  ~SentenceEncoder();

  const EncoderShape& shape() const { return shape_; }
  const WordPiece& vocabulary() const { return vocabulary_; }
  size_t max_tokens() const { return max_tokens_; }
  // "cpu" or "cuda (DEVICE)": where windows are encoded now (a device error falls back to cpu).
  std::string backend() const;

  // One window of ids, [CLS] and [SEP] included (at most max_tokens): its unit embedding.
  std::vector<float> embed_ids(std::span<const int32_t> ids);
  // The windows of a text: its ids in runs of at most max_tokens - 2, each within [CLS] ... [SEP].
  std::vector<std::vector<int32_t>> windows(std::string_view text) const;
  // Any text: tokenized, split into windows, pooled over all of its tokens, unit length.
  std::vector<float> embed(std::string_view text);

 private:
  struct Buffers;
  SentenceEncoder(EncoderShape shape, WordPiece vocabulary, size_t max_tokens);
  // Adds the sum of the final hidden states of `ids` (1 to max_tokens ids, all within the
  // vocabulary: embed_ids and windows() see to it) to `pooled`.
  void encode_window(std::span<const int32_t> ids, std::vector<float>& pooled);
  void embed_tokens(std::span<const int32_t> ids);
  Status use_device(bool required);
  void run_layer(size_t layer, size_t length);
  void attend(size_t length);

  EncoderShape shape_;
  WordPiece vocabulary_;
  size_t max_tokens_;
  std::unique_ptr<EncoderWeights> weights_;
  std::unique_ptr<gpu::Encoder> device_;
  std::string device_name_;
  std::unique_ptr<Buffers> buffers_;
};

}  // namespace opdbus::ml
