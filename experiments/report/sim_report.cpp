#include "experiments/report/sim_report.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/atomic_file.h"
#include "core/config.h"
#include "env/sim_fit.h"
#include "env/truth_fidelity.h"
#include "env/vector_env.h"
#include "experiments/eval/rollout.h"
#include "experiments/report/sim_heldout.h"
#include "models/device.h"
#include "policies/baseline_policies.h"
#include "policies/logged_replay.h"

namespace recarena::experiments {
namespace {

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

nlohmann::json SimReport(const std::filesystem::path& dir, const SimReportOptions& options) {
  const auto roles = env::FittedRoles(dir);  // first: "not a fitted simulator" beats a missing file
  const auto cfg = config::Load<env::SimFitConfig>(dir / "config.yaml");
  const auto data = env::BuildSimData(cfg);
  const auto device = models::ResolveDevice(cfg.run.device);
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
    nlohmann::json rj;
    // Held-out response quality, against the reference models.
    const auto heldout = HeldoutQuality(*sim, data, role, cfg, device, options.max_rows);
    for (const auto& [key, value] : heldout.items()) rj[key] = value;
    const auto random_exposure = RandomExposureQuality(*sim, data, role, cfg, device);
    if (!random_exposure.is_null()) rj["random_exposure"] = random_exposure;

    // Rollouts.
    env::VectorEnvOptions vo;
    vo.num_envs = options.num_envs;
    vo.device = device;
    env::VectorEnv venv(sim, vo);
    Rng policy_rng = Rng(cfg.run.seed).Fork(51);
    auto random_stats = RunEpisodes(
        venv,
        [&](const env::StepResult& r) {
          return policies::RandomActions(r.candidate_mask, policy_rng);
        },
        options.episodes, cfg.run.seed);
    auto popularity = torch::tensor(sim->logged_item_counts).to(torch::kFloat);
    auto popular_stats = RunEpisodes(
        venv,
        [&](const env::StepResult& r) {
          return policies::PopularActions(r.candidate_mask, popularity);
        },
        options.episodes, cfg.run.seed);
    auto rollout_json = [](const EpisodeStats& s) {
      return nlohmann::json{{"return", CiJson(Summarize(s.returns))},
                            {"length", CiJson(Summarize(s.lengths))},
                            {"avg_reward", CiJson(Summarize(s.avg_rewards))},
                            {"terminated", s.terminated},
                            {"truncated", s.truncated}};
    };
    auto oracle_stats = RunEpisodes(
        venv,
        [&](const env::StepResult& r) { return policies::OracleActions(venv, r.candidate_mask); },
        options.episodes, cfg.run.seed);
    // The logged policy replayed: what the role's users went on to consume after their start items.
    policies::LoggedReplay replay(data.sequences.at(role), cfg.sim.initial_items, popularity);
    auto logged_stats = RunEpisodes(
        venv, [&](const env::StepResult& r) { return replay.Act(r); }, options.episodes,
        cfg.run.seed);
    rj["rollout_random"] = rollout_json(random_stats);
    rj["rollout_popular"] = rollout_json(popular_stats);
    rj["rollout_oracle"] = rollout_json(oracle_stats);
    rj["rollout_logged"] = rollout_json(logged_stats);
    rj["replay_share"] =
        Num(static_cast<double>(replay.replayed()) /
            static_cast<double>(std::max<int64_t>(1, replay.replayed() + replay.fallback())));
    if (!sim->leave_weights.empty()) rj["leave_weights"] = sim->leave_weights;

    std::vector<int64_t> sim_lengths;
    for (double l : random_stats.lengths) sim_lengths.push_back(static_cast<int64_t>(l));
    std::vector<int64_t> logged_capped;
    for (auto l : sim->logged_session_lengths)
      logged_capped.push_back(std::min(l, cfg.sim.max_length));
    std::vector<double> logged_d(logged_capped.begin(), logged_capped.end());
    rj["length_ks"] = env::KsDistance(sim_lengths, logged_capped);
    std::vector<int64_t> replay_lengths;
    for (double l : logged_stats.lengths) replay_lengths.push_back(static_cast<int64_t>(l));
    rj["length_ks_replay"] = env::KsDistance(replay_lengths, logged_capped);
    rj["length_logged_mean"] = Summarize(logged_d).mean;
    rj["length_simulated_mean"] = Summarize(random_stats.lengths).mean;
    rj["top10_share_logged"] = Num(TopShare(sim->logged_item_counts));
    rj["top10_share_simulated"] = Num(TopShare(random_stats.consumed_counts));
    std::vector<double> lx, ly;
    for (size_t i = 0; i < sim->logged_item_counts.size(); ++i) {
      lx.push_back(std::log1p(static_cast<double>(sim->logged_item_counts[i])));
      ly.push_back(std::log1p(static_cast<double>(random_stats.consumed_counts[i])));
    }
    rj["popularity_corr"] = Num(env::Pearson(lx, ly));

    // Learned vs true affinities on the synthetic world.
    if (data.prepared.truth && !sim->ground_truth) {
      const double c = env::TruthCorrelation(*sim, *data.prepared.truth, device);
      if (std::isfinite(c)) rj["truth_corr"] = c;
    }
    report["roles"][env::RoleName(role)] = rj;
  }
  if (cfg.data.dataset == data::DatasetKind::kCoat) {
    report["debiasing"] = DebiasingComparison(data, cfg);
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
  // The scheme of the headline AUC and ECE when it is not the first one (exposure-trained models).
  auto scheme_of = [](const nlohmann::json& r) {
    return r.contains("heldout_scheme") && r["heldout_scheme"] != "uniform" &&
                   r["heldout_scheme"] != "logged"
               ? " (" + r["heldout_scheme"].get<std::string>() + " negatives)"
               : std::string();
  };
  for (const auto& [role, r] : report["roles"].items()) {
    md += fmt::format(
        "| {} | {}{} | {} | {} | {} / {} | {} / {} | {} | {} |\n", role, f(r["heldout_auc"]),
        scheme_of(r), r.contains("heldout_rmse") ? f(r["heldout_rmse"]) : "n/a", f(r["length_ks"]),
        f(r["length_logged_mean"], "{:.2f}"), f(r["length_simulated_mean"], "{:.2f}"),
        f(r["top10_share_logged"]), f(r["top10_share_simulated"]), f(r["popularity_corr"]),
        r.contains("truth_corr") ? f(r["truth_corr"]) : "n/a");
  }
  md += "\n## Held-out response quality against reference models\n\n";
  md +=
      "Same held-out rows for every model; AUC (higher is better) / log-loss or RMSE (lower is "
      "better); ECE of the learned model. Bold: the learned model beats every reference.\n\n";
  md += "| role | negatives | rows | learned | popularity | item_knn | mf | learned ECE |\n";
  md += "|---|---|---|---|---|---|---|---|\n";
  for (const auto& [role, r] : report["roles"].items()) {
    if (!r.contains("schemes")) continue;
    for (const auto& [scheme, sj] : r["schemes"].items()) {
      const auto& models = sj["models"];
      const std::string loss = models["learned"].contains("rmse") ? "rmse" : "logloss";
      auto cell = [&](const std::string& name) {
        return f(models[name]["auc"]) + " / " + f(models[name][loss]);
      };
      const bool best =
          sj["learned_beats_all_auc"] == true && sj["learned_beats_all_" + loss] == true;
      md += fmt::format("| {} | {} | {} | {} | {} | {} | {} | {} |\n", role, scheme,
                        sj["rows"].get<int64_t>(),
                        best ? "**" + cell("learned") + "**" : cell("learned"), cell("popularity"),
                        cell("item_knn"), cell("mf"), f(models["learned"]["ece"]));
    }
  }
  md +=
      "\n## Rollouts (mean [95% interval])\n\n| role | policy | Return | Length | R_avg "
      "|\n|---|---|---|---|---|\n";
  for (const auto& [role, r] : report["roles"].items()) {
    for (const char* pol : {"random", "popular", "oracle", "logged"}) {
      if (!r.contains(std::string("rollout_") + pol)) continue;
      const auto& x = r[std::string("rollout_") + pol];
      md += fmt::format("| {} | {} | {} | {} | {} |\n", role, pol, ci(x["return"]), ci(x["length"]),
                        ci(x["avg_reward"]));
    }
  }
  md +=
      "\n## Session lengths\n\nMean simulated length per policy (logged: the logged policy "
      "replayed, each episode recommending what its start user went on to consume, most-popular "
      "once the log runs out; replayed share: of its recommendations, those taken from the logs); "
      "KS distance of the replayed and the random policy's lengths to the logged lengths.\n\n"
      "| role | logged | replayed | replayed share | KS replayed | random | KS random | popular | "
      "oracle |\n|---|---|---|---|---|---|---|---|---|\n";
  for (const auto& [role, r] : report["roles"].items()) {
    if (!r.contains("rollout_logged")) continue;
    const nlohmann::json& rr = r;  // a structured binding cannot be captured in C++17
    auto mean = [&](const char* pol) {
      return f(rr[std::string("rollout_") + pol]["length"]["mean"], "{:.2f}");
    };
    md += fmt::format("| {} | {} | {} | {} | {} | {} | {} | {} | {} |\n", role,
                      f(r["length_logged_mean"], "{:.2f}"), mean("logged"), f(r["replay_share"]),
                      f(r["length_ks_replay"]), mean("random"), f(r["length_ks"]), mean("popular"),
                      mean("oracle"));
  }
  for (const auto& [role, r] : report["roles"].items()) {
    if (!r.contains("leave_weights")) continue;
    const auto& w = r["leave_weights"];
    md += fmt::format(
        "\n{}: conditional leave hazard logit h = logit h0(t) {:+.3f} {:+.3f} r_t {:+.3f} m_t "
        "{:+.3f} q_t (reward, satisfaction, similar share; docs/simulator.md)\n",
        role, w[0].get<double>(), w[1].get<double>(), w[2].get<double>(), w[3].get<double>());
  }
  bool any_random = false;
  for (const auto& [role, r] : report["roles"].items()) any_random |= r.contains("random_exposure");
  if (any_random) {
    md +=
        "\n## On randomly exposed items (the role's own users)\n\n| role | rows | RMSE | AUC |\n"
        "|---|---|---|---|\n";
    for (const auto& [role, r] : report["roles"].items()) {
      if (!r.contains("random_exposure")) continue;
      const auto& x = r["random_exposure"];
      md += fmt::format("| {} | {} | {} | {} |\n", role, x["rows"].get<int64_t>(), f(x["rmse"]),
                        f(x["auc"]));
    }
  }
  if (report.contains("debiasing") && report["debiasing"].is_object()) {
    const auto& d = report["debiasing"];
    md += fmt::format(
        "\n## Debiasing: naive vs IPS on the random-exposure ratings\n\n{} trained on {} "
        "self-selected ratings, evaluated on {} random-exposure ratings; mean [95% t interval] "
        "over {} seeds; lambda chosen per arm and seed on 10% of the training ratings.\n\n"
        "| arm | RMSE | MAE | AUC | lambda |\n|---|---|---|---|---|\n",
        d["model"].get<std::string>(), d["train_ratings"].get<int64_t>(),
        d["test_ratings"].get<int64_t>(), d["naive"]["rmse"]["n"].get<int64_t>());
    for (const char* arm : {"naive", "ips", "ips_minus_naive"}) {
      const auto& a = d[arm];
      std::string lambdas;
      if (a.contains("lambda")) {
        for (const auto& l : a["lambda"]) lambdas += (lambdas.empty() ? "" : ", ") + f(l, "{:g}");
      }
      md += fmt::format("| {} | {} | {} | {} | {} |\n", arm, ci(a["rmse"]), ci(a["mae"]),
                        ci(a["auc"]), lambdas);
    }
  }
  md += "\n## Calibration (held-out rows)\n\n";
  for (const auto& [role, r] : report["roles"].items()) {
    md += fmt::format(
        "**{}** (ECE {}{})\n\n| predicted bin | rows | mean predicted | mean observed "
        "|\n|---|---|---|---|\n",
        role, r.contains("ece") ? f(r["ece"]) : std::string("n/a"), scheme_of(r));
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
