#include "experiments/cli/online_commands.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <optional>

#include "core/config.h"
#include "core/log.h"
#include "core/run_dir.h"
#include "dist/world.h"
#include "experiments/cli/command_util.h"
#include "experiments/train/online_runner.h"

namespace recarena::experiments {
namespace po = boost::program_options;
namespace fs = std::filesystem;

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
        "A killed run resumes from its last checkpoint when started again.\n"
        "Sharded over several processes when WORLD_SIZE > 1 (`recarena launch --nproc N --\n"
        "recarena online ...`, or torchrun-style variables; docs/distributed.md): each rank\n"
        "steps its share of the users, updates are all-reduced, evaluations gathered.",
        opts);
    return 0;
  }
  if (!cl.positional.empty()) throw Error("unexpected argument " + QuoteForError(cl.positional[0]));
  if (config_file.empty()) throw Error("--config FILE is required (see configs/online/)");
  auto cfg = config::Load<OnlineRunConfig>(config_file, cl.overrides);
  cfg.Validate();
  const auto group = dist::JoinGroup(dist::WorldFromEnvironment());
  const bool lead = group == nullptr || group->rank() == 0;
  std::optional<FailedStartCleanup> cleanup;
  const auto dir =
      SetupJobRunDir(group.get(), cfg.run, out_dir, config::ToYamlString(cfg), cleanup);
  log::Info("run directory {}", dir.string());
  auto result = RunOnline(cfg, dir, 0, group.get());
  if (!lead) return 0;
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
        "seeds) and learning-curve plots (return and length vs environment steps).\n"
        "With experiment.ranking.roles [learned, reference], every run is also evaluated\n"
        "in both roles and ranking.md gives Kendall's tau between the two rankings.",
        opts);
    return 0;
  }
  if (cl.positional.size() != 1) throw Error("experiment needs exactly one experiment file");
  const fs::path file = cl.positional[0];
  auto ef = config::Load<ExperimentFile>(file, cl.overrides);
  ef.Validate();
  const fs::path root = ExperimentRoot(ef.experiment, out_dir);
  const auto cells = RunExperimentCells(ef.experiment, file, root);
  out << WriteExperimentResults(ef.experiment, cells, root);
  if (!ef.experiment.ranking.roles.empty()) {
    out << "\n" << WriteRanking(RankPolicies(cells, ef.experiment.ranking), root);
  }
  out << fmt::format("\nresults: {}\n", (root / "results.csv").string());
  return 0;
}

}  // namespace recarena::experiments
