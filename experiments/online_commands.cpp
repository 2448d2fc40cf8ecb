#include "experiments/online_commands.h"

#include <fmt/format.h>

#include <cmath>
#include <cstdlib>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "core/atomic_file.h"
#include "core/config.h"
#include "core/log.h"
#include "core/process.h"
#include "experiments/command_util.h"
#include "experiments/online_runner.h"

namespace recarena::experiments {
namespace po = boost::program_options;
namespace fs = std::filesystem;

namespace {

void CheckRunDirConfig(const fs::path& dir, const std::string& resolved) {
  if (fs::exists(dir / "config.yaml") && ReadFile(dir / "config.yaml") != resolved) {
    throw Error((dir / "config.yaml").string() +
                ": this run directory was created with a different config; use a new --out to "
                "start a new run");
  }
  WriteFileAtomic(dir / "config.yaml", resolved);
}

bool IsBaseline(agents::OnlineAgentKind k) {
  return k == agents::OnlineAgentKind::kRandom || k == agents::OnlineAgentKind::kPopular ||
         k == agents::OnlineAgentKind::kOracle;
}

struct Cell {
  std::string sim, agent, exploration;
  int64_t seed = 0;
  fs::path dir;
};

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
}

int RunOnlineCommand(const std::vector<std::string>& args, std::ostream& out) {
  std::string out_dir, config_file;
  po::options_description opts("options");
  opts.add_options()("config", po::value(&config_file), "YAML config (see configs/online/)")(
      "out", po::value(&out_dir), "run directory; an existing one is resumed");
  auto cl = ParseCommandLine(args, opts);
  if (cl.help) {
    PrintCommandHelp(
        out, "online --config FILE [--out DIR] [section.key=value ...]",
        "Trains one online agent in a fitted simulator's train role, evaluating it on\n"
        "the test (or eval) role every train.eval_every environment steps: Return,\n"
        "Length, R_avg (mean, 95% interval) and R@e/Len@e/R_avg@e for epochs 0, 1, 2.\n"
        "A killed run resumes from its last checkpoint when started again.",
        opts);
    return 0;
  }
  if (!cl.positional.empty()) throw Error("unexpected argument " + QuoteForError(cl.positional[0]));
  if (config_file.empty()) throw Error("--config FILE is required (see configs/online/)");
  auto cfg = config::Load<OnlineRunConfig>(config_file, cl.overrides);
  cfg.Validate();
  const auto dir = SetupRunDir(cfg.run, out_dir);
  CheckRunDirConfig(dir, config::ToYamlString(cfg));
  log::Info("run directory {}", dir.string());
  auto result = RunOnline(cfg, dir);
  auto j = result.summary;
  j["dir"] = dir.string();
  j["resumed"] = result.resumed;
  out << j.dump(2) << "\n";
  return 0;
}

int RunExperimentCommand(const std::vector<std::string>& args, std::ostream& out) {
  po::options_description opts("options");
  std::string out_dir;
  opts.add_options()("out", po::value(&out_dir), "results directory (default experiment.out)");
  auto cl = ParseCommandLine(args, opts);
  if (cl.help) {
    PrintCommandHelp(
        out, "experiment FILE [--out DIR] [experiment.key=value ...]",
        "Runs every agent config x exploration strategy x seed x simulator (each a\n"
        "resumable `online` run), then writes results.csv, summary.md (mean ± std over\n"
        "seeds) and learning-curve plots (return and length vs environment steps).",
        opts);
    return 0;
  }
  if (cl.positional.size() != 1) throw Error("experiment needs exactly one experiment file");
  const fs::path file = cl.positional[0];
  auto ef = config::Load<ExperimentFile>(file, cl.overrides);
  ef.Validate();
  const auto& ex = ef.experiment;
  const fs::path root = !out_dir.empty()  ? fs::path(out_dir)
                        : !ex.out.empty() ? fs::path(ex.out)
                                          : fs::path("runs") / ex.name;
  fs::create_directories(root);
  std::vector<Cell> cells;
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
          ov.push_back("exploration.kind=" + expl);
          ov.push_back("run.seed=" + std::to_string(seed));
          auto cfg = config::Load<OnlineRunConfig>(agent_path, ov);
          cfg.Validate();
          const std::string sim_name = fs::path(cfg.simulator.dir).filename().string();
          Cell c{sim_name, agent_name, IsBaseline(cfg.agent.kind) ? "-" : expl, seed,
                 root / sim_name / agent_name / (IsBaseline(cfg.agent.kind) ? "-" : expl) /
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
      auto j = nlohmann::json::parse(line);
      csv += fmt::format("{},{},{},{},{},{},{:.6f},{:.6f},{:.6f},{:.6f},{:.6f}\n", c.sim, c.agent,
                         c.exploration, c.seed, j["step"].get<int64_t>(),
                         j["user_steps"].get<int64_t>(), j["return"].get<double>(),
                         j["length"].get<double>(), j["avg_reward"].get<double>(),
                         j.value("long_tail_share", 0.0), j.value("coverage", 0.0));
    }
    auto s = nlohmann::json::parse(ReadFile(c.dir / "metrics.json"));
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
  out << md;
  out << fmt::format("\nresults: {}\n", (root / "results.csv").string());
  return 0;
}

}  // namespace recarena::experiments
