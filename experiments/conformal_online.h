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

#include <filesystem>

#include "experiments/conformal_eval.h"

namespace recarena::experiments {

ConformalEvalReport EvaluateOnlineConformal(const std::filesystem::path& run_dir,
                                            const ConformalEvalOptions& options, int64_t episodes,
                                            int64_t max_queries);

}  // namespace recarena::experiments
