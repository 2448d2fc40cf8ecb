#include "experiments/report/online_experiment.h"

#include <fmt/format.h>

#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <tuple>

#include "core/atomic_file.h"
#include "core/config.h"
#include "core/json_read.h"
#include "core/log.h"
#include "core/paths.h"
#include "core/process.h"
#include "core/run_dir.h"
#include "experiments/train/online_runner.h"

namespace recarena::experiments {
namespace fs = std::filesystem;

namespace {

bool IsBaseline(agents::OnlineAgentKind k) { return !agents::OnlineAgentRowOf(k).learns; }

std::string MeanStd(const std::vector<double>& v, int digits = 3) {
  if (v.empty()) return "n/a";
  double m = 0;
  for (double x : v) m += x;
  m /= static_cast<double>(v.size());
  double ss = 0;
  for (double x : v) ss += (x - m) * (x - m);
  const double sd = v.size() > 1 ? std::sqrt(ss / static_cast<double>(v.size() - 1)) : 0.0;
  return fmt::format("{:.{}f} ± {:.{}f}", m, digits, sd, digits);
}

}  // namespace

void ExperimentConfig::Validate() const {
  if (name.empty()) throw ConfigError("experiment.name", "experiment.name must not be empty");
  if (agents.empty())
    throw ConfigError("experiment.agents", "experiment.agents lists no agent configs");
  if (seeds.empty()) throw ConfigError("experiment.seeds", "experiment.seeds lists no seeds");
  for (const auto& e : explorations) {
    config::ParseEnum<policies::ExplorationKind>(e, "experiment.explorations");
  }
  ranking.Validate();
}

fs::path ExperimentRoot(const ExperimentConfig& ex, const std::string& out_dir) {
  return !out_dir.empty()  ? fs::path(out_dir)
         : !ex.out.empty() ? fs::path(ex.out)
                           : fs::path("runs") / ex.name;
}

namespace {
std::string WithSeed(std::string s, int64_t seed) {
  const std::string key = "{seed}", value = std::to_string(seed);
  for (size_t p = s.find(key); p != std::string::npos; p = s.find(key, p + value.size()))
    s.replace(p, key.size(), value);
  return s;
}
}  // namespace

std::vector<ExperimentCell> RunExperimentCells(const ExperimentConfig& ex, const fs::path& file,
                                               const fs::path& root) {
  fs::create_directories(root);
  std::vector<ExperimentCell> cells;
  std::vector<std::string> sims =
      ex.simulators.empty() ? std::vector<std::string>{""} : ex.simulators;
  for (const auto& sim : sims) {
    for (const auto& agent_file : ex.agents) {
      const fs::path agent_path = fs::path(agent_file).is_absolute() || fs::exists(agent_file)
                                      ? fs::path(agent_file)
                                      : file.parent_path() / agent_file;
      const std::string agent_name = agent_path.stem().string();
      std::vector<std::string> base = ex.overrides;
      if (!sim.empty()) base.push_back("simulator.dir=" + sim);
      auto probe = config::Load<OnlineRunConfig>(agent_path, base);
      std::vector<std::string> explorations = ex.explorations;
      if (explorations.empty() || IsBaseline(probe.agent.kind)) {
        explorations = {config::EnumToString(probe.exploration.kind)};
      }
      for (const auto& expl : explorations) {
        for (int64_t seed : ex.seeds) {
          auto ov = base;
          for (auto& o : ov) o = WithSeed(o, seed);  // "{seed}" in an override: the cell's seed
          ov.push_back("exploration.kind=" + expl);
          ov.push_back("run.seed=" + std::to_string(seed));
          auto cfg = config::Load<OnlineRunConfig>(agent_path, ov);
          cfg.Validate();
          // Cells live under root/<simulator>/<agent>/...: names that could leave root are
          // refused ("runs/sim/.." is named "runs", as it resolves).
          const std::string sim_name =
              SafePathComponent(DirectoryName(cfg.simulator.dir), "simulator.dir");
          SafePathComponent(agent_name, "agent file");
          ExperimentCell c{sim_name, agent_name, IsBaseline(cfg.agent.kind) ? "-" : expl, seed,
                           root / sim_name / agent_name /
                               (IsBaseline(cfg.agent.kind) ? "-" : expl) /
                               fmt::format("seed-{}", seed)};
          fs::create_directories(c.dir);
          CheckRunDirConfig(c.dir, config::ToYamlString(cfg));
          log::Info("[cell {}] {} {} {} seed {}", cells.size() + 1, c.sim, c.agent, c.exploration,
                    seed);
          RunOnline(cfg, c.dir);
          cells.push_back(c);
        }
      }
    }
  }
  return cells;
}

std::string WriteExperimentResults(const ExperimentConfig& ex,
                                   const std::vector<ExperimentCell>& cells, const fs::path& root) {
  // results.csv: one row per evaluation of every cell.
  std::string csv =
      "simulator,agent,exploration,seed,step,user_steps,return,length,avg_reward,long_tail_share,"
      "coverage\n";
  std::map<std::tuple<std::string, std::string, std::string>,
           std::map<std::string, std::vector<double>>>
      agg;
  std::vector<std::tuple<std::string, std::string, std::string>> order;
  for (const auto& c : cells) {
    std::string line;
    std::istringstream in(ReadFile(c.dir / "metrics.jsonl"));
    while (std::getline(in, line)) {
      if (line.empty()) continue;
      auto j = ParseJson(line, (c.dir / "metrics.jsonl").string());
      csv += fmt::format("{},{},{},{},{},{},{:.6f},{:.6f},{:.6f},{:.6f},{:.6f}\n", c.sim, c.agent,
                         c.exploration, c.seed, j["step"].get<int64_t>(),
                         j["user_steps"].get<int64_t>(), j["return"].get<double>(),
                         j["length"].get<double>(), j["avg_reward"].get<double>(),
                         j.value("long_tail_share", 0.0), j.value("coverage", 0.0));
    }
    auto s = ParseJson(ReadFile(c.dir / "metrics.json"), (c.dir / "metrics.json").string());
    auto key = std::make_tuple(c.sim, c.agent, c.exploration);
    if (!agg.count(key)) order.push_back(key);
    for (const char* m : {"R@0", "R@1", "R@2", "R", "Len", "R_avg", "Len@1", "R_avg@1",
                          "long_tail_share", "coverage"}) {
      if (s.contains(m)) agg[key][m].push_back(s[m].get<double>());
    }
  }
  WriteFileAtomic(root / "results.csv", csv);
  std::string md = fmt::format(
      "# Experiment {}\n\nMean ± std over seeds {} of the evaluations in each run's "
      "simulator.eval_role "
      "(greedy unless train.eval_explore). R@e / Len@e / R_avg@e: after e "
      "epochs (thesis Sec. 7.5.3); R, Len, R_avg: at the end. LT share: share of the final "
      "evaluation's recommendations that are long-tail items (bottom 90% of the train role's "
      "logged consumption); coverage: distinct items recommended / catalog.\n\n",
      ex.name, fmt::join(ex.seeds, ", "));
  md +=
      "| simulator | agent | exploration | R@0 | R@1 | R@2 | R | Len | R_avg | LT share | coverage "
      "|\n|---|---|---|---|---|---|---|---|---|---|---|\n";
  for (const auto& key : order) {
    auto& m = agg[key];
    md +=
        fmt::format("| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n", std::get<0>(key),
                    std::get<1>(key), std::get<2>(key), MeanStd(m["R@0"]), MeanStd(m["R@1"]),
                    MeanStd(m["R@2"]), MeanStd(m["R"]), MeanStd(m["Len"], 2), MeanStd(m["R_avg"]),
                    MeanStd(m["long_tail_share"]), MeanStd(m["coverage"], 4));
  }
  // Plots from the CSV with the project virtualenv's matplotlib (scripts/setup.sh), started
  // without a shell.
  const fs::path script = fs::path(RECARENA_SOURCE_DIR) / "scripts" / "plot_curves.py";
  const int rc = RunPythonScript(script, {(root / "results.csv").string(), root.string()});
  std::set<std::string> sim_names;
  for (const auto& c : cells) sim_names.insert(c.sim);
  if (rc == 0) {
    md +=
        "\nLearning curves (return and length vs environment user-steps, mean ± std over "
        "seeds):\n\n";
    for (const auto& s : sim_names) md += fmt::format("![{}](curves_{}.png)\n", s, s);
  } else {
    md += "\n(no plots: " + PythonInterpreter() +
          " with matplotlib is not available; run scripts/setup.sh)\n";
  }
  WriteFileAtomic(root / "summary.md", md);
  return md;
}

}  // namespace recarena::experiments
