// Vector search; see index.h.
#include "ml/index.h"

#include <cblas.h>
#include <hnswlib/hnswlib.h>

#include <algorithm>

#include "ml/gpu.h"

namespace opdbus::ml {
namespace {

constexpr size_t kGraphLinks = 16;
constexpr size_t kGraphBuildBreadth = 200;
// Stored vectors per product of a query batch: the similarities of a tile stay in cache while the
// best k are picked from them.
constexpr size_t kBatchTileRows = 1024;

// The k best of a stream of similarities: a min-heap of k, so each candidate costs one comparison
// unless it is among the best so far.
class TopK {
 public:
  explicit TopK(size_t k) : k_(k) { heap_.reserve(k); }

  void offer(const float* similarities, size_t count, size_t first_position) {
    size_t i = 0;
    for (; i < count && heap_.size() < k_; ++i) {
      heap_.push_back({first_position + i, similarities[i]});
      std::push_heap(heap_.begin(), heap_.end(), better);
    }
    if (heap_.empty()) return;
    float worst_kept = heap_.front().similarity;
    for (; i < count; ++i) {
      if (similarities[i] <= worst_kept) continue;
      std::pop_heap(heap_.begin(), heap_.end(), better);
      heap_.back() = {first_position + i, similarities[i]};
      std::push_heap(heap_.begin(), heap_.end(), better);
      worst_kept = heap_.front().similarity;
    }
  }

  std::vector<Hit> take() {  // best first
    std::sort_heap(heap_.begin(), heap_.end(), better);
    return std::move(heap_);
  }

 private:
  static bool better(const Hit& a, const Hit& b) { return a.similarity > b.similarity; }
  size_t k_;
  std::vector<Hit> heap_;
};

}  // namespace

VectorIndex::VectorIndex() = default;
VectorIndex::~VectorIndex() = default;
VectorIndex::VectorIndex(VectorIndex&&) noexcept = default;
VectorIndex& VectorIndex::operator=(VectorIndex&&) noexcept = default;

void VectorIndex::add(const Vector& vector) {
  rows_.insert(rows_.end(), vector.begin(), vector.end());
}

std::vector<Hit> VectorIndex::search_exact(const Vector& query, size_t k) const {
  if (size() == 0 || k == 0) return {};
  std::vector<float> similarities(size());
  cblas_sgemv(CblasRowMajor, CblasNoTrans, static_cast<int>(size()), kDimensions, 1.0F,
              rows_.data(), kDimensions, query.data(), 1, 0.0F, similarities.data(), 1);
  TopK best(k);
  best.offer(similarities.data(), similarities.size(), 0);
  return best.take();
}

std::vector<std::vector<Hit>> VectorIndex::search_exact_batch(const float* queries, size_t count,
                                                              size_t k) const {
  if (size() == 0 || count == 0 || k == 0) return std::vector<std::vector<Hit>>(count);
  if (device_ready()) {
    auto on_device =
        best_by_tiles(count, k, kBatchTileRows * 16, [&](size_t first, size_t rows, float* out) {
          return static_cast<bool>(device_->products(queries, count, first, rows, out));
        });
    if (on_device) return std::move(*on_device);
    device_.reset();  // a device that failed once is not trusted again: the CPU answers
    device_failed_ = true;
  }
  return *best_by_tiles(count, k, kBatchTileRows, [&](size_t first, size_t rows, float* out) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(count),
                static_cast<int>(rows), kDimensions, 1.0F, queries, kDimensions, row(first),
                kDimensions, 0.0F, out, static_cast<int>(rows));
    return true;
  });
}

std::optional<std::vector<std::vector<Hit>>> VectorIndex::best_by_tiles(
    size_t count, size_t k, size_t tile, const TileProducts& products) const {
  std::vector<TopK> best(count, TopK(k));
  tile = std::min(size(), tile);
  std::vector<float> similarities(count * tile);
  for (size_t first = 0; first < size(); first += tile) {
    auto rows = std::min(tile, size() - first);
    if (!products(first, rows, similarities.data())) return std::nullopt;
    for (size_t q = 0; q < count; ++q) best[q].offer(similarities.data() + q * rows, rows, first);
  }
  std::vector<std::vector<Hit>> results(count);
  for (size_t q = 0; q < count; ++q) results[q] = best[q].take();
  return results;
}

bool VectorIndex::device_ready() const {
  if (size() < kDeviceFrom || device_failed_) return false;
  if (!device_) {
    auto created = gpu::Similarity::create(kDimensions);
    device_failed_ = !created;
    if (!created) return false;
    device_ = std::move(*created);
  }
  if (device_->add(row(device_->size()), size() - device_->size())) return true;
  device_.reset();
  device_failed_ = true;
  return false;
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
