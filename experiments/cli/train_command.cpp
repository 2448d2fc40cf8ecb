#include "experiments/cli/train_command.h"

#include <nlohmann/json.hpp>
#include <optional>

#include "core/atomic_file.h"
#include "core/config.h"
#include "core/log.h"
#include "core/run_dir.h"
#include "dist/world.h"
#include "experiments/cli/command_util.h"
#include "experiments/train/offline_config.h"
#include "experiments/train/offline_trainer.h"

namespace recarena::experiments {

namespace po = boost::program_options;

int RunTrain(const std::vector<std::string>& args, std::ostream& out) {
  std::string out_dir, config_file;
  po::options_description opts("options");
  opts.add_options()("config", po::value(&config_file), "YAML config (see configs/offline/)")(
      "out", po::value(&out_dir),
      "run directory; an existing one is resumed (default: run.dir/<name>-<timestamp>)");
  auto cl = ParseCommandLine(args, opts);
  if (cl.help) {
    PrintCommandHelp(
        out, "train --config FILE [--out DIR] [section.key=value ...]",
        "Trains a sequential recommender offline (next-item cross-entropy over the full catalog,\n"
        "the popularity floor, CPFT, the MODT4R/MRDT decision transformers, or on sessionized\n"
        "data HDT and its session_normal baseline with the last-session protocol, docs/hdt.md),\n"
        "validates on NDCG@10, keeps the best checkpoint, stops early,\n"
        "and writes config.yaml, metrics.jsonl, metrics.json and report.md to the run directory.\n"
        "A killed run resumes when started again with the same --out.\n"
        "Data-parallel over several processes when WORLD_SIZE > 1 (`recarena launch --nproc N --\n"
        "recarena train ...`, or torchrun-style RANK / WORLD_SIZE / MASTER_ADDR / MASTER_PORT;\n"
        "docs/distributed.md): rank 0 validates, writes the files and prints the result.",
        opts);
    return 0;
  }
  if (!cl.positional.empty()) throw Error("unexpected argument " + QuoteForError(cl.positional[0]));
  if (config_file.empty()) throw Error("--config FILE is required (see configs/offline/)");
  auto cfg = config::Load<OfflineTrainConfig>(config_file, cl.overrides);
  const auto group = dist::JoinGroup(dist::WorldFromEnvironment());
  const bool lead = group == nullptr || group->rank() == 0;
  std::optional<FailedStartCleanup> cleanup;
  const auto dir =
      SetupJobRunDir(group.get(), cfg.run, out_dir, config::ToYamlString(cfg), cleanup);
  log::Info("run directory {}", dir.string());
  const auto result = RunOfflineTraining(cfg, dir, 0, group.get());
  if (!lead) return 0;
  nlohmann::json j(result.test_metrics);
  j["dir"] = dir.string();
  j["steps"] = result.steps;
  j["resumed"] = result.resumed;
  out << j.dump(2) << "\n";
  return 0;
}

}  // namespace recarena::experiments
