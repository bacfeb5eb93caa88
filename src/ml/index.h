// Similarity search over unit vectors (cosine = dot product): exact search as one OpenBLAS
// matrix product (sgemv for a query, sgemm for a batch, tiled over the stored vectors) with the
// best k kept in a heap as the similarities are produced, and approximate search with hnswlib's
// HNSW graph for large sets; search() picks exact below kApproximateFrom vectors.
// Invariants: vectors are stored row-major in one contiguous buffer; positions are insertion
// order and never change; the HNSW graph is built lazily and extended as vectors are added;
// hnswlib's exceptions stop here.
#pragma once

#include <memory>
#include <vector>

#include "base/result.h"
#include "ml/structural.h"

namespace hnswlib {
template <typename T>
class HierarchicalNSW;
class InnerProductSpace;
}  // namespace hnswlib

namespace opdbus::ml {

struct Hit {
  size_t position = 0;
  float similarity = 0;
};

class VectorIndex {
 public:
  static constexpr size_t kApproximateFrom = 50000;

  VectorIndex();
  ~VectorIndex();
  VectorIndex(VectorIndex&&) noexcept;
  VectorIndex& operator=(VectorIndex&&) noexcept;

  void add(const Vector& vector);
  size_t size() const { return rows_.size() / kDimensions; }
  const float* row(size_t position) const { return rows_.data() + position * kDimensions; }

  // The k most similar, best first.
  std::vector<Hit> search_exact(const Vector& query, size_t k) const;
  // For `count` queries stored row-major in `queries`.
  std::vector<std::vector<Hit>> search_exact_batch(const float* queries, size_t count,
                                                   size_t k) const;
  Result<std::vector<Hit>> search_approximate(const Vector& query, size_t k, size_t ef = 64);
  Result<std::vector<Hit>> search(const Vector& query, size_t k);

 private:
  Status extend_graph();

  std::vector<float> rows_;
  std::unique_ptr<hnswlib::InnerProductSpace> space_;
  std::unique_ptr<hnswlib::HierarchicalNSW<float>> graph_;
  size_t in_graph_ = 0;
};

}  // namespace opdbus::ml
