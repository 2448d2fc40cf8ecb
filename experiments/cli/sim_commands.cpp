#include "experiments/cli/sim_commands.h"

#include <fmt/format.h>

#include <algorithm>

#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "core/config.h"
#include "core/log.h"
#include "core/run_dir.h"
#include "env/sim_fit.h"
#include "env/vector_env.h"
#include "experiments/cli/command_util.h"
#include "experiments/eval/rollout.h"
#include "experiments/report/sim_predict.h"
#include "experiments/report/sim_report.h"
#include "experiments/train/trained_run.h"
#include "models/device.h"
#include "policies/baseline_policies.h"

namespace recarena::experiments {
namespace po = boost::program_options;

namespace {

struct OpenedSimulator {
  env::SimFitConfig cfg;
  torch::Device device;
  std::shared_ptr<env::Simulator> sim;
};

// A fitted simulator directory's config, device and the named role, with a clear error when dir is
// not a fitted simulator.
OpenedSimulator OpenSimulator(const std::filesystem::path& dir, const std::string& role) {
  env::FittedRoles(dir);
  auto cfg = config::Load<env::SimFitConfig>(dir / "config.yaml");
  const auto device = models::ResolveDevice(cfg.run.device);
  auto sim = env::LoadSimulator(dir, env::ParseRole(role), device);
  return {std::move(cfg), device, std::move(sim)};
}

// One line per episode id (episode, return, length), the trajectories the Python package's
// rollouts are compared with (tests/python).
void WriteEpisodes(const std::string& path, const EpisodeStats& stats) {
  WriteFileAtomic(path, [&](std::ostream& os) {
    os << "episode\treturn\tlength\n";
    for (size_t e = 0; e < stats.returns.size(); ++e) {
      os << fmt::format("{}\t{:.9g}\t{}\n", e, stats.returns[e], stats.lengths[e]);
    }
  });
}

}  // namespace

int RunSimFit(const std::vector<std::string>& args, std::ostream& out) {
  std::string out_dir, config_file;
  po::options_description opts("options");
  opts.add_options()("config", po::value(&config_file), "YAML config (see configs/sim/)")(
      "out", po::value(&out_dir),
      "simulator directory; an interrupted fit there is resumed (default: run.dir/<name>-<time>)");
  auto cl = ParseCommandLine(args, opts);
  if (cl.help) {
    PrintCommandHelp(out, "sim fit --config FILE [--out DIR] [section.key=value ...]",
                     "Fits a user simulator from logs: response model(s), leave hazard, start\n"
                     "states, for the train and test users (80/20 by default) and, when\n"
                     "configured, an evaluation simulator on unbiased feedback or ground truth.",
                     opts);
    return 0;
  }
  if (!cl.positional.empty()) throw Error("unexpected argument " + QuoteForError(cl.positional[0]));
  if (config_file.empty()) throw Error("--config FILE is required (see configs/sim/)");
  auto cfg = config::Load<env::SimFitConfig>(config_file, cl.overrides);
  std::filesystem::path created;
  const auto dir = SetupRunDir(cfg.run, out_dir, &created);
  const FailedStartCleanup cleanup(dir, created);
  log::Info("simulator directory {}", dir.string());
  env::FitSimulator(cfg, dir, [](const std::string& msg) { log::Info("{}", msg); });
  nlohmann::json j;
  j["dir"] = dir.string();
  std::vector<std::string> roles;
  for (auto r : env::FittedRoles(dir)) roles.push_back(env::RoleName(r));
  j["roles"] = roles;
  out << j.dump(2) << "\n";
  return 0;
}

int RunSimReport(const std::vector<std::string>& args, std::ostream& out) {
  SimReportOptions ro;
  po::options_description opts("options");
  opts.add_options()("episodes", po::value(&ro.episodes)->default_value(500),
                     "episodes per rollout policy")(
      "num-envs", po::value(&ro.num_envs)->default_value(64), "users stepped at once");
  auto cl = ParseCommandLine(args, opts);
  if (cl.help) {
    PrintCommandHelp(out, "sim report DIR [--episodes N]",
                     "Prints JSON and writes DIR/report.md: held-out response AUC/RMSE,\n"
                     "calibration, simulated vs logged session lengths (KS), item popularity,\n"
                     "random/popular rollouts and, on the synthetic world, learned-vs-true\n"
                     "affinity correlation.",
                     opts);
    return 0;
  }
  if (cl.positional.size() != 1) throw Error("sim report needs exactly one simulator directory");
  if (ro.episodes < 1) throw Error("--episodes must be >= 1");
  if (ro.num_envs < 1) throw Error("--num-envs must be >= 1, got " + std::to_string(ro.num_envs));
  // More parallel users than episodes would only allocate: the job needs at most `episodes`.
  ro.num_envs = std::min(ro.num_envs, ro.episodes);
  auto report = SimReport(cl.positional[0], ro);
  out << report.dump(2) << "\n";
  return 0;
}

int RunSimRollout(const std::vector<std::string>& args, std::ostream& out) {
  std::string policy = "random", role = "test", run_dir, episodes_out;
  int64_t episodes = 100, num_envs = 64, max_length = 0;
  uint64_t seed = 0;
  bool mask_repeats = false, no_leave = false;
  po::options_description opts("options");
  opts.add_options()("policy", po::value(&policy)->default_value("random"),
                     "random | popular | oracle | run (the greedy policy of --run)")(
      "run", po::value(&run_dir)->value_name("DIR"),
      "a `recarena train` run on the simulator's data (same catalog and state_len)")(
      "episodes", po::value(&episodes)->default_value(100), "episodes to run")(
      "role", po::value(&role)->default_value("test"), "train | test | eval")(
      "num-envs", po::value(&num_envs)->default_value(64), "users stepped at once")(
      "seed", po::value(&seed)->default_value(0), "episode seed")(
      "max-length", po::value(&max_length)->default_value(0), "step cap (0: the simulator's)")(
      "mask-repeats", po::bool_switch(&mask_repeats), "never recommend an item twice per episode")(
      "no-leave", po::bool_switch(&no_leave),
      "leave rules off: every episode runs max-length steps")(
      "episodes-out", po::value(&episodes_out)->value_name("FILE"),
      "also write each episode's return and length (TSV)");
  auto cl = ParseCommandLine(args, opts);
  if (cl.help) {
    PrintCommandHelp(out, "sim rollout DIR --policy random|popular|oracle|run [--run RUN_DIR]",
                     "Runs a baseline policy, or the greedy policy of a trained offline run, in a\n"
                     "fitted simulator and prints Return, Length and R_avg = Return/Length (mean\n"
                     "and 95% interval over episodes) as JSON.",
                     opts);
    return 0;
  }
  if (cl.positional.size() != 1) throw Error("sim rollout needs exactly one simulator directory");
  if (policy != "random" && policy != "popular" && policy != "oracle" && policy != "run") {
    throw Error("--policy must be random, popular, oracle or run; got " + QuoteForError(policy));
  }
  if ((policy == "run") != !run_dir.empty()) {
    throw Error("--policy run and --run DIR go together");
  }
  if (episodes < 1) throw Error("--episodes must be >= 1, got " + std::to_string(episodes));
  if (num_envs < 1) throw Error("--num-envs must be >= 1, got " + std::to_string(num_envs));
  const auto [cfg, device, sim] = OpenSimulator(cl.positional[0], role);
  env::VectorEnvOptions vo;
  // More parallel users than episodes would only allocate: the job needs at most `episodes`.
  vo.num_envs = std::min(num_envs, episodes);
  vo.device = device;
  vo.mask_repeats = mask_repeats;
  vo.leave_enabled = !no_leave;
  vo.max_length = max_length;
  env::VectorEnv venv(sim, vo);
  Rng rng = Rng(seed).Fork(1);
  auto popularity = torch::tensor(sim->logged_item_counts).to(torch::kFloat);
  LoadedWindowRun run;
  PolicyFn fn = [&](const env::StepResult& r) -> torch::Tensor {
    if (policy == "random") return policies::RandomActions(r.candidate_mask, rng);
    if (policy == "popular") return policies::PopularActions(r.candidate_mask, popularity);
    return policies::OracleActions(venv, r.candidate_mask);
  };
  if (policy == "run") {
    run = LoadWindowRunForSimulator(run_dir, cl.positional[0], sim->state_len, "sim rollout --run");
    fn = GreedyScorerPolicy([&run](const torch::Tensor& items, const torch::Tensor& lengths) {
      return run.agent->Scores(items, lengths);
    });
  }
  auto stats = RunEpisodes(venv, fn, episodes, seed);
  if (!episodes_out.empty()) WriteEpisodes(episodes_out, stats);
  auto ci = [](const MeanCi& s) {
    return nlohmann::json{{"mean", s.mean}, {"ci95", {s.lo, s.hi}}, {"sd", s.sd}};
  };
  nlohmann::json j{{"policy", policy == "run" ? "run " + run_dir : policy},
                   {"role", role},
                   {"episodes", episodes},
                   {"return", ci(Summarize(stats.returns))},
                   {"length", ci(Summarize(stats.lengths))},
                   {"avg_reward", ci(Summarize(stats.avg_rewards))},
                   {"terminated", stats.terminated},
                   {"truncated", stats.truncated}};
  out << j.dump(2) << "\n";
  return 0;
}

int RunSimPredict(const std::vector<std::string>& args, std::ostream& out) {
  std::string role = "test", input;
  po::options_description opts("options");
  opts.add_options()("role", po::value(&role)->default_value("test"), "train | test | eval")(
      "input", po::value(&input), "CSV file with the header user,history,item");
  auto cl = ParseCommandLine(args, opts);
  if (cl.help) {
    PrintCommandHelp(out, "sim predict DIR --role R --input FILE",
                     "Scores (user, history, item) queries with the role's response model and\n"
                     "prints one P(click) or rating per line (format: docs/simulator.md).",
                     opts);
    return 0;
  }
  if (cl.positional.size() != 1) throw Error("sim predict needs exactly one simulator directory");
  if (input.empty()) throw Error("sim predict needs --input FILE");
  const auto [cfg, device, sim] = OpenSimulator(cl.positional[0], role);
  // The id tables of the fit: the same data and preprocessing, from the stored config.
  const auto prepared = data::PrepareDataset(cfg.data, cfg.run.seed);
  const bool need_user = !sim->ground_truth && cfg.sim.response.kind == env::ResponseKind::kDeepFm;
  const auto queries = ReadPredictQueries(input, prepared.dataset, need_user || sim->ground_truth);
  for (float p : PredictQueries(*sim, queries, device)) out << fmt::format("{:.6f}\n", p);
  return 0;
}

}  // namespace recarena::experiments
