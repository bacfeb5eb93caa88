// opdbus-encoder-check, a test tool: runs op-dbus's tokenizer and sentence encoder on texts from
// a JSON file so a test can compare them with independent implementations (npm bert-tokenizer,
// ONNX Runtime). Prints JSON on stdout; exit 1 with a message on any error.
//   tokenize VOCAB_TXT TEXTS.json             ids of each text (no [CLS]/[SEP])
//   windows MODEL_DIR TEXTS.json MAX_TOKENS   each text's windows of ids, as the encoder runs them
//   embed MODEL_DIR TEXTS.json MAX_TOKENS     each text's embedding
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>

#include "base/json_util.h"
#include "ml/encoder.h"

using namespace opdbus;

namespace {

Result<Json> read_texts(const std::string& file) {
  std::ifstream in(file);
  auto texts = Json::parse(in, nullptr, false);
  if (!texts.is_array()) return fail(ErrorCode::invalid_input, "{}: not a JSON array", file);
  return texts;
}

Result<Json> run(int argc, char** argv) {
  if (argc < 4) return fail(ErrorCode::invalid_input, "usage: see the top of encoder_check.cpp");
  std::string mode = argv[1];
  auto texts = TRY(read_texts(argv[3]));
  Json out = Json::array();
  if (mode == "tokenize") {
    auto vocabulary = TRY(ml::WordPiece::load(argv[2]));
    for (const auto& text : texts) out.push_back(vocabulary.encode(text.get<std::string>()));
    return out;
  }
  if (argc < 5) return fail(ErrorCode::invalid_input, "{} needs MAX_TOKENS", mode);
  std::filesystem::path model = argv[2];
  auto encoder = TRY(ml::SentenceEncoder::load(
      {model / "model.safetensors", model / "vocab.txt", {}}, std::stoul(argv[4])));
  for (const auto& text : texts) {
    if (mode == "windows")
      out.push_back(encoder->windows(text.get<std::string>()));
    else if (mode == "embed")
      out.push_back(encoder->embed(text.get<std::string>()));
    else
      return fail(ErrorCode::invalid_input, "unknown mode {}", mode);
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  auto result = run(argc, argv);
  if (!result) {
    std::fprintf(stderr, "opdbus-encoder-check: %s\n", result.error().describe().c_str());
    return 1;
  }
  std::cout << result->dump() << '\n';
  return 0;
}
