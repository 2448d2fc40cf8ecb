// Options of the online agents (config section `agent`) and their registry: one row per
// OnlineAgentKind (its YAML name, its factory, the check of its options section), from which the
// EnumNames table, OnlineAgentOptions::Validate and MakeOnlineAgent are derived. Adding an agent
// touches agents/foo.{h,cpp} (the agent, its MakeFooAgent and its FooOptions::Validate) and this
// file (the enumerator, the options section and the row); docs/extending.md.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "agents/dt_online.h"
#include "agents/modt4r.h"
#include "agents/online_agent.h"
#include "core/config_schema.h"
#include "env/simulator.h"
#include "models/encoder.h"
#include "policies/exploration.h"

namespace recarena::agents {

struct IalpSetup;  // agents/ialp.h

enum class OnlineAgentKind {
  kRandom,
  kPopular,
  kOracle,
  kDqn,
  kPg,
  kA2c,
  kDt,
  kIalp,
  kIalpFt,
  kIalpAp,
  kLlmOnline
};
enum class TargetUpdate { kHard, kPolyak };
enum class TdLoss { kMse, kHuber };
enum class A2cVariant {
  kThesis,    // thesis Eqs. 7.6-7.10: Q-critic trained by one-step TD; actor loss
              // -log pi(a|s) * (r + gamma max_a' Q(s', a') - Q(s, a)) (advantage detached)
  kStandard,  // V-critic, n-step rollouts with GAE(lambda), entropy bonus
};

struct DqnOptions {
  int64_t buffer_size = 50000;  // transitions kept (FIFO)
  int64_t batch_size = 64;
  int64_t learning_starts = 500;  // transitions stored before the first update
  int64_t train_every = 1;        // env steps (each stores B transitions) between update rounds
  int64_t updates_per_step = 1;   // gradient steps per update round
  TargetUpdate target_update = TargetUpdate::kHard;
  int64_t target_every = 200;  // hard: gradient steps between copies
  double tau = 0.005;          // polyak: target <- tau * online + (1 - tau) * target, per step
  bool double_q = true;        // a* = argmax_a Q_online(s', a), value from the target network
  int64_t n_step = 1;          // n-step returns (truncated at episode ends)
  TdLoss loss = TdLoss::kHuber;
  template <class V>
  void Visit(V& v) {
    v("buffer_size", buffer_size);
    v("batch_size", batch_size);
    v("learning_starts", learning_starts);
    v("train_every", train_every);
    v("updates_per_step", updates_per_step);
    v("target_update", target_update);
    v("target_every", target_every);
    v("tau", tau);
    v("double_q", double_q);
    v("n_step", n_step);
    v("loss", loss);
  }
  void Validate() const;  // ConfigError("agent.dqn.<key>", ...); defined in agents/dqn.cpp
};

struct PgOptions {
  bool baseline = true;              // learned state-value baseline V(s) (MSE to the return)
  bool normalize_returns = true;     // standardise returns over the update batch
  int64_t episodes_per_update = 16;  // finished episodes collected per REINFORCE update
  template <class V>
  void Visit(V& v) {
    v("baseline", baseline);
    v("normalize_returns", normalize_returns);
    v("episodes_per_update", episodes_per_update);
  }
  void Validate() const;  // ConfigError("agent.pg.<key>", ...); defined in agents/pg.cpp
};

struct A2cOptions {
  A2cVariant variant = A2cVariant::kStandard;
  int64_t rollout_len = 5;     // standard: env steps per update
  double gae_lambda = 0.95;    // standard
  double entropy_coef = 0.01;  // standard
  double value_coef = 0.5;     // critic loss weight (both variants)
  template <class V>
  void Visit(V& v) {
    v("variant", variant);
    v("rollout_len", rollout_len);
    v("gae_lambda", gae_lambda);
    v("entropy_coef", entropy_coef);
    v("value_coef", value_coef);
  }
  void Validate() const;  // ConfigError("agent.a2c.<key>", ...); defined in agents/a2c.cpp
};

// How a decision transformer's per-episode target returns are set (agents/dt_online.h).
enum class DtTargetKind {
  kValue,     // agent.dt.target.accuracy / novelty
  kQuantile,  // the target.quantile of the logged returns (see DtTargetOptions)
};

struct DtTargetOptions {
  DtTargetKind kind = DtTargetKind::kValue;
  double accuracy = 10.0;  // value: R_acc at the start of an episode, >= 1
  double novelty = 1.0;    // value: R_nov at the start of an episode, >= 0
  // quantile: of the first-step returns (Algorithm 1: window length, long-tail actions) of every
  // state_len-item window of the logged sequences the simulator was fitted on, in (0, 1].
  double quantile = 0.9;
  template <class V>
  void Visit(V& v) {
    v("kind", kind);
    v("accuracy", accuracy);
    v("novelty", novelty);
    v("quantile", quantile);
  }
};

// agent.kind dt: a MODT4R / MRDT decision transformer in the simulator (agents/dt_online.h,
// docs/decision_transformer.md "In the simulator").
struct DtOnlineOptions {
  models::TokenOrder order = models::TokenOrder::kModt4r;  // fresh networks only
  // A `recarena train` run (model_kind modt4r | mrdt) whose best.pt starts the agent: its
  // networks, options and optimizer state are used (agent.encoder, agent.lr, dt.order and
  // dt.transformer are then ignored). '' = fresh networks from agent.encoder + dt.transformer.
  std::string init_from;
  Modt4rOptions transformer;  // MoTrans architecture and beta (fresh networks only)
  double alpha = 1.0;         // Eq. 4.19 weight of the UserTrans scores (run-time, >= 0)
  double lambda = 1.0;        // diversity-return scale (run-time, >= 0)
  DtTargetOptions target;
  int64_t batch_size = 32;       // windows per online update
  int64_t train_every = 1;       // env steps between online updates; 0 = no online learning
  int64_t learning_starts = 16;  // consumed sequences stored before the first update
  int64_t buffer_size = 5000;    // consumed sequences kept
  template <class V>
  void Visit(V& v) {
    v("order", order);
    v("init_from", init_from);
    v("transformer", transformer);
    v("alpha", alpha);
    v("lambda", lambda);
    v("target", target);
    v("batch_size", batch_size);
    v("train_every", train_every);
    v("learning_starts", learning_starts);
    v("buffer_size", buffer_size);
  }
  void Validate() const;  // ConfigError("agent.dt.<key>", ...); defined in agents/dt_online.cpp
};

// How A-iALP_ap's learnable policy beta starts (agents/ialp.h).
enum class IalpBetaInit {
  kFresh,  // fresh parameters (thesis Sec. 7.5.4: "initialises randomly another learnable policy")
  kCopy,   // a copy of the distilled theta (thesis Alg. 6, line 2)
};
// How llm_online's actor proposes its k candidates while exploring (greedy evaluation: top k).
enum class CandidateSampling { kTopK, kSample };

// agent.kind ialp | ialp_ft | ialp_ap | llm_online: the iALP family of thesis Ch. 7 (agents/ialp.h,
// agents/llm_online.h, docs/llm.md). The networks are the thesis A2C's (agent.a2c.value_coef,
// agent.lr, agent.gamma and agent.grad_clip apply; agent.a2c.variant is thesis whatever it says).
struct IalpOptions {
  // A `recarena llm distill` run directory: theta = its agent.pt, and its agent.encoder replaces
  // this config's. '' = fresh networks from agent.encoder (llm_online without a warm start).
  std::string init_from;
  double alpha0 = 0.0;         // ialp_ap: alpha at step 0 (Eq. 7.14)
  int64_t alpha_steps = 1000;  // ialp_ap: environment steps over which alpha rises to 1
  IalpBetaInit beta_init = IalpBetaInit::kFresh;            // ialp_ap
  int64_t k = 10;                                           // llm_online: candidates per step
  CandidateSampling candidates = CandidateSampling::kTopK;  // llm_online, when exploring
  bool llm_in_eval = true;  // llm_online: the LLM also picks during evaluations
  template <class V>
  void Visit(V& v) {
    v("init_from", init_from);
    v("alpha0", alpha0);
    v("alpha_steps", alpha_steps);
    v("beta_init", beta_init);
    v("k", k);
    v("candidates", candidates);
    v("llm_in_eval", llm_in_eval);
  }
  void Validate() const;  // ConfigError("agent.ialp.<key>", ...); defined in agents/ialp.cpp
};

struct OnlineAgentOptions {
  OnlineAgentKind kind = OnlineAgentKind::kDqn;
  models::EncoderOptions encoder;  // state encoder over the observation's history
  double lr = 1e-3;
  double gamma = 0.9;
  double grad_clip = 10.0;  // max global L2 norm; 0 = off
  DqnOptions dqn;
  PgOptions pg;
  A2cOptions a2c;
  DtOnlineOptions dt;  // kind dt
  IalpOptions ialp;    // kinds ialp, ialp_ft, ialp_ap, llm_online
  template <class V>
  void Visit(V& v) {
    v("kind", kind);
    v("encoder", encoder);
    v("lr", lr);
    v("gamma", gamma);
    v("grad_clip", grad_clip);
    v("dqn", dqn);
    v("pg", pg);
    v("a2c", a2c);
    v("dt", dt);
    v("ialp", ialp);
  }
  void Validate() const;  // ConfigError("agent.<key>", ...)
};

// What a factory gets. options.encoder.num_items is set from num_items; encoder.state_len must
// equal the simulator's state_len. popularity [num_items] float (logged counts) is used by
// kPopular; oracle_sim (the simulator the agent is evaluated in) by kOracle; dt_setup (resolved by
// experiments/train/dt_setup.h from options.dt) by kDt. Parameters are initialised from LibTorch's
// global generator, seeded by the runner.
struct OnlineAgentContext {
  const OnlineAgentOptions& options;
  const policies::ExplorationOptions& exploration;
  int64_t num_items = 0;
  torch::Device device;
  const torch::Tensor& popularity;
  std::shared_ptr<const env::Simulator> oracle_sim;
  const DtSetup* dt_setup = nullptr;
  const IalpSetup* ialp_setup = nullptr;  // kinds ialp, ialp_ft, ialp_ap, llm_online
};

// The factories, each defined beside its agent.
std::unique_ptr<OnlineAgent> MakeRandomAgent(const OnlineAgentContext& c);    // baseline_agents.cpp
std::unique_ptr<OnlineAgent> MakePopularAgent(const OnlineAgentContext& c);   // baseline_agents.cpp
std::unique_ptr<OnlineAgent> MakeOracleAgent(const OnlineAgentContext& c);    // baseline_agents.cpp
std::unique_ptr<OnlineAgent> MakeDqnAgent(const OnlineAgentContext& c);       // dqn.cpp
std::unique_ptr<OnlineAgent> MakePgAgent(const OnlineAgentContext& c);        // pg.cpp
std::unique_ptr<OnlineAgent> MakeA2cAgent(const OnlineAgentContext& c);       // a2c.cpp
std::unique_ptr<OnlineAgent> MakeDtOnlineAgent(const OnlineAgentContext& c);  // dt_online.cpp
std::unique_ptr<OnlineAgent> MakeIalpAgent(const OnlineAgentContext& c);      // ialp.cpp
std::unique_ptr<OnlineAgent> MakeIalpFtAgent(const OnlineAgentContext& c);    // ialp.cpp
std::unique_ptr<OnlineAgent> MakeIalpApAgent(const OnlineAgentContext& c);    // ialp.cpp
std::unique_ptr<OnlineAgent> MakeLlmOnlineAgent(const OnlineAgentContext& c);  // llm_online.cpp

struct OnlineAgentRow {
  OnlineAgentKind kind;
  const char* name;  // agent.kind in YAML
  std::unique_ptr<OnlineAgent> (*make)(const OnlineAgentContext&);
  // Checks the agent's options section (every row's check runs on every config, so a bad value in
  // any section is an error); nullptr = no section.
  void (*validate)(const OnlineAgentOptions&);
  bool learns;  // false: a fixed baseline (the experiment grid runs it once, without exploration)
};

// Rows in the order of `agent.kind`'s documentation.
inline const std::vector<OnlineAgentRow>& OnlineAgentRegistry() {
  using K = OnlineAgentKind;
  using O = const OnlineAgentOptions&;
  static const std::vector<OnlineAgentRow> rows = {
      {K::kRandom, "random", &MakeRandomAgent, nullptr, false},
      {K::kPopular, "popular", &MakePopularAgent, nullptr, false},
      {K::kOracle, "oracle", &MakeOracleAgent, nullptr, false},
      {K::kDqn, "dqn", &MakeDqnAgent, [](O o) { o.dqn.Validate(); }, true},
      {K::kPg, "pg", &MakePgAgent, [](O o) { o.pg.Validate(); }, true},
      {K::kA2c, "a2c", &MakeA2cAgent, [](O o) { o.a2c.Validate(); }, true},
      // The transformer's options are checked only for kind dt (they are large and off otherwise).
      {K::kDt, "dt", &MakeDtOnlineAgent,
       [](O o) {
         if (o.kind == OnlineAgentKind::kDt) o.dt.Validate();
       },
       true},
      {K::kIalp, "ialp", &MakeIalpAgent, [](O o) { o.ialp.Validate(); }, false},
      {K::kIalpFt, "ialp_ft", &MakeIalpFtAgent, nullptr, true},
      {K::kIalpAp, "ialp_ap", &MakeIalpApAgent, nullptr, true},
      {K::kLlmOnline, "llm_online", &MakeLlmOnlineAgent, nullptr, true},
  };
  return rows;
}

// The row of kind (ConfigError("agent.kind") when there is none).
const OnlineAgentRow& OnlineAgentRowOf(OnlineAgentKind kind);

// Throws ConfigError("agent." + key, "agent.<key> must be <want>: got <got>").
[[noreturn]] void BadAgentOption(const std::string& key, const std::string& want, double got);
[[noreturn]] void BadAgentOption(const std::string& key, const std::string& want, int64_t got);

// Validates options and exploration, then builds the agent of options.kind through its row.
std::unique_ptr<OnlineAgent> MakeOnlineAgent(const OnlineAgentOptions& options,
                                             const policies::ExplorationOptions& exploration,
                                             int64_t num_items, torch::Device device,
                                             const torch::Tensor& popularity = {},
                                             std::shared_ptr<const env::Simulator> oracle_sim = {},
                                             const DtSetup* dt_setup = nullptr,
                                             const IalpSetup* ialp_setup = nullptr);

}  // namespace recarena::agents

namespace recarena::config {
template <>
struct EnumNames<agents::OnlineAgentKind> {
  static const std::vector<std::pair<agents::OnlineAgentKind, std::string>>& Table() {
    static const auto t = [] {
      std::vector<std::pair<agents::OnlineAgentKind, std::string>> v;
      for (const auto& row : agents::OnlineAgentRegistry()) v.emplace_back(row.kind, row.name);
      return v;
    }();
    return t;
  }
};
template <>
struct EnumNames<agents::IalpBetaInit> {
  static const std::vector<std::pair<agents::IalpBetaInit, std::string>>& Table() {
    static const std::vector<std::pair<agents::IalpBetaInit, std::string>> t = {
        {agents::IalpBetaInit::kFresh, "fresh"}, {agents::IalpBetaInit::kCopy, "copy"}};
    return t;
  }
};
template <>
struct EnumNames<agents::CandidateSampling> {
  static const std::vector<std::pair<agents::CandidateSampling, std::string>>& Table() {
    static const std::vector<std::pair<agents::CandidateSampling, std::string>> t = {
        {agents::CandidateSampling::kTopK, "topk"}, {agents::CandidateSampling::kSample, "sample"}};
    return t;
  }
};
template <>
struct EnumNames<agents::DtTargetKind> {
  static const std::vector<std::pair<agents::DtTargetKind, std::string>>& Table() {
    static const std::vector<std::pair<agents::DtTargetKind, std::string>> t = {
        {agents::DtTargetKind::kValue, "value"}, {agents::DtTargetKind::kQuantile, "quantile"}};
    return t;
  }
};
template <>
struct EnumNames<agents::TargetUpdate> {
  static const std::vector<std::pair<agents::TargetUpdate, std::string>>& Table() {
    static const std::vector<std::pair<agents::TargetUpdate, std::string>> t = {
        {agents::TargetUpdate::kHard, "hard"}, {agents::TargetUpdate::kPolyak, "polyak"}};
    return t;
  }
};
template <>
struct EnumNames<agents::TdLoss> {
  static const std::vector<std::pair<agents::TdLoss, std::string>>& Table() {
    static const std::vector<std::pair<agents::TdLoss, std::string>> t = {
        {agents::TdLoss::kMse, "mse"}, {agents::TdLoss::kHuber, "huber"}};
    return t;
  }
};
template <>
struct EnumNames<agents::A2cVariant> {
  static const std::vector<std::pair<agents::A2cVariant, std::string>>& Table() {
    static const std::vector<std::pair<agents::A2cVariant, std::string>> t = {
        {agents::A2cVariant::kThesis, "thesis"}, {agents::A2cVariant::kStandard, "standard"}};
    return t;
  }
};
}  // namespace recarena::config
