#include "experiments/report/conformal_online.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/config.h"
#include "core/error.h"
#include "core/rng.h"
#include "env/vector_env.h"
#include "experiments/train/offline_config.h"
#include "experiments/train/online_config.h"
#include "experiments/train/online_runner.h"

namespace recarena::experiments {

ConformalEvalReport EvaluateOnlineConformal(const std::filesystem::path& run_dir,
                                            const ConformalEvalOptions& options, int64_t episodes,
                                            int64_t max_queries) {
  if (episodes < 1) throw Error("conformal-eval: --episodes must be >= 1");
  auto run = LoadOnlineRun(run_dir);
  const auto& cfg = run.cfg;
  const auto& sim = *run.eval_sim;
  const auto& rcfg = sim.response->config();
  const int64_t N = sim.num_items;
  env::VectorEnvOptions vo;
  vo.num_envs = cfg.train.eval_num_envs;
  vo.mask_repeats = cfg.train.mask_repeats;
  vo.leave_enabled = cfg.train.leave_enabled;
  vo.device = run.device;
  env::VectorEnv venv(run.eval_sim, vo);
  Rng act_rng = Rng(cfg.run.seed).Fork(4);
  Rng label_rng = Rng(options.seed).Fork(7);
  std::vector<double> probs;  // row-major [queries x N]
  std::vector<int32_t> labels;
  std::vector<int64_t> activity;
  const int64_t cap = max_queries > 0 ? max_queries : std::numeric_limits<int64_t>::max();
  auto r = venv.Reset(MixSeed(cfg.run.seed, 999));
  int64_t finished = 0;
  while (finished < episodes && static_cast<int64_t>(labels.size()) < cap) {
    auto scores = run.agent->Scores(r.observation).to(torch::kDouble);
    auto mask = r.candidate_mask;
    auto p =
        torch::softmax(
            scores.masked_fill(mask.logical_not(), -std::numeric_limits<double>::infinity()), 1)
            .to(torch::kCPU)
            .contiguous();
    auto expected = sim.response
                        ->ExpectedAll(env::ResponseInput{
                            r.observation.items, r.observation.lengths, r.observation.users, {}})
                        .to(torch::kDouble);
    auto accept = rcfg.target == env::ResponseTarget::kClick
                      ? expected
                      : (expected >= rcfg.accept_threshold).to(torch::kDouble);
    accept = (accept * mask.to(torch::kDouble)).to(torch::kCPU).contiguous();
    auto steps = r.observation.step.to(torch::kCPU);
    const int64_t B = venv.num_envs();
    for (int64_t b = 0; b < B && static_cast<int64_t>(labels.size()) < cap; ++b) {
      if (r.episode_id[static_cast<size_t>(b)] >= episodes) continue;
      const double* w = accept.data_ptr<double>() + b * N;
      double total = 0.0;
      for (int64_t i = 0; i < N; ++i) total += w[i];
      const double u = label_rng.Uniform();  // drawn for every query, used or not
      if (!(total > 0.0)) continue;
      double acc = 0.0;
      int64_t y = N - 1;
      for (int64_t i = 0; i < N; ++i) {
        acc += w[i] / total;
        if (u < acc && w[i] > 0) {
          y = i;
          break;
        }
      }
      while (y > 0 && w[y] <= 0) --y;
      const double* row = p.data_ptr<double>() + b * N;
      probs.insert(probs.end(), row, row + N);
      labels.push_back(static_cast<int32_t>(y));
      activity.push_back(steps[b].item<int64_t>());
    }
    auto actions = run.agent->Act(r.observation, mask, cfg.train.eval_explore, act_rng).actions;
    env::StepResult before = r;
    r = venv.Step(actions);
    run.agent->Track(agents::MakeTransition(before, actions, r));
    for (size_t b = 0; b < r.info.final_episode_id.size(); ++b) {
      const auto e = r.info.final_episode_id[b];
      if (e >= 0 && e < episodes) ++finished;
    }
  }
  if (labels.size() < 2) {
    throw Error("conformal-eval: fewer than 2 decisions with an acceptable item in " +
                run_dir.string());
  }
  const auto n = labels.size();
  return EvaluateConformal(
      n, static_cast<size_t>(N), labels, activity, "step of the decision in its episode",
      [&](const std::vector<size_t>& queries, std::vector<double>* out) {
        out->resize(queries.size() * static_cast<size_t>(N));
        for (size_t q = 0; q < queries.size(); ++q) {
          std::copy(probs.begin() + static_cast<std::ptrdiff_t>(queries[q] * N),
                    probs.begin() + static_cast<std::ptrdiff_t>((queries[q] + 1) * N),
                    out->begin() + static_cast<std::ptrdiff_t>(q * N));
        }
      },
      options);
}

ConformalEvalReport EvaluateTrainedRunConformal(const std::filesystem::path& run_dir,
                                                ConformalEvalOptions options,
                                                std::optional<uint64_t> seed, int64_t episodes,
                                                int64_t max_queries) {
  if (options.params.k_reg < 0) throw Error("conformal-eval: --k-reg must be >= 0");
  if (!(options.params.lambda >= 0.0) || std::isinf(options.params.lambda))
    throw Error("conformal-eval: --lambda must be finite and >= 0");
  if (options.batch_size < 1) throw Error("conformal-eval: --batch-size must be >= 1");
  if (max_queries < 0) throw Error("conformal-eval: --max-queries must be >= 0");
  const bool online = std::filesystem::exists(run_dir / "checkpoint.pt");
  const auto config = run_dir / "config.yaml";
  if (seed) {
    options.seed = *seed;
  } else if (online) {
    options.seed = config::Load<OnlineRunConfig>(config).run.seed;
  } else if (std::filesystem::exists(config)) {
    options.seed = config::Load<OfflineTrainConfig>(config).run.seed;
  }
  return online ? EvaluateOnlineConformal(run_dir, options, episodes,
                                          max_queries > 0 ? max_queries : 4000)
                : EvaluateRunConformal(run_dir, options, max_queries);
}

}  // namespace recarena::experiments
