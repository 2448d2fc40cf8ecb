#include "experiments/sim_report.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "agents/baseline_policies.h"
#include "core/atomic_file.h"
#include "core/config.h"
#include "core/device.h"
#include "env/sim_fit.h"
#include "env/vector_env.h"
#include "experiments/rollout.h"

namespace recarena::experiments {
namespace {

double Pearson(const std::vector<double>& x, const std::vector<double>& y) {
  const double n = static_cast<double>(x.size());
  if (x.size() < 2) return std::nan("");
  const double mx = std::accumulate(x.begin(), x.end(), 0.0) / n;
  const double my = std::accumulate(y.begin(), y.end(), 0.0) / n;
  double sxy = 0, sxx = 0, syy = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) * (x[i] - mx);
    syy += (y[i] - my) * (y[i] - my);
  }
  return (sxx > 0 && syy > 0) ? sxy / std::sqrt(sxx * syy) : std::nan("");
}

// Share of all consumptions that fall on the 10% most-consumed items.
double TopShare(const std::vector<int64_t>& counts) {
  std::vector<int64_t> c(counts);
  std::sort(c.rbegin(), c.rend());
  const double total = static_cast<double>(std::accumulate(c.begin(), c.end(), int64_t{0}));
  if (total == 0) return std::nan("");
  const size_t k = std::max<size_t>(1, (c.size() + 9) / 10);
  return static_cast<double>(
             std::accumulate(c.begin(), c.begin() + static_cast<std::ptrdiff_t>(k), int64_t{0})) /
         total;
}

nlohmann::json CiJson(const MeanCi& s) {
  return {{"mean", s.mean}, {"ci95", {s.lo, s.hi}}, {"n", s.n}};
}

nlohmann::json Num(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(); }

}  // namespace

double RocAuc(const std::vector<float>& scores, const std::vector<uint8_t>& labels) {
  std::vector<size_t> idx(scores.size());
  std::iota(idx.begin(), idx.end(), 0);
  std::sort(idx.begin(), idx.end(), [&](size_t a, size_t b) { return scores[a] < scores[b]; });
  double rank_sum = 0.0, pos = 0.0;
  for (size_t i = 0; i < idx.size();) {
    size_t j = i;
    while (j < idx.size() && scores[idx[j]] == scores[idx[i]]) ++j;
    const double avg_rank = (static_cast<double>(i) + static_cast<double>(j) + 1.0) / 2.0;
    for (size_t k = i; k < j; ++k) {
      if (labels[idx[k]]) {
        rank_sum += avg_rank;
        pos += 1.0;
      }
    }
    i = j;
  }
  const double neg = static_cast<double>(scores.size()) - pos;
  if (pos == 0 || neg == 0) return std::nan("");
  return (rank_sum - pos * (pos + 1.0) / 2.0) / (pos * neg);
}

nlohmann::json SimReport(const std::filesystem::path& dir, const SimReportOptions& options) {
  const auto roles = env::FittedRoles(dir);  // first: "not a fitted simulator" beats a missing file
  const auto cfg = config::Load<env::SimFitConfig>(dir / "config.yaml");
  const auto data = env::BuildSimData(cfg);
  const auto device = ResolveDevice(cfg.run.device);
  nlohmann::json report;
  report["dir"] = dir.string();
  report["dataset"] = data.prepared.dataset.name;
  report["num_items"] = data.prepared.dataset.items.size();
  report["train_users"] = data.train_users.size();
  report["test_users"] = data.test_users.size();
  report["response"] = config::EnumToString(cfg.sim.response.kind) + "/" +
                       config::EnumToString(cfg.sim.response.target);
  for (env::SimRole role : roles) {
    auto sim = env::LoadSimulator(dir, role, device);
    const auto& rcfg = sim->response->config();
    nlohmann::json rj;
    // Held-out response quality.
    const auto& held =
        data.sequences.at(role == env::SimRole::kTest ? env::SimRole::kTrain : env::SimRole::kTest);
    // Click targets: logged next items (positive) against sampled ones. Rating targets: the
    // logged ratings only, positive = rating >= accept_threshold (does the model rank liked items
    // above disliked ones), RMSE over them.
    const bool rating = rcfg.target == env::ResponseTarget::kRating;
    auto row_cfg = rcfg;
    row_cfg.kind = cfg.sim.response.kind;
    row_cfg.negatives = rating ? 0 : std::max<int64_t>(1, row_cfg.negatives);
    Rng rng = Rng(cfg.run.seed).Fork(50);
    auto rows = env::MakeResponseRows(held, row_cfg, sim->num_items, sim->state_len, rng);
    const int64_t n = std::min<int64_t>(static_cast<int64_t>(rows.size()), options.max_rows);
    std::vector<float> pred(static_cast<size_t>(n)), label(static_cast<size_t>(n));
    std::vector<uint8_t> positive(static_cast<size_t>(n));
    const int64_t L = sim->state_len;
    for (int64_t b0 = 0; b0 < n; b0 += 4096) {
      const int64_t b1 = std::min(n, b0 + 4096), m = b1 - b0;
      auto slice = [&](const std::vector<int64_t>& v, int64_t width) {
        return torch::tensor(std::vector<int64_t>(v.begin() + b0 * width, v.begin() + b1 * width))
            .to(device);
      };
      env::ResponseInput in{slice(rows.items, L).view({m, L}), slice(rows.lengths, 1),
                            slice(rows.users, 1), slice(rows.actions, 1)};
      auto p = sim->response->Expected(in).to(torch::kCPU).contiguous();
      std::copy(p.data_ptr<float>(), p.data_ptr<float>() + m, pred.begin() + b0);
    }
    // A row is a logged positive when it is the first of its group (1 + negatives rows).
    const int64_t group = 1 + row_cfg.negatives;
    double se = 0.0;
    int64_t n_pos = 0;
    const double lo = rcfg.reward_min, span = rcfg.reward_max - rcfg.reward_min;
    for (int64_t i = 0; i < n; ++i) {
      const double target = rows.targets[static_cast<size_t>(i)];
      positive[static_cast<size_t>(i)] = rating ? target >= rcfg.accept_threshold : i % group == 0;
      label[static_cast<size_t>(i)] = static_cast<float>(
          rcfg.target == env::ResponseTarget::kClick ? target : (target - lo) / span);
      if (rating || i % group == 0) {
        se += (pred[static_cast<size_t>(i)] - target) * (pred[static_cast<size_t>(i)] - target);
        ++n_pos;
      }
    }
    rj["heldout_rows"] = n;
    rj["heldout_auc"] = Num(RocAuc(pred, positive));
    if (rcfg.target == env::ResponseTarget::kRating && n_pos > 0) {
      rj["heldout_rmse"] = std::sqrt(se / static_cast<double>(n_pos));
    }
    nlohmann::json calib = nlohmann::json::array();
    std::vector<double> psum(10, 0.0), ysum(10, 0.0);
    std::vector<int64_t> cnt(10, 0);
    for (int64_t i = 0; i < n; ++i) {
      const double p = (pred[static_cast<size_t>(i)] - lo) / span;
      const auto bin = static_cast<size_t>(std::clamp(static_cast<int>(p * 10.0), 0, 9));
      psum[bin] += p;
      ysum[bin] += label[static_cast<size_t>(i)];
      ++cnt[bin];
    }
    for (size_t bin = 0; bin < 10; ++bin) {
      if (cnt[bin] == 0) continue;
      calib.push_back({{"bin", fmt::format("[{:.1f}, {:.1f})", bin / 10.0, (bin + 1) / 10.0)},
                       {"rows", cnt[bin]},
                       {"mean_predicted", psum[bin] / static_cast<double>(cnt[bin])},
                       {"mean_observed", ysum[bin] / static_cast<double>(cnt[bin])}});
    }
    rj["calibration"] = calib;

    // Rollouts.
    env::VectorEnvOptions vo;
    vo.num_envs = options.num_envs;
    vo.device = device;
    env::VectorEnv venv(sim, vo);
    Rng policy_rng = Rng(cfg.run.seed).Fork(51);
    auto random_stats = RunEpisodes(
        venv,
        [&](const env::StepResult& r) {
          return agents::RandomActions(r.candidate_mask, policy_rng);
        },
        options.episodes, cfg.run.seed);
    auto popularity = torch::tensor(sim->logged_item_counts).to(torch::kFloat);
    auto popular_stats = RunEpisodes(
        venv,
        [&](const env::StepResult& r) {
          return agents::PopularActions(r.candidate_mask, popularity);
        },
        options.episodes, cfg.run.seed);
    auto rollout_json = [](const EpisodeStats& s) {
      return nlohmann::json{{"return", CiJson(Summarize(s.returns))},
                            {"length", CiJson(Summarize(s.lengths))},
                            {"avg_reward", CiJson(Summarize(s.avg_rewards))},
                            {"terminated", s.terminated},
                            {"truncated", s.truncated}};
    };
    rj["rollout_random"] = rollout_json(random_stats);
    rj["rollout_popular"] = rollout_json(popular_stats);

    std::vector<int64_t> sim_lengths;
    for (double l : random_stats.lengths) sim_lengths.push_back(static_cast<int64_t>(l));
    std::vector<int64_t> logged_capped;
    for (auto l : sim->logged_session_lengths)
      logged_capped.push_back(std::min(l, cfg.sim.max_length));
    std::vector<double> logged_d(logged_capped.begin(), logged_capped.end());
    rj["length_ks"] = env::KsDistance(sim_lengths, logged_capped);
    rj["length_logged_mean"] = Summarize(logged_d).mean;
    rj["length_simulated_mean"] = Summarize(random_stats.lengths).mean;
    rj["top10_share_logged"] = Num(TopShare(sim->logged_item_counts));
    rj["top10_share_simulated"] = Num(TopShare(random_stats.consumed_counts));
    std::vector<double> lx, ly;
    for (size_t i = 0; i < sim->logged_item_counts.size(); ++i) {
      lx.push_back(std::log1p(static_cast<double>(sim->logged_item_counts[i])));
      ly.push_back(std::log1p(static_cast<double>(random_stats.consumed_counts[i])));
    }
    rj["popularity_corr"] = Num(Pearson(lx, ly));

    // Learned vs true affinities on the synthetic world.
    if (data.prepared.truth && !sim->ground_truth) {
      const auto& truth = *data.prepared.truth;
      const size_t m = std::min<size_t>(sim->starts.size(), 200);
      double sum = 0.0;
      int64_t used = 0;
      for (size_t s0 = 0; s0 < m; s0 += 50) {
        const size_t s1 = std::min(m, s0 + 50);
        const int64_t k = static_cast<int64_t>(s1 - s0);
        auto items = torch::full({k, L}, sim->num_items, torch::kInt64);
        auto lens = torch::empty({k}, torch::kInt64), users = torch::empty({k}, torch::kInt64);
        for (size_t s = s0; s < s1; ++s) {
          const auto& st = sim->starts[s];
          const auto r = static_cast<int64_t>(s - s0);
          const int64_t keep = std::min<int64_t>(L, static_cast<int64_t>(st.items.size()));
          for (int64_t j = 0; j < keep; ++j) items[r][j] = st.items[st.items.size() - keep + j];
          lens[r] = keep;
          users[r] = st.user;
        }
        env::ResponseInput in{items.to(device), lens.to(device), users.to(device), {}};
        auto all = sim->response->ExpectedAll(in).to(torch::kCPU, torch::kDouble);
        for (int64_t r = 0; r < k; ++r) {
          std::vector<double> x(static_cast<size_t>(sim->num_items)),
              y = truth.UserUtilities(static_cast<env::UserId>(users[r].item<int64_t>()));
          for (int64_t i = 0; i < sim->num_items; ++i)
            x[static_cast<size_t>(i)] = all[r][i].item<double>();
          const double c = Pearson(x, y);
          if (std::isfinite(c)) {
            sum += c;
            ++used;
          }
        }
      }
      if (used > 0) rj["truth_corr"] = sum / static_cast<double>(used);
    }
    report["roles"][env::RoleName(role)] = rj;
  }
  WriteFileAtomic(dir / "report.json", report.dump(2) + "\n");
  WriteFileAtomic(dir / "report.md", SimReportMarkdown(report));
  return report;
}

std::string SimReportMarkdown(const nlohmann::json& report) {
  auto f = [](const nlohmann::json& v, const char* spec = "{:.3f}") {
    return v.is_number() ? fmt::format(fmt::runtime(spec), v.get<double>()) : std::string("n/a");
  };
  auto ci = [&](const nlohmann::json& v) {
    return fmt::format("{:.3f} [{:.3f}, {:.3f}]", v["mean"].get<double>(),
                       v["ci95"][0].get<double>(), v["ci95"][1].get<double>());
  };
  std::string md =
      fmt::format("# Simulator fidelity: {}\n\n", report["dataset"].get<std::string>());
  md += fmt::format("Response model: {}. Items: {}. Users: {} train / {} test.\n\n",
                    report["response"].get<std::string>(), report["num_items"].get<int64_t>(),
                    report["train_users"].get<int64_t>(), report["test_users"].get<int64_t>());
  md +=
      "| role | held-out AUC | held-out RMSE | length KS | mean length logged / simulated | "
      "top-10% share logged / simulated | popularity corr | truth corr |\n";
  md += "|---|---|---|---|---|---|---|---|\n";
  for (const auto& [role, r] : report["roles"].items()) {
    md += fmt::format(
        "| {} | {} | {} | {} | {} / {} | {} / {} | {} | {} |\n", role, f(r["heldout_auc"]),
        r.contains("heldout_rmse") ? f(r["heldout_rmse"]) : "n/a", f(r["length_ks"]),
        f(r["length_logged_mean"], "{:.2f}"), f(r["length_simulated_mean"], "{:.2f}"),
        f(r["top10_share_logged"]), f(r["top10_share_simulated"]), f(r["popularity_corr"]),
        r.contains("truth_corr") ? f(r["truth_corr"]) : "n/a");
  }
  md +=
      "\n## Rollouts (mean [95% interval])\n\n| role | policy | Return | Length | R_avg "
      "|\n|---|---|---|---|---|\n";
  for (const auto& [role, r] : report["roles"].items()) {
    for (const char* pol : {"random", "popular"}) {
      const auto& x = r[std::string("rollout_") + pol];
      md += fmt::format("| {} | {} | {} | {} | {} |\n", role, pol, ci(x["return"]), ci(x["length"]),
                        ci(x["avg_reward"]));
    }
  }
  md += "\n## Calibration (held-out rows)\n\n";
  for (const auto& [role, r] : report["roles"].items()) {
    md += fmt::format(
        "**{}**\n\n| predicted bin | rows | mean predicted | mean observed |\n|---|---|---|---|\n",
        role);
    for (const auto& b : r["calibration"]) {
      md += fmt::format("| {} | {} | {:.3f} | {:.3f} |\n", b["bin"].get<std::string>(),
                        b["rows"].get<int64_t>(), b["mean_predicted"].get<double>(),
                        b["mean_observed"].get<double>());
    }
    md += "\n";
  }
  return md;
}

}  // namespace recarena::experiments
