// bench_vector_search: op-dbus's vector search (ml::VectorIndex: exact OpenBLAS sgemv/sgemm,
// approximate hnswlib HNSW with 16 links and build breadth 200) side by side with faiss
// IndexFlatIP and IndexHNSWFlat (same M and efConstruction) on the same vectors, one thread
// each. The data are N unit vectors of 384 dimensions around 2,000 centres (states of many hosts
// and resources cluster like this), the queries 1,000 more from the same distribution; recall@10
// is measured against the exact answer. Prints a table.
// Usage: bench_vector_search N [QUERIES] [exact]   ("exact": skip the HNSW builds)
#include <faiss/IndexFlat.h>
#include <faiss/IndexHNSW.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "ml/index.h"

using namespace opdbus;
using Clock = std::chrono::steady_clock;
using FaissId = faiss::Index::idx_t;  // faiss 1.7 (Debian 12)

namespace {

constexpr size_t kDims = ml::kDimensions;
constexpr size_t kCentres = 2000;
constexpr size_t kK = 10;

std::vector<float> clustered(size_t count, uint32_t seed) {
  std::mt19937 centre_random(1);
  std::normal_distribution<float> normal;
  std::vector<float> centres(kCentres * kDims);
  for (auto& value : centres) value = normal(centre_random);
  std::mt19937 random(seed);
  std::uniform_int_distribution<size_t> pick(0, kCentres - 1);
  std::vector<float> out(count * kDims);
  for (size_t i = 0; i < count; ++i) {
    const float* centre = centres.data() + pick(random) * kDims;
    float* row = out.data() + i * kDims;
    double norm = 0;
    for (size_t d = 0; d < kDims; ++d) {
      row[d] = centre[d] + 0.6F * normal(random);
      norm += static_cast<double>(row[d]) * row[d];
    }
    for (size_t d = 0; d < kDims; ++d) row[d] = static_cast<float>(row[d] / std::sqrt(norm));
  }
  return out;
}

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

double recall(const std::vector<std::vector<size_t>>& found,
              const std::vector<std::vector<size_t>>& truth) {
  size_t hits = 0;
  for (size_t q = 0; q < truth.size(); ++q) {
    std::set<size_t> expected(truth[q].begin(), truth[q].end());
    for (auto id : found[q]) hits += expected.count(id);
  }
  return static_cast<double>(hits) / static_cast<double>(truth.size() * kK);
}

ml::Vector as_vector(const float* row) {
  ml::Vector vector;
  std::copy(row, row + kDims, vector.begin());
  return vector;
}

void row(const char* engine, const std::string& method, double qps, double recall_at_10) {
  std::printf("%-10s %-30s %12.0f %10.4f\n", engine, method.c_str(), qps, recall_at_10);
}

template <typename Search>
double timed_qps(size_t queries, Search&& search) {
  auto start = Clock::now();
  for (size_t q = 0; q < queries; ++q) search(q);
  return static_cast<double>(queries) / seconds_since(start);
}

std::vector<size_t> faiss_ids(const std::vector<FaissId>& labels, size_t q) {
  return {labels.begin() + static_cast<std::ptrdiff_t>(q * kK),
          labels.begin() + static_cast<std::ptrdiff_t>((q + 1) * kK)};
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: bench_vector_search N [QUERIES] [exact]\n");
    return 2;
  }
  size_t count = std::stoul(argv[1]);
  size_t queries = argc > 2 ? std::stoul(argv[2]) : 1000;
  omp_set_num_threads(1);
  auto data = clustered(count, 2);
  auto query_rows = clustered(queries, 3);

  ml::VectorIndex ours;
  for (size_t i = 0; i < count; ++i) ours.add(as_vector(data.data() + i * kDims));
  faiss::IndexFlatIP flat(kDims);
  flat.add(static_cast<FaissId>(count), data.data());

  std::printf("%zu vectors of %zu dimensions, %zu queries, k = %zu, one thread\n", count, kDims,
              queries, kK);
  std::printf("%-10s %-30s %12s %10s\n", "engine", "method", "queries/s", "recall@10");
  std::vector<std::vector<size_t>> truth(queries), found(queries);
  double qps = timed_qps(queries, [&](size_t q) {
    for (const auto& hit : ours.search_exact(as_vector(query_rows.data() + q * kDims), kK))
      truth[q].push_back(hit.position);
  });
  row("op-dbus", "exact, one query at a time", qps, 1.0);
  std::vector<float> distances(queries * kK);
  std::vector<FaissId> labels(queries * kK);
  qps = timed_qps(queries, [&](size_t q) {
    flat.search(1, query_rows.data() + q * kDims, kK, distances.data() + q * kK,
                labels.data() + q * kK);
  });
  for (size_t q = 0; q < queries; ++q) found[q] = faiss_ids(labels, q);
  row("faiss", "IndexFlatIP, one query at a time", qps, recall(found, truth));

  auto start = Clock::now();
  auto batch = ours.search_exact_batch(query_rows.data(), queries, kK);
  row("op-dbus", "exact, batch (sgemm)", static_cast<double>(queries) / seconds_since(start), 1.0);
  start = Clock::now();
  flat.search(static_cast<FaissId>(queries), query_rows.data(), kK, distances.data(),
              labels.data());
  double faiss_batch = static_cast<double>(queries) / seconds_since(start);
  for (size_t q = 0; q < queries; ++q) found[q] = faiss_ids(labels, q);
  row("faiss", "IndexFlatIP, batch", faiss_batch, recall(found, truth));

  if (argc > 3 && std::string(argv[3]) == "exact") return 0;
  start = Clock::now();
  if (!ours.search_approximate(as_vector(query_rows.data()), kK)) return 1;
  double ours_build = seconds_since(start);
  faiss::IndexHNSWFlat hnsw(kDims, 16, faiss::METRIC_INNER_PRODUCT);
  hnsw.hnsw.efConstruction = 200;
  start = Clock::now();
  hnsw.add(static_cast<FaissId>(count), data.data());
  double faiss_build = seconds_since(start);
  std::printf("HNSW build (M 16, efConstruction 200): op-dbus/hnswlib %.1f s, faiss %.1f s\n",
              ours_build, faiss_build);
  for (size_t ef : {16, 32, 64, 128, 256}) {
    qps = timed_qps(queries, [&](size_t q) {
      found[q].clear();
      auto hits = ours.search_approximate(as_vector(query_rows.data() + q * kDims), kK, ef);
      for (const auto& hit : hits.value_or(std::vector<ml::Hit>{}))
        found[q].push_back(hit.position);
    });
    row("op-dbus", "HNSW ef " + std::to_string(ef), qps, recall(found, truth));
    hnsw.hnsw.efSearch = static_cast<int>(ef);
    qps = timed_qps(queries, [&](size_t q) {
      hnsw.search(1, query_rows.data() + q * kDims, kK, distances.data() + q * kK,
                  labels.data() + q * kK);
    });
    for (size_t q = 0; q < queries; ++q) found[q] = faiss_ids(labels, q);
    row("faiss", "IndexHNSWFlat ef " + std::to_string(ef), qps, recall(found, truth));
  }
  return 0;
}
