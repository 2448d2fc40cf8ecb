// A perfect preference teacher (distill.teacher: oracle, docs/llm.md): it answers every choice
// query of `recarena llm distill` with the candidate of the highest true expected reward under a
// simulator role it is given (on the synthetic world, the ground-truth eval role: the world's own
// click model). It is the control that separates iALP's method from the quality of the LLM that
// feeds it: with it, D_LLM holds the preferences an ideal LLM would state.
#pragma once

#include <memory>
#include <vector>

#include "env/simulator.h"
#include "env/vector_env.h"
#include "experiments/train/llm_chooser.h"

namespace recarena::experiments {

// Histories (dense item ids, oldest first) -> an observation of their last L items, right-padded
// with `pad`; users [B] and step (all rows) as given. CPU tensors.
env::Observation HistoryObservation(const std::vector<std::vector<int64_t>>& histories,
                                    const std::vector<int64_t>& users, int64_t L, int64_t pad,
                                    int64_t step);

class OracleChooser : public RecordingChooser {
 public:
  // truth: the simulator role (loaded on the CPU) whose expected rewards are the truth. A query
  // whose best candidate's expected reward is below min_reward is answered "none".
  OracleChooser(std::shared_ptr<const env::Simulator> truth, double min_reward);
  std::vector<agents::ChoiceResult> Choose(const std::vector<agents::ChoiceQuery>& q) override;

 private:
  std::shared_ptr<const env::Simulator> truth_;
  double min_reward_;
};

}  // namespace recarena::experiments
