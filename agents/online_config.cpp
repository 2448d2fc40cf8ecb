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
  if (kind == OnlineAgentKind::kDt) {
    try {
      dt.transformer.Validate();
    } catch (const ConfigError& e) {
      // Modt4rOptions names its keys "dt.<key>" (the offline section); here they live deeper.
      const std::string key = "agent.dt.transformer." + e.path().substr(e.path().find('.') + 1);
      std::string msg = e.what();
      const std::string prefix = e.path() + " ";
      if (msg.rfind(prefix, 0) == 0) msg = key + " " + msg.substr(prefix.size());
      throw ConfigError(key, msg);
    }
    if (!(dt.alpha >= 0)) Bad("dt.alpha", ">= 0", dt.alpha);
    if (!(dt.lambda >= 0)) Bad("dt.lambda", ">= 0", dt.lambda);
    if (!(dt.target.accuracy >= 1)) Bad("dt.target.accuracy", ">= 1", dt.target.accuracy);
    if (!(dt.target.novelty >= 0)) Bad("dt.target.novelty", ">= 0", dt.target.novelty);
    if (!(dt.target.quantile > 0 && dt.target.quantile <= 1))
      Bad("dt.target.quantile", "in (0, 1]", dt.target.quantile);
    if (dt.batch_size < 1) Bad("dt.batch_size", ">= 1", dt.batch_size);
    if (dt.train_every < 0) Bad("dt.train_every", ">= 0 (0 = no online learning)", dt.train_every);
    if (dt.learning_starts < 1) Bad("dt.learning_starts", ">= 1", dt.learning_starts);
    if (dt.buffer_size < 1) Bad("dt.buffer_size", ">= 1", dt.buffer_size);
  }
}

std::unique_ptr<OnlineAgent> MakeOnlineAgent(const OnlineAgentOptions& options,
                                             const policies::ExplorationOptions& exploration,
                                             int64_t num_items, torch::Device device,
                                             const torch::Tensor& popularity,
                                             std::shared_ptr<const env::Simulator> oracle_sim,
                                             const DtSetup* dt_setup) {
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
    case OnlineAgentKind::kDt:
      if (dt_setup == nullptr) {
        throw Error("agent.kind dt needs its resolved setup (experiments::ResolveDtSetup)");
      }
      return std::make_unique<DtOnlineAgent>(*dt_setup, exploration, num_items, device);
  }
  throw ConfigError("agent.kind", "unknown agent.kind");
}

}  // namespace recarena::agents
