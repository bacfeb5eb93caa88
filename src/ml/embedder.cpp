// Embedder selection and the text rendering of documents; see embedder.h.
#include "ml/embedder.h"

#include <xxhash.h>

#include <fstream>

#include "ml/encoder.h"

namespace opdbus::ml {
namespace {

void render(const Json& node, std::string& path, std::string& out) {
  auto nested = [&](const std::string& name, const Json& child) {
    auto length = path.size();
    if (!path.empty()) path += ' ';
    path += name;
    render(child, path, out);
    path.resize(length);
  };
  if (node.is_object()) {
    for (const auto& item : node.items()) nested(item.key(), item.value());
  } else if (node.is_array()) {
    for (size_t i = 0; i < node.size(); ++i)
      nested(identity_of(node[i]).value_or(std::to_string(i)), node[i]);
  } else {
    out += path;
    out += ": ";
    out += node.is_string() ? node.get<std::string>() : node.dump();
    out += '\n';
  }
}

// Identifies a model by what decides its vectors: the safetensors header (names, shapes, byte
// ranges), the file's size and the vocabulary.
Result<std::string> model_name(const EncoderFiles& files) {
  struct StateFree {
    void operator()(XXH3_state_t* state) const { XXH3_freeState(state); }
  };
  std::unique_ptr<XXH3_state_t, StateFree> owned(XXH3_createState());
  if (!owned) return fail(ErrorCode::internal, "out of memory hashing the model");
  auto* state = owned.get();
  XXH3_64bits_reset(state);
  auto add_file = [&](const std::filesystem::path& path, size_t limit) {
    std::ifstream in(path, std::ios::binary);
    std::string data(limit, '\0');
    in.read(data.data(), static_cast<std::streamsize>(limit));
    XXH3_64bits_update(state, data.data(), static_cast<size_t>(in.gcount()));
  };
  std::error_code error;
  auto size = std::filesystem::file_size(files.weights, error);
  XXH3_64bits_update(state, &size, sizeof size);
  add_file(files.weights, 1 << 20);
  add_file(files.vocab, 16 << 20);
  return fmt::format("transformer-{:016x}", XXH3_64bits_digest(state));
}

}  // namespace

Result<EmbedderConfig> parse_embedder_config(const Json& json, const std::string& where) {
  EmbedderConfig config;
  if (json == "structural") return config;
  if (!json.is_object() || !json.contains("model"))
    return fail(ErrorCode::invalid_input,
                "{} must be \"structural\" or {{\"model\": PATH, \"vocab\": PATH, ...}}", where);
  for (const auto& item : json.items()) {
    const auto& key = item.key();
    if (key == "max_tokens") {
      if (!item.value().is_number_integer() || item.value().get<int64_t>() < 3)
        return fail(ErrorCode::invalid_input, "{}.max_tokens must be a count of at least 3", where);
      config.max_tokens = item.value().get<size_t>();
    } else if (key == "device") {
      auto device = item.value().is_string() ? item.value().get<std::string>() : "";
      if (device != "auto" && device != "cpu" && device != "cuda")
        return fail(ErrorCode::invalid_input, "{}.device must be \"auto\", \"cpu\" or \"cuda\"",
                    where);
      config.backend = device == "cpu"    ? Backend::cpu
                       : device == "cuda" ? Backend::cuda
                                          : Backend::automatic;
    } else if (key == "model" || key == "vocab" || key == "config") {
      if (!item.value().is_string() || item.value().get<std::string>().empty())
        return fail(ErrorCode::invalid_input, "{}.{} must be a path", where, key);
      (key == "model"   ? config.model
       : key == "vocab" ? config.vocab
                        : config.config) = item.value().get<std::string>();
    } else {
      return fail(ErrorCode::invalid_input, "{}: unknown key '{}'", where, key);
    }
  }
  return config;
}

std::string render_text(const Json& document) {
  std::string path, out;
  render(document, path, out);
  return out;
}

Embedder::Embedder(std::string name, std::unique_ptr<SentenceEncoder> encoder)
    : name_(std::move(name)), encoder_(std::move(encoder)) {}

Embedder::~Embedder() = default;

Result<std::shared_ptr<Embedder>> Embedder::create(const EmbedderConfig& config) {
  if (config.model.empty()) return std::shared_ptr<Embedder>(new Embedder("structural", nullptr));
  EncoderFiles files{config.model,
                     config.vocab.empty() ? config.model.parent_path() / "vocab.txt" : config.vocab,
                     config.config};
  auto loaded = SentenceEncoder::load(files, config.max_tokens, config.backend);
  if (!loaded) {  // a model the configuration names but cannot be used is a configuration error
    auto error = std::move(loaded).error();
    error.code = ErrorCode::invalid_input;
    return make_failure(std::move(error).with_context("anomaly.embedder"));
  }
  auto encoder = std::move(*loaded);
  if (encoder->shape().hidden != static_cast<int>(kDimensions))
    return fail(ErrorCode::invalid_input,
                "{} embeds into {} dimensions; anomaly vectors have {} (all-MiniLM-L6-v2 and "
                "other 384-dimensional models fit)",
                config.model.string(), encoder->shape().hidden, kDimensions);
  auto name = TRY(model_name(files));
  return std::shared_ptr<Embedder>(new Embedder(std::move(name), std::move(encoder)));
}

Vector Embedder::embed(const Json& document) {
  if (!encoder_) return embed_structure(document);
  std::lock_guard lock(encoding_);
  auto values = encoder_->embed(render_text(document));
  Vector vector{};
  std::copy_n(values.begin(), std::min(values.size(), kDimensions), vector.begin());
  return vector;
}

std::string Embedder::store_directory() const {
  return encoder_ ? name_ : "";
}

}  // namespace opdbus::ml
