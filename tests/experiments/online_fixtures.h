// Shared pieces of the online tests: a tiny synthetic simulator with a ground-truth role, fitted
// once per process, and a small online run config over it.
#pragma once

#include <filesystem>

#include "env/sim_fit.h"
#include "experiments/train/online_config.h"
#include "test_util.h"

namespace recarena::testing {

// 60 users, 30 items, 3 topics; SASRec hidden 8, state length 4, 2 epochs; episodes of at most 8
// steps; train, test and ground-truth eval roles.
inline const std::filesystem::path& TinyOnlineSim() {
  static TempDir* dir = new TempDir();  // lives to exit
  static bool fitted = false;
  if (!fitted) {
    env::SimFitConfig cfg;
    cfg.run.seed = 3;
    cfg.run.device = DeviceKind::kCpu;
    cfg.data.synthetic.num_users = 60;
    cfg.data.synthetic.num_items = 30;
    cfg.data.synthetic.num_topics = 3;
    cfg.sim.response.encoder.hidden = 8;
    cfg.sim.response.encoder.state_len = 4;
    cfg.sim.response.epochs = 2;
    cfg.sim.max_length = 8;
    cfg.sim.eval.kind = env::EvalSimKind::kGroundTruth;
    env::FitSimulator(cfg, dir->path());
    fitted = true;
  }
  return dir->path();
}

// 40 environment steps x 4 users, evaluated every 10 on 30 episodes.
inline experiments::OnlineRunConfig TinyOnlineConfig(agents::OnlineAgentKind kind) {
  experiments::OnlineRunConfig cfg;
  cfg.run.seed = 5;
  cfg.run.device = DeviceKind::kCpu;
  cfg.simulator.dir = TinyOnlineSim().string();
  cfg.agent.kind = kind;
  cfg.agent.encoder.hidden = 8;
  cfg.train.total_steps = 40;
  cfg.train.num_envs = 4;
  cfg.train.eval_every = 10;
  cfg.train.steps_per_epoch = 10;
  cfg.train.eval_episodes = 30;
  cfg.train.eval_num_envs = 8;
  return cfg;
}

}  // namespace recarena::testing
