#include "agents/session_returns.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>

#include "core/error.h"

namespace recarena::agents {

namespace {

const std::vector<double>& VectorOf(int64_t item, const ItemVectors& vectors) {
  if (item < 0 || item >= static_cast<int64_t>(vectors.size())) {
    throw Error("session returns: item id " + std::to_string(item) + " outside [0, " +
                std::to_string(vectors.size()) + ")");
  }
  return vectors[static_cast<size_t>(item)];
}

int64_t DimOf(const ItemVectors& vectors) {
  if (vectors.empty()) throw Error("session returns: no item vectors");
  return static_cast<int64_t>(vectors.front().size());
}

double Norm(const std::vector<double>& v) {
  return std::sqrt(std::inner_product(v.begin(), v.end(), v.begin(), 0.0));
}

}  // namespace

DissimilarityAccumulator::DissimilarityAccumulator(int64_t dim) {
  if (dim < 1) throw Error("DissimilarityAccumulator: dim must be >= 1");
  sum_.assign(static_cast<size_t>(dim), 0.0);
}

void DissimilarityAccumulator::Add(const std::vector<double>& vector) {
  if (vector.size() != sum_.size()) {
    throw Error("DissimilarityAccumulator: vector of size " + std::to_string(vector.size()) +
                ", expected " + std::to_string(sum_.size()));
  }
  const double norm = Norm(vector);
  if (norm > 0.0) {
    for (size_t i = 0; i < sum_.size(); ++i) sum_[i] += vector[i] / norm;
    sum_sq_norms_ += 1.0;
  }
  ++count_;
}

double DissimilarityAccumulator::Value() const {
  if (count_ < 2) return 0.0;
  const double sum_sq = std::inner_product(sum_.begin(), sum_.end(), sum_.begin(), 0.0);
  const double pairs = static_cast<double>(count_) * static_cast<double>(count_ - 1);  // ordered
  return 1.0 - (sum_sq - sum_sq_norms_) / pairs;
}

double AverageDissimilarity(const std::vector<int64_t>& items, const ItemVectors& vectors) {
  DissimilarityAccumulator acc(DimOf(vectors));
  for (int64_t item : items) acc.Add(VectorOf(item, vectors));
  return acc.Value();
}

double MaxPairwiseDissimilarity(const ItemVectors& vectors) {
  const size_t n = vectors.size();
  if (n < 2) return 0.0;
  std::vector<double> norms(n);
  for (size_t i = 0; i < n; ++i) norms[i] = Norm(vectors[i]);
  double best = 0.0;
  for (size_t i = 0; i < n; ++i) {
    for (size_t j = i + 1; j < n; ++j) {
      double cos = 0.0;
      if (norms[i] > 0.0 && norms[j] > 0.0) {
        cos = std::inner_product(vectors[i].begin(), vectors[i].end(), vectors[j].begin(), 0.0) /
              (norms[i] * norms[j]);
      }
      best = std::max(best, 1.0 - cos);
    }
  }
  return best;
}

std::vector<double> InterSessionUnexpectedReturns(const std::vector<std::vector<int64_t>>& sessions,
                                                  const ItemVectors& vectors, double dis_max) {
  DissimilarityAccumulator acc(DimOf(vectors));
  std::vector<double> out;
  out.reserve(sessions.size());
  for (const auto& session : sessions) {
    for (int64_t item : session) acc.Add(VectorOf(item, vectors));
    out.push_back(dis_max - acc.Value());
  }
  return out;
}

std::vector<double> IntraSessionUnexpectedReturns(const std::vector<int64_t>& session,
                                                  const ItemVectors& vectors) {
  const double total = AverageDissimilarity(session, vectors);
  DissimilarityAccumulator acc(DimOf(vectors));
  std::vector<double> out;
  out.reserve(session.size());
  for (int64_t item : session) {
    acc.Add(VectorOf(item, vectors));
    out.push_back(total - acc.Value());
  }
  return out;
}

std::vector<bool> NovelItemSet(const std::vector<int64_t>& counts, double novel_share) {
  if (!(novel_share >= 0.0 && novel_share <= 1.0)) {
    throw Error("NovelItemSet: novel_share must lie in [0, 1], got " + std::to_string(novel_share));
  }
  const int64_t n = static_cast<int64_t>(counts.size());
  std::vector<int64_t> order(counts.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](int64_t a, int64_t b) { return counts[a] > counts[b]; });
  const int64_t novel = static_cast<int64_t>(std::floor(novel_share * n + 1e-9));
  std::vector<bool> is_novel(counts.size(), true);
  for (int64_t k = 0; k < n - novel; ++k) is_novel[static_cast<size_t>(order[k])] = false;
  return is_novel;
}

std::vector<double> IntraSessionNoveltyReturns(const std::vector<int64_t>& session,
                                               const std::vector<bool>& is_novel) {
  std::vector<double> out(session.size(), 0.0);
  double remaining = 0.0;
  for (size_t k = session.size(); k-- > 0;) {
    out[k] = remaining;  // novel items strictly after position k
    const int64_t item = session[k];
    if (item < 0 || item >= static_cast<int64_t>(is_novel.size())) {
      throw Error("IntraSessionNoveltyReturns: item id " + std::to_string(item) +
                  " outside the novel-item table");
    }
    if (is_novel[static_cast<size_t>(item)]) remaining += 1.0;
  }
  return out;
}

}  // namespace recarena::agents
