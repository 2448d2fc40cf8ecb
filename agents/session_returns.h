// HDT's returns on a user's sessions (thesis Ch. 5, Sec. 5.3.3-5.3.4), computed from item vectors.
// Plain C++ (no tensors): the batch builder (agents/hdt_batches) calls these per user.
//
// Definitions (see docs/hdt.md for the choices where the thesis is vague):
//   cos(u, v)      = u.v / (|u| |v|), and 0 when either vector is all zeros.
//   dis(x_1..x_n)  = 1 - (mean of cos over all unordered pairs {i, j}, i != j, of the n positions);
//                    repeated items are separate positions (their pair has cos 1); dis = 0 for n <
//                    2 (no pair: nothing dissimilar has been seen yet).
//   Inter-session unexpected return (Eq. 5.2): R_c = dis_max - dis(all items of C_1, ..., C_c).
//   Intra-session unexpected return (Eq. 5.8): R_{c,t} = dis(x_{c,1..T}) - dis(x_{c,1..t}),
//                    t = 1..T (so R_{c,T} = 0).
//   Intra-session novelty return (Eq. 5.7): R^n_{c,t} = number of novel items among the actions
//                    a_{c,t}, ..., a_{c,T-1}, i.e. among x_{c,t+1..T}, t = 1..T (so R^n_{c,T} = 0).
//
// Note: the thesis numbers novelty as Eq. 5.7 and the intra-session unexpected return as Eq. 5.8.
#pragma once

#include <cstdint>
#include <vector>

namespace recarena::agents {

// Item vectors: row i is the embedding of item id i; all rows have the same size >= 1.
using ItemVectors = std::vector<std::vector<double>>;

// Running dis() over a growing multiset of item positions in O(D) per Add, via
// sum_{i != j} u_i.u_j = |sum u_i|^2 - sum |u_i|^2 over the unit vectors u_i (0 for a zero vector).
class DissimilarityAccumulator {
 public:
  explicit DissimilarityAccumulator(int64_t dim);
  void Add(const std::vector<double>& vector);  // vector.size() == dim (else recarena::Error)
  int64_t count() const { return count_; }
  double Value() const;  // dis of the positions added so far; 0 while count < 2

 private:
  std::vector<double> sum_;
  double sum_sq_norms_ = 0.0;
  int64_t count_ = 0;
};

// dis(items) as defined above. Item ids must index vectors (else recarena::Error).
double AverageDissimilarity(const std::vector<int64_t>& items, const ItemVectors& vectors);

// dis_max: the largest dis any user can reach, max over item pairs i != j of 1 - cos(v_i, v_j) (an
// average of pair values never exceeds the largest pair value). O(N^2 D): meant for catalogs up to
// some 10^4 items; larger catalogs may pass the bound 2 (cos >= -1) instead. 0 when N < 2.
double MaxPairwiseDissimilarity(const ItemVectors& vectors);

// [c] = R_{c+1} = dis_max - dis(sessions[0..c] concatenated), one per session.
std::vector<double> InterSessionUnexpectedReturns(const std::vector<std::vector<int64_t>>& sessions,
                                                  const ItemVectors& vectors, double dis_max);

// [t-1] = R_{c,t} for t = 1..T (T = session.size()).
std::vector<double> IntraSessionUnexpectedReturns(const std::vector<int64_t>& session,
                                                  const ItemVectors& vectors);

// I_nov: is_novel[i] for i in [0, num_items). Items are ranked by count descending (ties: smaller
// id first); the first num_items - floor(novel_share * num_items) are the popular head, the rest
// (the bottom novel_share, thesis: 0.9) are novel. counts.size() == num_items; novel_share in [0,
// 1].
std::vector<bool> NovelItemSet(const std::vector<int64_t>& counts, double novel_share);

// [t-1] = R^n_{c,t} for t = 1..T: novel items among session[t..T-1] (0-based), i.e. x_{c,t+1..T}.
std::vector<double> IntraSessionNoveltyReturns(const std::vector<int64_t>& session,
                                               const std::vector<bool>& is_novel);

}  // namespace recarena::agents
