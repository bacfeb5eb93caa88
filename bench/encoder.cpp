// bench_encoder: op-dbus's sentence encoder, milliseconds per document of LENGTH tokens (one
// window, [CLS] and [SEP] included), each length run for SECONDS after three warm-up passes.
// bench/encoder.sh runs it next to ONNX Runtime on the same model. Prints {"LENGTH": ms, ...}.
// Usage: bench_encoder MODEL_DIR SECONDS LENGTH...   (OPDBUS_ENCODER_BACKEND=cuda: on the GPU;
// the backend used is printed on stderr)
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "base/json_util.h"
#include "ml/encoder.h"

using namespace opdbus;

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: bench_encoder MODEL_DIR SECONDS LENGTH...\n");
    return 2;
  }
  std::filesystem::path model = argv[1];
  const char* wanted = std::getenv("OPDBUS_ENCODER_BACKEND");
  auto backend =
      wanted != nullptr && std::string(wanted) == "cuda" ? ml::Backend::cuda : ml::Backend::cpu;
  auto encoder = ml::SentenceEncoder::load({model / "model.safetensors", model / "vocab.txt", {}},
                                           512, backend);
  if (!encoder) {
    std::fprintf(stderr, "bench_encoder: %s\n", encoder.error().describe().c_str());
    return 1;
  }
  std::fprintf(stderr, "bench_encoder: %s\n", (*encoder)->backend().c_str());
  double seconds = std::stod(argv[2]);
  auto vocabulary = static_cast<int32_t>((*encoder)->vocabulary().size());
  Json result = Json::object();
  for (int a = 3; a < argc; ++a) {
    int length = std::stoi(argv[a]);
    std::vector<int32_t> ids(static_cast<size_t>(length));
    for (int i = 0; i < length; ++i) ids[static_cast<size_t>(i)] = (i * 7919 + 1000) % vocabulary;
    for (int i = 0; i < 3; ++i) (*encoder)->embed_ids(ids);
    using Clock = std::chrono::steady_clock;
    auto start = Clock::now();
    size_t runs = 0;
    for (; std::chrono::duration<double>(Clock::now() - start).count() < seconds; ++runs)
      (*encoder)->embed_ids(ids);
    result[std::to_string(length)] =
        std::chrono::duration<double, std::milli>(Clock::now() - start).count() /
        static_cast<double>(runs);
  }
  std::printf("%s\n", result.dump().c_str());
  return 0;
}
