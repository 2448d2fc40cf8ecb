// Exploration strategies: how an online RL agent turns a score vector over the catalog into one
// recommended item per user.
//
// Every strategy is a distribution over the allowed items of each row, computed from the row's
// scores (policy logits or Q-values), the allowed-item mask and, for annealed strategies, the
// agent's step. See docs/exploration.md for the formulas.
//
// Input contract (Select and Probabilities):
//   scores [B, N] floating point, N = num_items; mask [B, N] bool (true = allowed); same device
//   (CPU or CUDA). Every row has at least one allowed item with a finite score; allowed scores may
//   be -inf (never chosen by the sampling kinds) but not NaN or +inf. Scores at masked items are
//   ignored whatever they are (NaN, +-inf, the row's largest). Violations throw recarena::Error.
//
// Greedy item of a row: the allowed item with the largest score; ties go to the smallest item id.
//
// Randomness contract: Select draws exactly two doubles per row from the Rng, in row order
// (u1 = rng.Uniform() then u2 = rng.Uniform() for row 0, then row 1, ...), for every kind (greedy
// and UCB too), so the stream does not depend on the kind. The draws are made on the host, put in a
// [B, 2] CPU tensor and moved to the scores' device; all sampling is then tensor ops (inverse CDF
// in double precision), so CPU and CUDA pick the same items for the same scores and Rng state.
// Nothing here touches LibTorch's global generator.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/config_schema.h"
#include "core/rng.h"

namespace recarena::policies {

enum class ScheduleKind { kConstant, kLinear, kExponential };

// A scalar annealed over agent steps. With s = min(max(step, 0), steps):
//   constant:    start (end and steps are unused)
//   linear:      start + (end - start) * s / steps  (reaches end at `steps`, stays there)
//   exponential: start * (end / start)^(s / steps)  (start and end must be > 0)
struct ScheduleOptions {
  ScheduleKind kind = ScheduleKind::kConstant;
  double start = 0.1;
  double end = 0.01;
  int64_t steps = 10000;

  template <class V>
  void Visit(V& v) {
    v("kind", kind);
    v("start", start);
    v("end", end);
    v("steps", steps);
  }
  // Checks finiteness, steps >= 1 and (exponential) start, end > 0; throws
  // ConfigError(path + ".<key>", message naming the value). Range limits that depend on what the
  // scalar means (an epsilon in [0, 1], a temperature > 0) are checked by the owner.
  void Validate(const std::string& path) const;
  double Value(int64_t step) const;
};

enum class ExplorationKind { kGreedy, kEpsilonGreedy, kCategorical, kBoltzmann, kTopK, kUcb };

// Config section `exploration`. All fields are validated whatever the kind.
struct ExplorationOptions {
  ExplorationKind kind = ExplorationKind::kEpsilonGreedy;
  // epsilon_greedy: with probability epsilon a uniformly random allowed item (the greedy one
  // included), else the greedy item. Values in [0, 1].
  ScheduleOptions epsilon;
  // categorical: softmax(scores / temperature) over the allowed items (scores are policy logits).
  // Also the temperature of top_k. > 0.
  double temperature = 1.0;
  // boltzmann: softmax(scores / T(step)) over Q-values with an annealed temperature. Values > 0.
  ScheduleOptions boltzmann_temperature{ScheduleKind::kExponential, 1.0, 0.05, 10000};
  // top_k: softmax(scores / temperature) restricted to the k best allowed items (ties at the k-th
  // score go to the smallest ids; all allowed items when fewer than k). >= 1.
  int64_t top_k = 10;
  // ucb: argmax over allowed items of score + ucb_coef * sqrt(log(total + 1) / (count[item] + 1)),
  // count = times the item was Observe()d, total = sum of counts. >= 0.
  double ucb_coef = 1.0;

  template <class V>
  void Visit(V& v) {
    v("kind", kind);
    v("epsilon", epsilon);
    v("temperature", temperature);
    v("boltzmann_temperature", boltzmann_temperature);
    v("top_k", top_k);
    v("ucb_coef", ucb_coef);
  }
  // Throws ConfigError("exploration.<key>", ...) naming the offending value.
  void Validate() const;
};

struct ActionSelection {
  torch::Tensor actions;  // [B] int64 on the scores' device; always an allowed item
  torch::Tensor greedy;   // [B] bool: actions[b] is row b's greedy item (argmax of the scores)
};

// A strategy plus its state (the UCB counts). Not thread-safe; one per agent.
class Explorer {
 public:
  // Validates options (ConfigError) and num_items >= 1 (recarena::Error).
  explicit Explorer(const ExplorationOptions& options, int64_t num_items);

  // One action per row (see the input and randomness contracts at the top of the file). step: the
  // agent's step, for the schedules. `greedy` compares with the argmax of the raw scores (for UCB
  // too: an action chosen for its bonus is not greedy). On CPU the rows are processed in chunks of
  // about 2^20 elements to bound memory; rows are independent, so results do not depend on it. A
  // call that throws leaves rng unchanged.
  ActionSelection Select(const torch::Tensor& scores, const torch::Tensor& mask, int64_t step,
                         Rng& rng);

  // The exact distribution Select samples from: [B, N] float on the scores' device, rows summing
  // to 1, 0 at masked items (greedy and ucb: one-hot at the chosen item).
  torch::Tensor Probabilities(const torch::Tensor& scores, const torch::Tensor& mask,
                              int64_t step) const;

  // UCB: adds one to count[a] for every entry a of actions (any shape, int64, any device; ids in
  // [0, num_items), else recarena::Error). Call once after each environment step with the actions
  // taken. A no-op for the other kinds (their counts stay 0).
  void Observe(const torch::Tensor& actions);

  // Checkpointing: writes / reads the counts as the tensor "explorer_counts" ([N] int64). Load
  // throws recarena::Error when the key is missing or its shape is not [num_items].
  void Save(torch::serialize::OutputArchive& archive) const;
  void Load(torch::serialize::InputArchive& archive);

  const ExplorationOptions& options() const { return options_; }
  int64_t num_items() const { return num_items_; }
  // [N] int64 CPU tensor: how often each item was Observe()d (UCB only).
  const torch::Tensor& counts() const { return counts_; }

 private:
  // What every call needs from the inputs (one pass over [B, N] each).
  struct Prepared {
    torch::Tensor masked;   // [B, N] scores' dtype: the scores, -inf at masked items
    torch::Tensor row_max;  // [B]: the greedy score of each row (finite)
    torch::Tensor greedy;   // [B] int64: the greedy item of each row
  };
  // The unnormalised softmax weights of the sampling kinds over a row's candidate items.
  struct Candidates {
    torch::Tensor weights;  // [B, M] double, exp((score - row max) / T), 0 at masked items
    torch::Tensor items;    // [B, M] int64 item ids in increasing order; undefined: M = N, all
  };
  // Throws recarena::Error for wrong shapes, dtypes or devices.
  void CheckShapes(const torch::Tensor& scores, const torch::Tensor& mask,
                   const char* caller) const;
  // Checks the values against the input contract (throws recarena::Error naming row0 + the bad
  // row; one host sync) and prepares a chunk of rows starting at row row0.
  Prepared Prepare(const torch::Tensor& scores, const torch::Tensor& mask, int64_t row0,
                   const char* caller) const;
  // [1, N] in the scores' dtype and device: the UCB bonus of every item.
  torch::Tensor UcbBonus(const torch::Tensor& scores) const;
  // The candidates and weights of categorical, boltzmann (all items) and top_k (k items).
  Candidates SoftmaxCandidates(const Prepared& p, int64_t step) const;
  // The epsilon of the epsilon-greedy schedule at step, clamped to [0, 1].
  double Epsilon(int64_t step) const;

  ExplorationOptions options_;
  int64_t num_items_;
  torch::Tensor counts_;  // [N] int64, CPU
};

}  // namespace recarena::policies

namespace recarena::config {
template <>
struct EnumNames<recarena::policies::ScheduleKind> {
  static const std::vector<std::pair<recarena::policies::ScheduleKind, std::string>>& Table() {
    using recarena::policies::ScheduleKind;
    static const std::vector<std::pair<ScheduleKind, std::string>> t = {
        {ScheduleKind::kConstant, "constant"},
        {ScheduleKind::kLinear, "linear"},
        {ScheduleKind::kExponential, "exponential"}};
    return t;
  }
};
template <>
struct EnumNames<recarena::policies::ExplorationKind> {
  static const std::vector<std::pair<recarena::policies::ExplorationKind, std::string>>& Table() {
    using recarena::policies::ExplorationKind;
    static const std::vector<std::pair<ExplorationKind, std::string>> t = {
        {ExplorationKind::kGreedy, "greedy"},
        {ExplorationKind::kEpsilonGreedy, "epsilon_greedy"},
        {ExplorationKind::kCategorical, "categorical"},
        {ExplorationKind::kBoltzmann, "boltzmann"},
        {ExplorationKind::kTopK, "top_k"},
        {ExplorationKind::kUcb, "ucb"}};
    return t;
  }
};
}  // namespace recarena::config
