#include "agents/online_config.h"

#include <fmt/format.h>

#include <cmath>

#include "agents/a2c.h"
#include "agents/baseline_agents.h"
#include "agents/dqn.h"
#include "agents/pg.h"
#include "core/error.h"

namespace recarena::agents {
namespace {
template <class T>
[[noreturn]] void Bad(const std::string& key, const std::string& want, const T& got) {
  throw ConfigError("agent." + key,
                    "agent." + key + " must be " + want + ": got " + fmt::format("{}", got));
}
}  // namespace

void OnlineAgentOptions::Validate() const {
  encoder.Validate();
  if (!(lr > 0) || !std::isfinite(lr)) Bad("lr", "> 0", lr);
  if (!(gamma >= 0 && gamma <= 1)) Bad("gamma", "in [0, 1]", gamma);
  if (!(grad_clip >= 0)) Bad("grad_clip", ">= 0 (0 = off)", grad_clip);
  if (dqn.buffer_size < 1) Bad("dqn.buffer_size", ">= 1", dqn.buffer_size);
  if (dqn.batch_size < 1) Bad("dqn.batch_size", ">= 1", dqn.batch_size);
  if (dqn.learning_starts < 0) Bad("dqn.learning_starts", ">= 0", dqn.learning_starts);
  if (dqn.train_every < 1) Bad("dqn.train_every", ">= 1", dqn.train_every);
  if (dqn.updates_per_step < 1) Bad("dqn.updates_per_step", ">= 1", dqn.updates_per_step);
  if (dqn.target_every < 1) Bad("dqn.target_every", ">= 1", dqn.target_every);
  if (!(dqn.tau > 0 && dqn.tau <= 1)) Bad("dqn.tau", "in (0, 1]", dqn.tau);
  if (dqn.n_step < 1) Bad("dqn.n_step", ">= 1", dqn.n_step);
  if (dqn.learning_starts > dqn.buffer_size) {
    Bad("dqn.learning_starts", "<= agent.dqn.buffer_size (" + std::to_string(dqn.buffer_size) + ")",
        dqn.learning_starts);
  }
  if (pg.episodes_per_update < 1) Bad("pg.episodes_per_update", ">= 1", pg.episodes_per_update);
  if (a2c.rollout_len < 1) Bad("a2c.rollout_len", ">= 1", a2c.rollout_len);
  if (!(a2c.gae_lambda >= 0 && a2c.gae_lambda <= 1))
    Bad("a2c.gae_lambda", "in [0, 1]", a2c.gae_lambda);
  if (!(a2c.entropy_coef >= 0)) Bad("a2c.entropy_coef", ">= 0", a2c.entropy_coef);
  if (!(a2c.value_coef >= 0)) Bad("a2c.value_coef", ">= 0", a2c.value_coef);
}

std::unique_ptr<OnlineAgent> MakeOnlineAgent(const OnlineAgentOptions& options,
                                             const policies::ExplorationOptions& exploration,
                                             int64_t num_items, torch::Device device,
                                             const torch::Tensor& popularity,
                                             std::shared_ptr<const env::Simulator> oracle_sim) {
  options.Validate();
  exploration.Validate();
  switch (options.kind) {
    case OnlineAgentKind::kRandom:
      return std::make_unique<RandomAgent>(num_items);
    case OnlineAgentKind::kPopular:
      if (!popularity.defined()) throw Error("the popular agent needs item popularity");
      return std::make_unique<PopularAgent>(num_items, popularity.to(device));
    case OnlineAgentKind::kOracle:
      return std::make_unique<OracleAgent>(std::move(oracle_sim));
    case OnlineAgentKind::kDqn:
      return std::make_unique<DqnAgent>(options, exploration, num_items, device);
    case OnlineAgentKind::kPg:
      return std::make_unique<PgAgent>(options, exploration, num_items, device);
    case OnlineAgentKind::kA2c:
      return std::make_unique<A2cAgent>(options, exploration, num_items, device);
  }
  throw ConfigError("agent.kind", "unknown agent.kind");
}

}  // namespace recarena::agents
