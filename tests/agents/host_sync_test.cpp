// Guards the host synchronisations of the hot loops: VectorEnv::Step, exploration
// (Explorer::Select) and the agents' update steps. On CUDA every scalar read (.item()),
// data-dependent shape (nonzero) or device-to-host copy makes the host wait for the GPU; the
// budgets below are what each call needs today (docs/gpu.md explains each one), so a new sync in
// these paths fails the test. Scalar reads and data-dependent ops are counted on the CPU too;
// device copies only on CUDA (the [cuda] case).
#include <catch2/catch.hpp>

#include <torch/torch.h>

#include <memory>
#include <string>

#include "agents/a2c.h"
#include "agents/dqn.h"
#include "agents/host_sync_counter.h"
#include "agents/pg.h"
#include "agents/supervised.h"
#include "cuda_util.h"
#include "policies/exploration.h"
#include "toy_env.h"

using namespace recarena::agents;
using recarena::Rng;
using recarena::testing::HostSyncCounter;
using recarena::testing::HostSyncCounts;

namespace {

std::unique_ptr<OnlineAgent> Make(const std::string& kind, torch::Device device) {
  torch::manual_seed(1);
  const auto o = recarena::testing::ToyAgentOptions();
  const auto e = recarena::testing::ToyCategorical();
  if (kind == "dqn") return std::make_unique<DqnAgent>(o, e, 4, device, 5);
  if (kind == "pg") return std::make_unique<PgAgent>(o, e, 4, device);
  return std::make_unique<A2cAgent>(o, e, 4, device);
}

// The host syncs of the busiest env step, Select and update of `steps` runner-loop steps.
struct LoopCounts {
  HostSyncCounts step, select, update;
  int updates = 0;
};

LoopCounts RunLoop(const std::string& kind, torch::Device device, int steps) {
  auto agent = Make(kind, device);
  recarena::env::VectorEnvOptions vo;
  vo.num_envs = 16;
  vo.device = device;
  auto sim = recarena::testing::ToySimulator();
  sim->to(device);
  recarena::env::VectorEnv env(sim, vo);
  auto r = env.Reset(7);
  Rng rng(7);
  LoopCounts worst;
  auto keep_max = [](HostSyncCounts& w, const HostSyncCounts& c) {
    if (c.total() > w.total()) w = c;
  };
  for (int i = 0; i < steps; ++i) {
    recarena::policies::ActionSelection sel;
    {
      HostSyncCounter c;
      sel = agent->Act(r.observation, r.candidate_mask, /*explore=*/true, rng);
      keep_max(worst.select, c.counts());
    }
    recarena::env::StepResult next;
    {
      HostSyncCounter c;
      next = env.Step(sel.actions);
      keep_max(worst.step, c.counts());
    }
    const auto t = MakeTransition(r, sel.actions, next);
    {
      HostSyncCounter c;
      const auto m = agent->Observe(t);
      if (!m.empty()) {
        ++worst.updates;
        keep_max(worst.update, c.counts());
      }
    }
    r = next;
  }
  return worst;
}

}  // namespace

TEST_CASE("host syncs: the counter sees item(), nonzero() and nothing else", "[host_sync]") {
  const auto x = torch::arange(6, torch::kFloat);
  HostSyncCounter c;
  auto y = (x * 2 + 1).softmax(0);  // pure device work
  CHECK(c.counts().total() == 0);
  (void)y.sum().item<float>();
  (void)(y > 0.1).nonzero();
  CHECK(c.counts().scalar_reads == 1);
  CHECK(c.counts().data_dependent == 1);
}

TEST_CASE("host syncs: VectorEnv::Step, Select and updates stay within their budgets",
          "[host_sync]") {
  for (const std::string kind : {"dqn", "pg", "a2c"}) {
    INFO(kind);
    const auto w = RunLoop(kind, torch::kCPU, 30);
    INFO("step: " << w.step.str() << "; select: " << w.select.str()
                  << "; update: " << w.update.str());
    REQUIRE(w.updates > 0);
    // VectorEnv::Step: one scalar read (the check that every action is allowed, before the state
    // changes) besides the copy of the done flags; Select: one scalar read (the score check).
    CHECK(w.step.scalar_reads <= 1);
    CHECK(w.step.data_dependent == 0);
    CHECK(w.select.scalar_reads + w.select.data_dependent <= 1);
    // An update: its metrics reach the host in one read. DQN's replay buffer and n-step windows
    // live in host memory: its Observe copies each transition down and, on the host, checks it (2
    // reads), sizes its list of disallowed items (1 read), picks the finished n-step rows (1
    // nonzero) and checks the sampled indices (2 reads); those read host tensors, not the device
    // (the [cuda] case counts the copies).
    const int64_t host_side = kind == "dqn" ? 6 : 0;
    CHECK(w.update.scalar_reads + w.update.data_dependent <= 1 + host_side);
  }
}

TEST_CASE("host syncs: a supervised update reads its metrics once", "[host_sync]") {
  SupervisedOptions o;
  o.encoder.kind = recarena::models::EncoderKind::kSasRec;
  o.encoder.num_items = 20;
  o.encoder.hidden = 16;
  o.encoder.state_len = 4;
  o.grad_clip = 1.0;
  torch::manual_seed(2);
  SupervisedAgent agent(o, torch::kCPU);
  const SequenceBatch b{torch::randint(0, 20, {8, 4}, torch::kInt64),
                        torch::full({8}, 4, torch::kInt64),
                        torch::randint(0, 20, {8}, torch::kInt64)};
  HostSyncCounter c;
  agent.Update(b);
  INFO(c.counts().str());
  CHECK(c.counts().scalar_reads + c.counts().data_dependent <= 1);
}

TEST_CASE("host syncs on CUDA: device copies per step and update", "[host_sync][cuda]") {
  RECARENA_REQUIRE_CUDA();
  const torch::Device cuda(torch::kCUDA, 0);
  for (const std::string kind : {"dqn", "pg", "a2c"}) {
    INFO(kind);
    const auto w = RunLoop(kind, cuda, 30);
    INFO("step: " << w.step.str() << "; select: " << w.select.str()
                  << "; update: " << w.update.str());
    REQUIRE(w.updates > 0);
    // Step: the per-slot uniforms up (the episode RNG streams live on the host), the done flags
    // down, and, when episodes end, the new start states up (one copy per tensor).
    CHECK(w.step.scalar_reads <= 1);
    CHECK(w.step.data_dependent == 0);
    CHECK(w.step.device_copies <= 8);
    // Select: the score check (one read) and the exploration draws, made on the host from the
    // slots' RNG streams, going up (measured on an H200: 2 copies).
    CHECK(w.select.scalar_reads + w.select.data_dependent <= 1);
    CHECK(w.select.device_copies <= 2);
    const int64_t host_side = kind == "dqn" ? 5 : 0;
    CHECK(w.update.scalar_reads + w.update.data_dependent <= 1 + host_side);
  }
}
