// Resolves the `agent.dt` section of an online run into the agents::DtSetup a DtOnlineAgent is
// built from: the networks (fresh, or the best.pt of an offline `recarena train` decision-
// transformer run, after checking that its catalog and state length are the simulator's), the
// novel-item set and the per-episode target returns (a value, or a quantile of the logged returns).
#pragma once

#include <filesystem>
#include <vector>

#include "agents/dt_online.h"
#include "data/windows.h"
#include "env/simulator.h"
#include "experiments/train/online_config.h"

namespace recarena::experiments {

// cfg.agent.kind must be dt and cfg.agent.encoder.state_len the simulator's. init_from errors are
// FileErrors naming the run's file (missing config.yaml / best.pt, a model_kind that is not a
// decision transformer, another state_len, another catalog: the first item whose external id
// differs between the run's dataset and the simulator's).
agents::DtSetup ResolveDtSetup(const OnlineRunConfig& cfg, const env::Simulator& train_sim);

// The first-step returns (Algorithm 1: R_{1,acc} = window length, R_{1,nov} = long-tail actions
// among a_1..a_n, the target being a_n) of every window, and their quantile q (the value at rank
// ceil(q n), n >= 1). Throws recarena::Error when there are no windows.
struct LoggedReturnQuantiles {
  double accuracy = 0.0, novelty = 0.0;
  int64_t windows = 0;
};
LoggedReturnQuantiles FirstStepReturnQuantiles(const data::Windows& windows,
                                               const std::vector<uint8_t>& long_tail, double q);

}  // namespace recarena::experiments
