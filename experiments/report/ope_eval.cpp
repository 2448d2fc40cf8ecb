#include "experiments/report/ope_eval.h"

#include <fmt/format.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "core/config_schema.h"
#include "core/error.h"
#include "core/log.h"
#include "experiments/eval/offline_eval.h"
#include "experiments/train/offline_trainer.h"
#include "experiments/train/trained_run.h"

namespace recarena::experiments {

namespace fs = std::filesystem;

void OpeRunOptions::Validate() const {
  if (!(temperature > 0.0) || !std::isfinite(temperature)) {
    throw ConfigError("--temperature",
                      fmt::format("--temperature must be a positive number, got {}", temperature));
  }
  if (!(model_prior >= 0.0) || !std::isfinite(model_prior)) {
    throw ConfigError("--model-prior",
                      fmt::format("--model-prior must be >= 0, got {}", model_prior));
  }
  ope.Validate();
}

namespace {

// softmax(scores / temperature) [B, N] float64 on the CPU for the windows `rows` of w.
torch::Tensor Policy(agents::SupervisedAgent& agent, const data::Windows& w,
                     const std::vector<int64_t>& rows, double temperature) {
  auto [items, lengths] = WindowTensors(w, rows);
  const torch::Tensor s = agent.Scores(items, lengths).to(torch::kCPU, torch::kFloat64);
  return torch::softmax(s / temperature, 1);
}

// Each item's mean reward over the training windows, shrunk to the overall mean.
std::vector<double> ItemRewardModel(const data::Windows& train, const agents::RewardOptions& reward,
                                    int32_t num_items, double prior) {
  const torch::Tensor r =
      reward.Rewards(torch::tensor(train.values, torch::kFloat)).to(torch::kFloat64).contiguous();
  std::vector<double> sum(static_cast<size_t>(num_items), 0.0), n(sum.size(), 0.0);
  const double* pr = r.data_ptr<double>();
  double total = 0.0;
  for (size_t i = 0; i < train.size(); ++i) {
    sum[static_cast<size_t>(train.targets[i])] += pr[i];
    n[static_cast<size_t>(train.targets[i])] += 1.0;
    total += pr[i];
  }
  const double base = train.size() > 0 ? total / static_cast<double>(train.size()) : 0.0;
  std::vector<double> q(sum.size());
  for (size_t i = 0; i < q.size(); ++i)
    q[i] = n[i] + prior > 0.0 ? (sum[i] + prior * base) / (n[i] + prior) : base;
  return q;
}

// Add-one smoothed shares of the training windows' targets.
std::vector<double> PopularityBehaviour(const data::Windows& train, int32_t num_items) {
  std::vector<double> mu(static_cast<size_t>(num_items), 1.0);
  for (data::ItemId t : train.targets) mu[static_cast<size_t>(t)] += 1.0;
  const double z = static_cast<double>(train.size()) + num_items;
  for (double& x : mu) x /= z;
  return mu;
}

}  // namespace

OpeRunReport EvaluateRunOpe(const fs::path& run_dir, const OpeRunOptions& o) {
  o.Validate();
  LoadedWindowRun target = LoadWindowRun(run_dir, "eval ope");
  const OfflineData& od = target.od;
  LoadedWindowRun behaviour;
  if (!o.behaviour_run.empty()) {
    behaviour = LoadWindowRun(o.behaviour_run, "eval ope --behaviour-run");
    if (behaviour.od.num_items() != od.num_items() ||
        behaviour.od.test_w.size() != od.test_w.size()) {
      throw Error(fmt::format(
          "eval ope: the behaviour run {} was trained on other data ({} items, {} test windows) "
          "than {} ({} items, {} test windows)",
          o.behaviour_run.string(), behaviour.od.num_items(), behaviour.od.test_w.size(),
          run_dir.string(), od.num_items(), od.test_w.size()));
    }
  }
  const data::Windows& w = od.test_w;
  const std::vector<int64_t> rows =
      SelectRows(w, target.run.cfg.eval.protocol == EvalProtocol::kLast, o.max_queries);
  if (rows.empty()) throw Error(fmt::format("eval ope: {} has no test windows", run_dir.string()));
  const std::vector<double> qhat =
      ItemRewardModel(od.train_w, o.reward, od.num_items(), o.model_prior);
  const std::vector<double> pop = PopularityBehaviour(od.train_w, od.num_items());
  std::vector<float> values;
  for (int64_t r : rows) values.push_back(w.values[static_cast<size_t>(r)]);
  const torch::Tensor rewards =
      o.reward.Rewards(torch::tensor(values, torch::kFloat)).to(torch::kFloat64).contiguous();
  const torch::Tensor qt = torch::tensor(qhat, torch::kFloat64);

  std::vector<OpeSample> samples;
  const size_t kBatch = 256;
  for (size_t start = 0; start < rows.size(); start += kBatch) {
    const std::vector<int64_t> batch(
        rows.begin() + static_cast<std::ptrdiff_t>(start),
        rows.begin() + static_cast<std::ptrdiff_t>(std::min(rows.size(), start + kBatch)));
    const torch::Tensor pi = Policy(*target.agent, w, batch, o.temperature);
    const torch::Tensor mu =
        behaviour.agent ? Policy(*behaviour.agent, w, batch, 1.0) : torch::Tensor();
    const torch::Tensor dm = pi.matmul(qt).contiguous();
    for (size_t b = 0; b < batch.size(); ++b) {
      const auto a = static_cast<int64_t>(w.targets[static_cast<size_t>(batch[b])]);
      const auto bi = static_cast<int64_t>(b);
      OpeSample s;
      s.reward = rewards[static_cast<int64_t>(start + b)].item<double>();
      s.target = pi[bi][a].item<double>();
      s.behaviour = mu.defined() ? mu[bi][a].item<double>() : pop[static_cast<size_t>(a)];
      s.model_logged = qhat[static_cast<size_t>(a)];
      s.model_value = dm[bi].item<double>();
      samples.push_back(s);
    }
  }
  OpeRunReport rep;
  rep.run = run_dir.filename().string();
  rep.model_kind = config::EnumToString(target.run.cfg.model_kind);
  rep.behaviour = o.behaviour_run.empty() ? "popularity" : "run " + o.behaviour_run.string();
  rep.queries = static_cast<int64_t>(samples.size());
  rep.logged_mean_reward = rewards.mean().item<double>();
  rep.estimates = EstimatePolicyValue(samples, o.ope);
  log::Info("eval ope: {} test decisions, behaviour {}", rep.queries, rep.behaviour);
  return rep;
}

std::string OpeReportJson(const OpeRunReport& rep) {
  nlohmann::ordered_json j;
  j["run"] = rep.run;
  j["model_kind"] = rep.model_kind;
  j["behaviour"] = rep.behaviour;
  j["queries"] = rep.queries;
  j["logged_mean_reward"] = rep.logged_mean_reward;
  j["estimates"] = nlohmann::ordered_json::array();
  for (const auto& e : rep.estimates) {
    j["estimates"].push_back({{"estimator", e.estimator},
                              {"value", e.value},
                              {"std_error", e.std_error},
                              {"low", e.low},
                              {"high", e.high},
                              {"ess", e.ess},
                              {"max_weight", e.max_weight},
                              {"mean_weight", e.mean_weight},
                              {"n", e.n}});
  }
  return j.dump(2) + "\n";
}

}  // namespace recarena::experiments
