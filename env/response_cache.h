// Per-slot response-model state kept between VectorEnv steps: the incremental step (issue 21).
//
// A sequential response model's output is FromState(State(history), action) (env/response_model.h),
// and a step changes few histories: a rejected item leaves the history as it was, a consumed one
// appends one item. ResponseStepCache keeps every slot's state h [B, D] per ensemble model and
// brings rows up to date after each step:
//   recompute rows (a new episode, or an append that slid a full window): State of the row's
//     history from scratch;
//   append rows (one item appended at position lengths - 1 < L, nothing slid): only the new
//     position is computed: with a SASRec encoder from its keys/values cache (models/sasrec.h;
//     causal attention leaves the earlier positions as they were), with GRU4Rec from the carried
//     hidden state (Gru4RecImpl::Step); other encoders (Caser, NextItNet) recompute the row;
//   other rows: nothing.
// Contract: after Refresh, state rows equal State(items, lengths) of the same rows, and
// Expected(in) equals ensemble.Expected(in) to rounding (GEMMs of other shapes;
// tests/env/response_cache_test.cpp and the VectorEnv test against the full recompute). Active only
// when every model of the ensemble is sequential; Make returns null otherwise (DeepFM and the
// ground truth have no history state and cost one lookup per row already).
#pragma once

#include <torch/torch.h>

#include <memory>
#include <optional>
#include <vector>

#include "env/response_model.h"
#include "models/gru4rec.h"
#include "models/sasrec.h"

namespace recarena::env {

class ResponseStepCache {
 public:
  // Null when some model of ensemble is not sequential. The ensemble must outlive the cache.
  static std::unique_ptr<ResponseStepCache> Make(const ResponseEnsemble& ensemble, int64_t B);

  // items [B, L] / lengths [B]: every slot's current history (VectorEnv's). recompute / append:
  // int64 slot indices (either may be empty; disjoint), see the top of the file.
  void Refresh(const torch::Tensor& items, const torch::Tensor& lengths,
               const torch::Tensor& recompute, const torch::Tensor& append);
  // ensemble.Expected(in) for in's rows = the B slots in order, in.items/lengths their current
  // histories (the states stand for the encoder and the bag; the neighbourhood term reads items).
  torch::Tensor Expected(const ResponseInput& in) const;

 private:
  struct Member {
    SequentialResponseImpl* model = nullptr;
    models::SasRecImpl* sasrec = nullptr;  // the encoder when it is SASRec
    std::optional<models::SasRecCache> kv;
    models::Gru4RecImpl* gru = nullptr;  // the encoder when it is GRU4Rec
    torch::Tensor hidden;                // GRU4Rec: its hidden state per slot [B, D]
    torch::Tensor state;                 // [B, D]
  };
  ResponseStepCache(const ResponseEnsemble& ensemble, std::vector<Member> members);
  // State rows for items/lengths rows `rows` from scratch (SASRec: filling its cache).
  static torch::Tensor Recompute(Member& m, const torch::Tensor& items,
                                 const torch::Tensor& lengths, const torch::Tensor& rows);
  static torch::Tensor Append(Member& m, const torch::Tensor& items, const torch::Tensor& lengths,
                              const torch::Tensor& rows);

  const ResponseEnsemble& ensemble_;
  std::vector<Member> members_;
};

}  // namespace recarena::env
