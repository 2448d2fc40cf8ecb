// Conformal item sets for online agents in the simulator (issue 7, agent part).
//
// Queries are the decisions of the agent's evaluation policy on simulated test episodes (the run's
// eval role, episodes 0..n-1 of seed MixSeed(run.seed, 999), as in its evaluations). At each
// decision the agent's probabilities are the softmax of its Scores (Q-values or policy logits) over
// the allowed items, and the label is an item the simulated user accepts there: drawn from the
// simulator's acceptance over the allowed items (click targets: proportional to P(click); rating
// targets: uniform over items whose expected rating is >= accept_threshold; decisions where no item
// would be accepted are skipped). Activity = the step of the decision in its episode. Then the
// model-independent EvaluateConformal (docs/conformal.md) builds and scores the sets.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>

#include "experiments/report/conformal_eval.h"

namespace recarena::experiments {

ConformalEvalReport EvaluateOnlineConformal(const std::filesystem::path& run_dir,
                                            const ConformalEvalOptions& options, int64_t episodes,
                                            int64_t max_queries);

// What `recarena conformal-eval RUN_DIR` computes. An online run (RUN_DIR/checkpoint.pt, written
// by `recarena online`) is evaluated on its agent's decisions in the simulator
// (EvaluateOnlineConformal over `episodes` episodes, at most max_queries decisions, 4000 when
// max_queries is 0); an offline run (`recarena train`) on its test windows (EvaluateRunConformal).
// seed unset: the run's run.seed. Throws Error naming the option when k_reg < 0, lambda is negative
// or not finite, batch_size < 1 or max_queries < 0.
ConformalEvalReport EvaluateTrainedRunConformal(const std::filesystem::path& run_dir,
                                                ConformalEvalOptions options,
                                                std::optional<uint64_t> seed, int64_t episodes,
                                                int64_t max_queries);

}  // namespace recarena::experiments
