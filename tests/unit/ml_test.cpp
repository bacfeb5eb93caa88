// Embeddings, vector search, the vector store and anomaly detection: the structural embedder is
// deterministic and order-blind, sees addresses in one network as alike; exact search matches a
// brute force and the HNSW path keeps recall; the store survives reopening, segment sealing and a
// torn append; the detector learns a baseline and flags what is unlike it, per resource too.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "ml/anomaly.h"

namespace opdbus::ml {
namespace {

Json interfaces(std::vector<std::pair<std::string, int>> items) {
  Json list = Json::array();
  for (const auto& [name, mtu] : items)
    list.push_back({{"name", name}, {"mtu", mtu}, {"state", "up"}});
  return {{"interfaces", list}};
}

Vector random_unit(std::mt19937& random) {
  std::normal_distribution<float> normal;
  Vector vector;
  float norm = 0;
  for (auto& value : vector) {
    value = normal(random);
    norm += value * value;
  }
  for (auto& value : vector) value /= std::sqrt(norm);
  return vector;
}

TEST(Embedding, DeterministicUnitLengthAndBlindToOrder) {
  auto a = embed_structure(interfaces({{"br0", 1500}, {"eth0", 9000}}));
  auto b = embed_structure(interfaces({{"eth0", 9000}, {"br0", 1500}}));
  EXPECT_EQ(a, b);
  EXPECT_NEAR(cosine(a, a), 1.0, 1e-5);
  EXPECT_EQ(embed_structure(Json::object()), Vector{});
  auto changed = embed_structure(interfaces({{"br0", 1400}, {"eth0", 9000}}));
  EXPECT_LT(cosine(a, changed), 0.999);
  EXPECT_GT(cosine(a, changed), 0.7);
}

TEST(Embedding, AddressesInOneNetworkAreAlike) {
  auto route = [](const std::string& destination) {
    return embed_structure({{"routes", {{{"destination", destination}, {"dev", "eth0"}}}}});
  };
  auto known = route("10.1.2.0/24");
  EXPECT_GT(cosine(known, route("10.1.7.0/24")), cosine(known, route("192.168.5.0/24")));
  EXPECT_GT(cosine(route("fd00:1:2::/64"), route("fd00:1:2:9::/64")),
            cosine(route("fd00:1:2::/64"), route("2001:db8::/64")));
}

// Clustered like embeddings of states are (random points in 384 dimensions are not).
Vector near(const Vector& center, std::mt19937& random) {
  auto noise = random_unit(random);
  Vector out;
  float norm = 0;
  for (size_t i = 0; i < kDimensions; ++i) {
    out[i] = center[i] + 0.6F * noise[i];
    norm += out[i] * out[i];
  }
  for (auto& value : out) value /= std::sqrt(norm);
  return out;
}

TEST(VectorIndex, ExactSearchMatchesBruteForceAndHnswKeepsRecall) {
  std::mt19937 random(7);
  std::vector<Vector> centers;
  for (int i = 0; i < 50; ++i) centers.push_back(random_unit(random));
  VectorIndex index;
  std::vector<Vector> vectors;
  for (int i = 0; i < 1500; ++i) {
    vectors.push_back(near(centers[random() % centers.size()], random));
    index.add(vectors.back());
  }
  std::vector<float> queries;
  size_t found = 0, total = 0;
  for (int q = 0; q < 20; ++q) {
    auto query = near(centers[random() % centers.size()], random);
    queries.insert(queries.end(), query.begin(), query.end());
    auto exact = index.search_exact(query, 10);
    size_t best = 0;
    for (size_t i = 1; i < vectors.size(); ++i)
      if (cosine(query, vectors[i]) > cosine(query, vectors[best])) best = i;
    ASSERT_EQ(exact.front().position, best);
    auto approximate = index.search_approximate(query, 10, 200);
    ASSERT_TRUE(approximate) << approximate.error().describe();
    for (const auto& hit : *approximate)
      for (const auto& truth : exact) found += hit.position == truth.position;
    total += exact.size();
  }
  EXPECT_GE(static_cast<double>(found) / total, 0.9) << "recall@10 of the HNSW path";
  auto batch = index.search_exact_batch(queries.data(), 20, 10);
  Vector last;
  std::copy(queries.end() - kDimensions, queries.end(), last.begin());
  EXPECT_EQ(batch.back().front().position, index.search_exact(last, 1).front().position);
}

class VectorStoreTest : public ::testing::Test {
 protected:
  std::filesystem::path directory_ =
      std::filesystem::path(::testing::TempDir()) / ("vectors-" + std::to_string(::getpid()));
  void SetUp() override { std::filesystem::remove_all(directory_); }
  void TearDown() override { std::filesystem::remove_all(directory_); }
};

TEST_F(VectorStoreTest, SurvivesReopeningSealingAndATornAppend) {
  std::mt19937 random(3);
  constexpr size_t kSegment = 64;
  std::vector<Vector> written;
  {
    auto store = VectorStore::open(directory_, kSegment);
    ASSERT_TRUE(store) << store.error().describe();
    for (size_t i = 0; i < 2 * kSegment + 10; ++i) {
      written.push_back(random_unit(random));
      VectorRecord record{0, i % 2 ? "net" : "systemd", "", "sample", i, "t", i % 3 == 0, false};
      ASSERT_TRUE(store->append(record, written.back()));
    }
  }
  EXPECT_TRUE(std::filesystem::exists(directory_ / "segments" / "000002.zst"));
  {  // a vector written whose row never was (a crash between the two)
    std::ofstream active(directory_ / "active.f32", std::ios::app | std::ios::binary);
    active.write(reinterpret_cast<const char*>(written[0].data()), sizeof(Vector));
  }
  auto store = VectorStore::open(directory_, kSegment);
  ASSERT_TRUE(store) << store.error().describe();
  EXPECT_EQ(*store->count(), static_cast<int64_t>(written.size()));
  EXPECT_EQ(std::filesystem::file_size(directory_ / "active.f32"), 10 * sizeof(Vector));
  auto all = store->load("", VectorStore::Subset::all);
  ASSERT_TRUE(all) << all.error().describe();
  ASSERT_EQ(all->size(), written.size());
  for (size_t i = 0; i < written.size(); ++i) ASSERT_EQ((*all)[i].vector, written[i]) << i;
  auto net = store->load("net", VectorStore::Subset::all);
  EXPECT_EQ(net->size(), written.size() / 2);
  auto counts = store->baseline_counts();
  EXPECT_EQ((*counts)["net"] + (*counts)["systemd"],
            static_cast<int64_t>((written.size() + 2) / 3));
  EXPECT_EQ(*store->clear_baseline("net"), (*counts)["net"]);
  EXPECT_EQ(store->load("", VectorStore::Subset::baseline)->size(),
            static_cast<size_t>((*counts)["systemd"]));
}

TEST_F(VectorStoreTest, TheDetectorLearnsABaselineAndFlagsWhatIsUnlikeIt) {
  auto store = VectorStore::open(directory_);
  ASSERT_TRUE(store);
  AnomalyDetector detector(*store, AnomalyConfig{});
  auto units = [](Json extra) {
    Json list = Json::array();
    for (const char* name : {"sshd.service", "cron.service", "web1.service", "web2.service"})
      list.push_back({{"name", name}, {"active_state", "active"}, {"enabled", true}});
    if (!extra.is_null()) list.push_back(extra);
    return Json{{"units", list}};
  };
  auto observe = [&](const Json& state) {
    auto verdicts = detector.observe({"systemd", "sample", 1, "t", state});
    EXPECT_TRUE(verdicts) << verdicts.error().describe();
    return verdicts.value_or(std::vector<Verdict>{});
  };
  auto first = observe(units(nullptr));
  ASSERT_EQ(first.size(), 5u);
  EXPECT_FALSE(first[0].anomalous);
  EXPECT_EQ(first[0].baseline, 0u);
  auto again = observe(units(nullptr));
  EXPECT_NEAR(again[0].similarity, 1.0, 1e-5);
  EXPECT_FALSE(again[0].anomalous);
  auto similar_new =
      observe(units({{"name", "web3.service"}, {"active_state", "active"}, {"enabled", true}}));
  auto web3 = std::find_if(similar_new.begin(), similar_new.end(),
                           [](const Verdict& v) { return v.resource == "units[web3.service]"; });
  ASSERT_NE(web3, similar_new.end());
  EXPECT_TRUE(web3->first_seen);
  EXPECT_FALSE(web3->anomalous) << web3->similarity;
  auto odd = observe(units({{"name", "telnet.socket"},
                            {"active_state", "listening"},
                            {"enabled", true},
                            {"listen", "0.0.0.0:23"},
                            {"accept", true}}));
  auto telnet = std::find_if(odd.begin(), odd.end(),
                             [](const Verdict& v) { return v.resource == "units[telnet.socket]"; });
  ASSERT_NE(telnet, odd.end());
  EXPECT_TRUE(telnet->anomalous) << telnet->similarity;
  EXPECT_FALSE(telnet->repeated);
  EXPECT_TRUE(telnet->nearest);
  auto lasting = observe(units({{"name", "telnet.socket"},
                                {"active_state", "listening"},
                                {"enabled", true},
                                {"listen", "0.0.0.0:23"},
                                {"accept", true}}));
  auto again_telnet = std::find_if(lasting.begin(), lasting.end(), [](const Verdict& v) {
    return v.resource == "units[telnet.socket]";
  });
  EXPECT_TRUE(again_telnet->anomalous && again_telnet->repeated)
      << "a lasting anomaly is news once";

  AnomalyDetector reloaded(*store,
                           AnomalyConfig{.threshold = 0.85, .per_plugin = {{"systemd", 0.2}}});
  ASSERT_TRUE(reloaded.load());
  auto verdicts = reloaded.observe({"systemd", "scan", 2, "t", units(nullptr)}, false);
  ASSERT_TRUE(verdicts);
  EXPECT_GT((*verdicts)[0].baseline, 0u);
  EXPECT_EQ((*verdicts)[0].threshold, 0.2);
}

}  // namespace
}  // namespace opdbus::ml
