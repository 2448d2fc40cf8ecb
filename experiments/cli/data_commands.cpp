#include "experiments/cli/data_commands.h"

#include <chrono>

#include "core/atomic_file.h"
#include "core/config.h"
#include "core/error.h"
#include "core/log.h"
#include "core/run_dir.h"
#include "data/data_config.h"
#include "data/prepare.h"
#include "data/prepared_io.h"
#include "data/stats.h"
#include "experiments/cli/command_util.h"

namespace recarena::experiments {

namespace po = boost::program_options;

int RunDataPrepare(const std::vector<std::string>& args, std::ostream& out) {
  std::string dataset, source, out_dir, config_file;
  po::options_description opts("options");
  opts.add_options()(
      "dataset", po::value(&dataset),
      "synthetic | ml-latest-small | ml-100k | coat | rc15 | amazon | lastfm-2k | csv "
      "(overrides data.dataset)")(
      "source", po::value(&source),
      "dataset folder (overrides data.source; default: the shared data folder)")(
      "out", po::value(&out_dir), "output directory (default: run.dir/<run.name>-<timestamp>)")(
      "config", po::value(&config_file), "YAML config with run: and data: sections");
  auto cl = ParseCommandLine(args, opts);
  if (cl.help) {
    PrintCommandHelp(
        out,
        "data prepare --dataset NAME [--source DIR] [--out DIR] [--config FILE] [section.key=value "
        "...]",
        "Loads a dataset (or generates the synthetic world), preprocesses, sessionizes, splits it\n"
        "and writes a prepared dataset directory with its resolved config.yaml; prints its stats.",
        opts);
    return 0;
  }
  if (!cl.positional.empty()) throw Error("unexpected argument " + QuoteForError(cl.positional[0]));
  std::vector<std::string> overrides = cl.overrides;
  if (!dataset.empty()) overrides.push_back("data.dataset=" + dataset);
  if (!source.empty()) overrides.push_back("data.source=" + source);
  data::DataPrepareConfig cfg = config::Load<data::DataPrepareConfig>(config_file, overrides);
  std::filesystem::path created;
  const auto dir = SetupRunDir(cfg.run, out_dir, &created);
  const FailedStartCleanup cleanup(dir, created);

  const auto t0 = std::chrono::steady_clock::now();
  log::Info("preparing dataset '{}' (seed {})", config::EnumToString(cfg.data.dataset),
            cfg.run.seed);
  data::PreparedDataset prepared = data::PrepareDataset(cfg.data, cfg.run.seed);
  if (prepared.load_report.skipped_lines > 0) {
    log::Warn("skipped {} bad lines (skip_bad_lines is on); first: {}",
              prepared.load_report.skipped_lines,
              prepared.load_report.skipped_examples.empty()
                  ? ""
                  : prepared.load_report.skipped_examples[0]);
  }
  data::SavePrepared(dir, prepared);
  WriteFileAtomic(dir / "config.yaml", config::ToYamlString(cfg));
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  log::Info("wrote {} in {:.2f} s", dir.string(), secs);
  auto stats = data::StatsToJson(data::ComputeStats(prepared));
  stats["dir"] = dir.string();
  out << stats.dump(2) << "\n";
  return 0;
}

int RunDataStats(const std::vector<std::string>& args, std::ostream& out) {
  po::options_description opts("options");
  auto cl = ParseCommandLine(args, opts);
  if (cl.help) {
    PrintCommandHelp(
        out, "data stats DIR",
        "Prints users, items, interactions, sequences, mean/median sequence length, sparsity and\n"
        "long-tail share of a prepared dataset directory as JSON.",
        opts);
    return 0;
  }
  if (cl.positional.size() != 1)
    throw Error("expected exactly one prepared dataset directory (data stats DIR)");
  const auto prepared = data::LoadPrepared(cl.positional[0]);
  out << data::StatsToJson(data::ComputeStats(prepared)).dump(2) << "\n";
  return 0;
}

}  // namespace recarena::experiments
