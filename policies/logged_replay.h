// The logged policy, replayed in a simulator: each episode recommends, step by step, what its
// start user went on to consume in the logs. The fidelity report replays it to compare simulated
// with logged session lengths under the policy that produced the logs (issue 15), which a random
// policy cannot do once leaving responds to what is recommended.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <map>
#include <utility>
#include <vector>

#include "data/sequences.h"
#include "env/vector_env.h"

namespace recarena::policies {

class LoggedReplay {
 public:
  // seqs: the logged sequences the simulator role's start states were made from (each start: a
  // sequence's first min(initial_items, size) items); popularity [N] float: the fallback ranking.
  LoggedReplay(const std::vector<data::Sequence>& seqs, int64_t initial_items,
               torch::Tensor popularity);

  // Actions [B] int64 for the env's latest result. An episode is matched, at its first step, to
  // the first logged sequence of its user whose start items end with the observed history; step t
  // (0-based) then recommends that sequence's item initial_items + t. Once the sequence has run out
  // (the logged user left), or when no sequence matches, the most popular allowed item is
  // recommended instead. Masked items are never recommended (the fallback takes their place).
  torch::Tensor Act(const env::StepResult& r);

  int64_t replayed() const { return replayed_; }  // actions taken from the logs so far
  int64_t fallback() const { return fallback_; }  // actions from the popularity fallback

 private:
  const std::vector<data::Sequence>* seqs_;
  int64_t initial_items_;
  torch::Tensor popularity_;
  std::map<int64_t, std::vector<size_t>> by_user_;  // user -> indices into seqs_
  std::map<int64_t, int64_t> episode_seq_;          // episode id -> sequence index (-1: none)
  int64_t replayed_ = 0, fallback_ = 0;
};

}  // namespace recarena::policies
