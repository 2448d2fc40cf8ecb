#include "experiments/cli/stability_command.h"

#include "core/config.h"
#include "core/log.h"
#include "core/run_dir.h"
#include "experiments/cli/command_util.h"
#include "experiments/report/stability_experiment.h"
#include "experiments/train/offline_config.h"

namespace recarena::experiments {

namespace po = boost::program_options;

int RunStability(const std::vector<std::string>& args, std::ostream& out) {
  std::string out_dir, config_file;
  StabilityExperimentOptions o;
  po::options_description opts("options");
  opts.add_options()("config", po::value(&config_file),
                     "a `recarena train` config; its data.perturb section is the perturbation")(
      "out", po::value(&out_dir), "experiment directory (default: run.dir/<name>-<timestamp>)")(
      "perturbations", po::value(&o.perturbations)->default_value(o.perturbations),
      "perturbed retrains (perturbation seeds data.perturb.seed, +1, ...)")(
      "k", po::value(&o.metrics.k)->default_value(o.metrics.k),
      "depth of RBO@k, FRBO@k, Jaccard@k")("p", po::value(&o.metrics.p)->default_value(o.metrics.p),
                                           "RBO persistence in (0, 1)")(
      "max-queries", po::value(&o.max_queries)->default_value(o.max_queries),
      "test queries compared (evenly spaced; 0 = all)")(
      "pretrained", po::value(&o.pretrained)->value_name("DIR"),
      "model_kind finest: fine-tune each run from the same-named run of this earlier stability "
      "experiment (original from DIR/original, perturbed-i from DIR/perturbed-i)")(
      "tag", po::value(&o.tag)->value_name("TAG"),
      "name the perturbed runs perturbed-TAG-i and the report stability-TAG.json, so that "
      "experiments with other perturbations in the same --out share its original run");
  auto cl = ParseCommandLine(args, opts);
  if (cl.help) {
    PrintCommandHelp(
        out, "stability --config FILE [--out DIR] [--perturbations N] [section.key=value ...]",
        "Trains the config's model, retrains it from the same initial weights on perturbed\n"
        "copies of its training data (data.perturb: deletion / insertion / replacement, chosen at\n"
        "random or by CASPER), and compares the full rankings on every test query: AO, RBO@k,\n"
        "RBO_ext, FRBO@k and Jaccard@k, beside each run's MRR / Recall / NDCG. Writes\n"
        "DIR/stability.json and prints it. See docs/stability.md.",
        opts);
    return 0;
  }
  if (!cl.positional.empty()) throw Error("unexpected argument " + QuoteForError(cl.positional[0]));
  if (config_file.empty()) throw Error("--config FILE is required (see configs/offline/)");
  o.Validate();
  const auto cfg = config::Load<OfflineTrainConfig>(config_file, cl.overrides);
  std::filesystem::path created;
  const auto dir = SetupRunDir(cfg.run, out_dir, &created);
  const FailedStartCleanup cleanup(dir, created);
  log::Info("stability experiment in {}", dir.string());
  out << RunStabilityExperiment(cfg, dir, o).dump(2) << "\n";
  return 0;
}

}  // namespace recarena::experiments
