// The embedder the anomaly detector uses: the structural embedder (default, no model) or the
// sentence encoder over a text rendering of the document, one line per leaf
// ("interfaces br0 mtu: 1500"), array items named by their identity.
// Each embedder has a name that says which vectors are comparable: "structural", or
// "transformer-" and a hash of the model's header, size and vocabulary. The structural vectors
// live in the state dir's vectors/, a model's in vectors/NAME/, so changing the model starts a
// new baseline instead of comparing vectors of two models.
// Invariants: the model must embed into kDimensions (384) dimensions; embed() is serialised (the
// encoder's buffers are shared).
#pragma once

#include <filesystem>
#include <memory>
#include <mutex>
#include <string>

#include "base/json_util.h"
#include "base/result.h"
#include "ml/encoder.h"
#include "ml/structural.h"

namespace opdbus::ml {

struct EmbedderConfig {
  std::filesystem::path model;   // model.safetensors; empty: the structural embedder
  std::filesystem::path vocab;   // vocab.txt; empty: next to the model
  std::filesystem::path config;  // config.json; empty: next to the model, if there
  size_t max_tokens = 256;       // per window
  Backend backend = Backend::automatic;
  bool operator==(const EmbedderConfig&) const = default;
};

// `"structural"` or {"model": PATH, "vocab": PATH, "config": PATH, "max_tokens": N,
// "device": "auto" | "cpu" | "cuda"}.
Result<EmbedderConfig> parse_embedder_config(const Json& json, const std::string& where);

// The document as lines of "path words: value", sorted by path.
std::string render_text(const Json& document);

class Embedder {
 public:
  static Result<std::shared_ptr<Embedder>> create(const EmbedderConfig& config);
  ~Embedder();
  Vector embed(const Json& document);
  const std::string& name() const { return name_; }
  // Where this embedder's vectors live under vectors/ ("" for the structural embedder).
  std::string store_directory() const;

 private:
  Embedder(std::string name, std::unique_ptr<SentenceEncoder> encoder);
  std::string name_;
  std::unique_ptr<SentenceEncoder> encoder_;
  std::mutex encoding_;
};

}  // namespace opdbus::ml
