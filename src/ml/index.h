// Similarity search over unit vectors (cosine = dot product): exact search as one OpenBLAS
// matrix product (sgemv for a query, sgemm for a batch, tiled over the stored vectors) with the
// best k kept in a heap as the similarities are produced, and approximate search with hnswlib's
// HNSW graph for large sets; search() picks exact below kApproximateFrom vectors. Batches over
// kDeviceFrom vectors or more run their products on a CUDA device when there is one (ml/gpu.h;
// the device keeps a copy of the vectors, extended as they are added).
// Invariants: vectors are stored row-major in one contiguous buffer; positions are insertion
// order and never change; the HNSW graph is built lazily and extended as vectors are added;
// hnswlib's exceptions stop here.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "base/result.h"
#include "ml/structural.h"

namespace hnswlib {
template <typename T>
class HierarchicalNSW;
class InnerProductSpace;
}  // namespace hnswlib

namespace opdbus::ml {

namespace gpu {
class Similarity;
}

struct Hit {
  size_t position = 0;
  float similarity = 0;
};

class VectorIndex {
 public:
  static constexpr size_t kApproximateFrom = 50000;
  static constexpr size_t kDeviceFrom = 16384;

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
  // out (count x rows) = the batch's queries times stored rows [first, first + rows); false
  // when the products could not be made.
  using TileProducts = std::function<bool(size_t first, size_t rows, float* out)>;
  // The best k of each of `count` queries, the stored vectors taken `tile` at a time.
  std::optional<std::vector<std::vector<Hit>>> best_by_tiles(size_t count, size_t k, size_t tile,
                                                             const TileProducts& products) const;
  // Whether batches go to the device: there is one, the set is large, and it holds every vector.
  bool device_ready() const;

  std::vector<float> rows_;
  std::unique_ptr<hnswlib::InnerProductSpace> space_;
  std::unique_ptr<hnswlib::HierarchicalNSW<float>> graph_;
  size_t in_graph_ = 0;
  mutable std::unique_ptr<gpu::Similarity> device_;  // the device copy of rows_, once used
  mutable bool device_failed_ = false;
};

}  // namespace opdbus::ml
