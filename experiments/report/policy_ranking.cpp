#include "experiments/report/policy_ranking.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <tuple>

#include "agents/online_config.h"
#include "core/atomic_file.h"
#include "core/config.h"
#include "core/error.h"
#include "core/json_read.h"
#include "core/log.h"
#include "core/progress.h"
#include "env/simulator.h"
#include "experiments/train/online_runner.h"

namespace recarena::experiments {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// One run's evaluation in one role: per-episode returns and lengths.
struct RoleSamples {
  std::vector<double> returns, lengths;
};

json CacheKey(const RankingOptions& o, const std::string& role) {
  return {{"role", role}, {"episodes", o.episodes}, {"seed", o.seed}};
}

// Loads the cached evaluation of run_dir in role when it was made with the same options and the
// run's checkpoint has not changed since; evaluates and caches it otherwise.
RoleSamples EvaluateCell(
    const ExperimentCell& cell, const std::string& role, const RankingOptions& o,
    std::map<std::pair<std::string, std::string>, std::shared_ptr<const env::Simulator>>& sims) {
  const fs::path cache = cell.dir / ("ranking-" + role + ".json");
  const auto ckpt_time = static_cast<int64_t>(
      fs::last_write_time(cell.dir / "checkpoint.pt").time_since_epoch().count());
  if (fs::exists(cache)) {
    auto j = ParseJson(ReadFile(cache), cache.string());
    if (j.value("key", json()) == CacheKey(o, role) &&
        j.value("checkpoint_time", int64_t{0}) == ckpt_time) {
      return {j.at("returns").get<std::vector<double>>(),
              j.at("lengths").get<std::vector<double>>()};
    }
  }
  // A fresh agent per role (loaded again for the second role), so that one role's evaluation
  // cannot leave state behind (the DT's per-slot bookkeeping) in the other's.
  LoadedOnlineRun run = LoadOnlineRun(cell.dir);
  auto& sim = sims[{run.cfg.simulator.dir, role}];
  if (!sim) sim = env::LoadSimulator(run.cfg.simulator.dir, env::ParseRole(role), run.device);
  if (sim->num_items != run.eval_sim->num_items) {
    throw Error("simulator role " + role + " of " + run.cfg.simulator.dir +
                " has another catalog size than the run's");
  }
  // Every policy meets the same users and draws (one episode seed); the action stream (used by
  // the random baseline and exploring evaluations) is the run's own.
  Rng rng = Rng(MixSeed(static_cast<uint64_t>(o.seed), static_cast<uint64_t>(cell.seed))).Fork(5);
  const auto stats = RunAgentEpisodes(*run.agent, sim, run.cfg.train, run.device, o.episodes,
                                      MixSeed(static_cast<uint64_t>(o.seed), 999), rng);
  json j = {{"key", CacheKey(o, role)},
            {"checkpoint_time", ckpt_time},
            {"returns", stats.returns},
            {"lengths", stats.lengths}};
  WriteFileAtomic(cache, j.dump());
  return {stats.returns, stats.lengths};
}

std::vector<int64_t> Ranks(const std::vector<double>& scores) {
  std::vector<int64_t> rank(scores.size());
  for (size_t i = 0; i < scores.size(); ++i) {
    int64_t above = 0;
    for (double s : scores) above += s > scores[i] ? 1 : 0;
    rank[i] = above + 1;  // ties share the better rank
  }
  return rank;
}

// The learned policies whose reference-role interval is above every random/popular baseline's.
std::vector<std::string> AboveBaselines(const std::vector<RankedPolicy>& ps, size_t ref) {
  double bar = -1e300;
  bool any = false;
  for (const auto& p : ps) {
    if (p.kind == "random" || p.kind == "popular") {
      bar = std::max(bar, p.by_role[ref].hi);
      any = true;
    }
  }
  std::vector<std::string> out;
  if (!any) return out;
  for (const auto& p : ps) {
    if (p.learns && p.seeds.size() >= 2 && p.by_role[ref].lo > bar) {
      out.push_back(p.agent + "/" + p.exploration);
    }
  }
  return out;
}

}  // namespace

void RankingOptions::Validate() const {
  const std::string p = "experiment.ranking.";
  if (!roles.empty() && roles.size() != 2) {
    throw ConfigError(p + "roles",
                      "experiment.ranking.roles must name two roles [learned, "
                      "reference]: got " +
                          std::to_string(roles.size()));
  }
  for (const auto& r : roles) env::ParseRole(r);
  if (!roles.empty() && roles[0] == roles[1]) {
    throw ConfigError(p + "roles", "experiment.ranking.roles names " + roles[0] + " twice");
  }
  if (episodes < 1) {
    throw ConfigError(p + "episodes",
                      "experiment.ranking.episodes must be >= 1: got " + std::to_string(episodes));
  }
  if (replicates < 1) {
    throw ConfigError(p + "replicates", "experiment.ranking.replicates must be >= 1: got " +
                                            std::to_string(replicates));
  }
}

PolicyRanking RankPolicies(const std::vector<ExperimentCell>& cells, const RankingOptions& o) {
  o.Validate();
  if (o.roles.size() != 2) throw Error("a policy ranking needs two roles [learned, reference]");
  PolicyRanking out;
  out.options = o;
  std::map<std::pair<std::string, std::string>, std::shared_ptr<const env::Simulator>> sims;
  // Policies in grid order, per simulator: samples[role][policy][seed][episode].
  std::vector<std::string> sim_order;
  std::map<std::string, std::vector<RankedPolicy>> policies;
  std::map<std::string, std::vector<PolicySamples>> samples;
  std::map<std::string, std::vector<PolicySamples>> lengths;  // the same for episode lengths
  Progress progress("ranking (runs x 2 roles)", static_cast<int64_t>(cells.size()));
  for (const auto& c : cells) {
    if (!policies.count(c.sim)) {
      sim_order.push_back(c.sim);
      samples[c.sim].resize(2);
      lengths[c.sim].resize(2);
    }
    auto& ps = policies[c.sim];
    auto it = std::find_if(ps.begin(), ps.end(), [&](const RankedPolicy& p) {
      return p.agent == c.agent && p.exploration == c.exploration;
    });
    const size_t index = static_cast<size_t>(it - ps.begin());
    if (it == ps.end()) {
      const auto cfg = config::Load<OnlineRunConfig>(c.dir / "config.yaml");
      RankedPolicy p;
      p.sim = c.sim;
      p.agent = c.agent;
      p.exploration = c.exploration;
      p.kind = config::EnumToString(cfg.agent.kind);
      p.learns = agents::OnlineAgentRowOf(cfg.agent.kind).learns;
      ps.push_back(p);
      for (size_t r = 0; r < 2; ++r) {
        samples[c.sim][r].emplace_back();
        lengths[c.sim][r].emplace_back();
      }
    }
    ps[index].seeds.push_back(c.seed);
    for (size_t r = 0; r < 2; ++r) {
      auto s = EvaluateCell(c, o.roles[r], o, sims);
      samples[c.sim][r][index].push_back(std::move(s.returns));
      lengths[c.sim][r][index].push_back(std::move(s.lengths));
    }
    progress.Add(1);
  }
  Rng rng = Rng(static_cast<uint64_t>(o.seed)).Fork(11);
  for (const auto& name : sim_order) {
    SimRanking sr;
    sr.sim = name;
    sr.policies = policies[name];
    if (sr.policies.size() < 2) {
      throw Error("simulator " + name + " has " + std::to_string(sr.policies.size()) +
                  " policy: a ranking needs at least 2");
    }
    for (size_t r = 0; r < 2; ++r) {
      const auto& role_samples = samples[name][r];
      for (size_t p = 0; p < sr.policies.size(); ++p) {
        std::vector<double> seed_means, seed_lengths;
        for (const auto& eps : role_samples[p]) seed_means.push_back(Summarize(eps).mean);
        for (const auto& lens : lengths[name][r][p]) seed_lengths.push_back(Summarize(lens).mean);
        sr.policies[p].by_role.push_back(SummarizeT(seed_means));
        sr.policies[p].seed_means.push_back(seed_means);
        sr.policies[p].length_by_role.push_back(Summarize(seed_lengths).mean);
      }
      const auto ranks = Ranks(PolicyMeans(role_samples));
      for (size_t p = 0; p < sr.policies.size(); ++p) sr.policies[p].rank.push_back(ranks[p]);
    }
    sr.tau = BootstrapKendallTau(samples[name][0], samples[name][1], o.replicates, rng);
    sr.above_baselines = AboveBaselines(sr.policies, 1);
    out.sims.push_back(std::move(sr));
  }
  progress.Finish();
  return out;
}

std::string WriteRanking(const PolicyRanking& ranking, const fs::path& root) {
  const auto& o = ranking.options;
  const std::string learned = o.roles.at(0), ref = o.roles.at(1);
  json j = {{"roles", o.roles},
            {"episodes", o.episodes},
            {"replicates", o.replicates},
            {"seed", o.seed},
            {"simulators", json::array()}};
  std::string md = fmt::format(
      "# Policy ranking: learned role {} against reference role {}\n\n"
      "Each run's final agent is evaluated greedily on the same {} episodes (episode seed {}) "
      "in both roles. Return: mean over seeds of each seed's mean return, with a Student-t 95% "
      "interval over the seeds. tau: Kendall's tau-b between the two rankings of the policies' "
      "mean returns; interval: two-stage percentile bootstrap ({} replicates: seeds drawn with "
      "replacement, the same in both roles, then each seed's episodes, independently per "
      "role).\n\n",
      learned, ref, o.episodes, o.seed, o.replicates);
  md +=
      "| simulator | policies | tau [95% interval] | learned policies above random and popular "
      "in " +
      ref + " |\n|---|---|---|---|\n";
  for (const auto& s : ranking.sims) {
    md += fmt::format("| {} | {} | {:.3f} [{:.3f}, {:.3f}] | {} |\n", s.sim, s.policies.size(),
                      s.tau.tau, s.tau.lo, s.tau.hi,
                      s.above_baselines.empty()
                          ? std::string("none")
                          : fmt::format("{}", fmt::join(s.above_baselines, ", ")));
  }
  for (const auto& s : ranking.sims) {
    md += fmt::format(
        "\n## {}\n\n| agent | exploration | seeds | {} return | {} rank | {} length | "
        "{} return | {} rank | {} length |\n|---|---|---|---|---|---|---|---|---|\n",
        s.sim, learned, learned, learned, ref, ref, ref);
    json js = {{"simulator", s.sim},
               {"tau", s.tau.tau},
               {"tau_ci95", {s.tau.lo, s.tau.hi}},
               {"above_baselines", s.above_baselines},
               {"policies", json::array()}};
    for (const auto& p : s.policies) {
      md += fmt::format("| {} | {} | {} |", p.agent, p.exploration, p.seeds.size());
      json jp = {{"agent", p.agent}, {"exploration", p.exploration},
                 {"kind", p.kind},   {"learns", p.learns},
                 {"seeds", p.seeds}, {"roles", json::object()}};
      for (size_t r = 0; r < 2; ++r) {
        const auto& m = p.by_role[r];
        md += fmt::format(" {:.3f} [{:.3f}, {:.3f}] | {} | {:.2f} |", m.mean, m.lo, m.hi, p.rank[r],
                          p.length_by_role[r]);
        jp["roles"][o.roles[r]] = {{"return", m.mean},
                                   {"return_ci95", {m.lo, m.hi}},
                                   {"rank", p.rank[r]},
                                   {"length", p.length_by_role[r]},
                                   {"seed_means", p.seed_means[r]}};
      }
      md += "\n";
      js["policies"].push_back(jp);
    }
    j["simulators"].push_back(js);
  }
  WriteFileAtomic(root / "ranking.json", j.dump(2));
  WriteFileAtomic(root / "ranking.md", md);
  return md;
}

}  // namespace recarena::experiments
