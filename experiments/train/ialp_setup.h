// Resolves the `agent.ialp` section of an online run into the agents::IalpSetup the iALP agents
// are built from: the distilled policy of agent.ialp.init_from (a `recarena llm distill` run:
// its agent.pt and its agent.encoder, after checking that it was distilled over this simulator's
// catalog and state length), and for llm_online the LLM chooser (the run's llm: and prompt:
// sections over the simulator's item texts).
#pragma once

#include <optional>

#include "agents/ialp.h"
#include "env/simulator.h"
#include "experiments/train/online_config.h"

namespace recarena::experiments {

// nullopt unless cfg.agent.kind is ialp, ialp_ft, ialp_ap or llm_online. FileErrors name the
// distill run's file: no config.yaml or agent.pt, another catalog size or state length.
std::optional<agents::IalpSetup> ResolveIalpSetup(const OnlineRunConfig& cfg,
                                                  const env::Simulator& train_sim);

}  // namespace recarena::experiments
