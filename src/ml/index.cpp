// Vector search; see index.h.
#include "ml/index.h"

#include <cblas.h>
#include <hnswlib/hnswlib.h>

#include <algorithm>

namespace opdbus::ml {
namespace {

constexpr size_t kGraphLinks = 16;
constexpr size_t kGraphBuildBreadth = 200;

std::vector<Hit> top_k(const float* similarities, size_t count, size_t k) {
  std::vector<Hit> hits;
  hits.reserve(count);
  for (size_t i = 0; i < count; ++i) hits.push_back({i, similarities[i]});
  k = std::min(k, hits.size());
  std::partial_sort(hits.begin(), hits.begin() + static_cast<std::ptrdiff_t>(k), hits.end(),
                    [](const Hit& a, const Hit& b) { return a.similarity > b.similarity; });
  hits.resize(k);
  return hits;
}

}  // namespace

VectorIndex::VectorIndex() = default;
VectorIndex::~VectorIndex() = default;
VectorIndex::VectorIndex(VectorIndex&&) noexcept = default;
VectorIndex& VectorIndex::operator=(VectorIndex&&) noexcept = default;

void VectorIndex::add(const Vector& vector) {
  rows_.insert(rows_.end(), vector.begin(), vector.end());
}

std::vector<Hit> VectorIndex::search_exact(const Vector& query, size_t k) const {
  if (size() == 0) return {};
  std::vector<float> similarities(size());
  cblas_sgemv(CblasRowMajor, CblasNoTrans, static_cast<int>(size()), kDimensions, 1.0F,
              rows_.data(), kDimensions, query.data(), 1, 0.0F, similarities.data(), 1);
  return top_k(similarities.data(), similarities.size(), k);
}

std::vector<std::vector<Hit>> VectorIndex::search_exact_batch(const float* queries, size_t count,
                                                              size_t k) const {
  std::vector<std::vector<Hit>> results(count);
  if (size() == 0 || count == 0) return results;
  std::vector<float> similarities(count * size());
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(count),
              static_cast<int>(size()), kDimensions, 1.0F, queries, kDimensions, rows_.data(),
              kDimensions, 0.0F, similarities.data(), static_cast<int>(size()));
  for (size_t q = 0; q < count; ++q)
    results[q] = top_k(similarities.data() + q * size(), size(), k);
  return results;
}

Status VectorIndex::extend_graph() {
  try {
    if (!graph_) {
      space_ = std::make_unique<hnswlib::InnerProductSpace>(kDimensions);
      graph_ = std::make_unique<hnswlib::HierarchicalNSW<float>>(
          space_.get(), std::max<size_t>(size(), 1024), kGraphLinks, kGraphBuildBreadth);
    }
    if (graph_->max_elements_ < size()) graph_->resizeIndex(size() * 2);
    for (; in_graph_ < size(); ++in_graph_) graph_->addPoint(row(in_graph_), in_graph_);
    return ok();
  } catch (const std::exception& error) {
    return fail(ErrorCode::internal, "hnswlib: {}", error.what());
  }
}

Result<std::vector<Hit>> VectorIndex::search_approximate(const Vector& query, size_t k, size_t ef) {
  if (size() == 0) return std::vector<Hit>{};
  TRY(extend_graph());
  try {
    graph_->setEf(std::max(ef, k));
    auto found = graph_->searchKnn(query.data(), std::min(k, size()));
    std::vector<Hit> hits(found.size());
    for (size_t i = found.size(); i-- > 0; found.pop())  // the queue pops the worst first
      hits[i] = {found.top().second, 1.0F - found.top().first};
    return hits;
  } catch (const std::exception& error) {
    return fail(ErrorCode::internal, "hnswlib: {}", error.what());
  }
}

Result<std::vector<Hit>> VectorIndex::search(const Vector& query, size_t k) {
  if (size() < kApproximateFrom) return search_exact(query, k);
  return search_approximate(query, k);
}

}  // namespace opdbus::ml
