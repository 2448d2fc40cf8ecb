#include "experiments/cli/conformal_commands.h"

#include <boost/program_options.hpp>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>

#include "core/config_schema.h"
#include "core/error.h"
#include "core/strings.h"
#include "experiments/cli/command_util.h"
#include "experiments/eval/conformal_files.h"
#include "experiments/report/conformal_eval.h"
#include "experiments/report/conformal_online.h"

namespace recarena::experiments {

namespace fs = std::filesystem;
namespace po = boost::program_options;

namespace {

void PrintUsage(std::ostream& out, const po::options_description& desc) {
  out << "usage: recarena conformal --scores FILE --labels FILE --alpha A --score "
         "thr|aps|raps|saps|rank|weighted [options]\n\n"
         "Split conformal prediction sets over a catalog. FILE rows: one query per line, "
         "comma-separated\nprobabilities over the catalog (or logits with --logits); labels: one "
         "item index (0-based) per line.\nThe queries are split at random into calibration and "
         "test (--cal-fraction, --seed), or\n--cal-scores/--cal-labels give a fixed calibration "
         "set and --scores/--labels are the test set.\nPrints a JSON report. See "
         "docs/conformal.md.\n\n"
      << desc;
}

}  // namespace

int RunConformal(const std::vector<std::string>& args, std::ostream& out) {
  ConformalFilesOptions o;
  std::string split;
  double cal_fraction = 0.5;
  po::options_description desc("options");
  desc.add_options()("help,h", "print this help")("scores", po::value(&o.scores),
                                                  "scores file (required): one query per line")(
      "labels", po::value(&o.labels), "labels file (required): one item index per line")(
      "dataset", po::value(&o.dataset)->value_name("DIR"),
      "a prepared dataset: labels are its external item ids (items.tsv), columns its items")(
      "alpha", po::value(&o.alpha), "miscoverage level in (0,1), a decimal (required)")(
      "score", po::value(&o.score), "thr|aps|raps|saps|rank|weighted (required)")(
      "split", po::value(&split), "weighted only: vfcp|efcp|dlcp|dlcp+ (default vfcp)")(
      "cal-fraction", po::value(&cal_fraction)->default_value(0.5),
      "fraction of the queries used for calibration (random split)")(
      "vfcp-fraction", po::value(&o.vfcp_fraction)->default_value(0.5),
      "VFCP: fraction of the calibration queries in I1 = I2 (the rest is I3)")(
      "randomized", po::bool_switch(&o.params.randomized),
      "randomized scores (u ~ U[0,1) per query)")(
      "k-reg", po::value(&o.params.k_reg)->default_value(5), "RAPS k_reg")(
      "lambda", po::value(&o.params.lambda)->default_value(0.01), "RAPS/SAPS lambda")(
      "seed", po::value(&o.seed)->default_value(42), "seed for the split and u")(
      "logits", po::bool_switch(&o.logits), "rows are logits (softmax is applied)")(
      "weight-step", po::value(&o.weight_step)->default_value("0.1"),
      "weighted: simplex grid step, 1/k for an integer k")(
      "emit-scores", po::value(&o.emit_scores),
      "write every (query, item) score of --scores, one query per line")(
      "emit-sets", po::value(&o.emit_sets),
      "write the test sets: query index (row of --scores), then the items (ascending id)")(
      "cal-scores", po::value(&o.cal_scores), "fixed calibration scores file")(
      "cal-labels", po::value(&o.cal_labels), "fixed calibration labels file");
  po::variables_map vm;
  const po::parsed_options parsed = po::command_line_parser(args).options(desc).run();
  RefuseNegativeUnsigned(parsed);
  po::store(parsed, vm);
  po::notify(vm);
  if (vm.count("help")) {
    PrintUsage(out, desc);
    return 0;
  }
  if (vm.count("split")) o.split = split;
  if (!vm["cal-fraction"].defaulted()) o.cal_fraction = cal_fraction;
  out << RunConformalOnFiles(o).dump(2) << "\n";
  return 0;
}

namespace {

// The flags of `recarena conformal-eval`, bound to the fields they fill.
struct ConformalEvalFlags {
  ConformalEvalOptions opt;
  std::string alphas = "0.01,0.05,0.1,0.2", splits = "vfcp,efcp,dlcp,dlcp+", out_dir;
  uint64_t seed = 0;
  int64_t max_queries = 0, episodes = 200;
};

po::options_description ConformalEvalOptionsDescription(ConformalEvalFlags* f) {
  po::options_description desc("options");
  desc.add_options()("alphas", po::value(&f->alphas)->default_value(f->alphas),
                     "comma-separated miscoverage levels")(
      "cal-fraction", po::value(&f->opt.cal_fraction)->default_value(0.5),
      "share of the test queries used for calibration (random, seeded)")(
      "seed", po::value(&f->seed),
      "seed of the calibration/test split and u (default: the run's run.seed)")(
      "randomized", po::bool_switch(&f->opt.params.randomized),
      "randomized scores (u ~ U[0,1) per query)")(
      "splits", po::value(&f->splits)->default_value(f->splits),
      "split strategies of the weighted combination (vfcp,efcp,dlcp,dlcp+), or none")(
      "weight-step", po::value(&f->opt.weight_step)->default_value("0.1"),
      "weight grid step, 1/k for an integer k")(
      "vfcp-fraction", po::value(&f->opt.vfcp_fraction)->default_value(0.5),
      "VFCP: share of calibration in I1 = I2")(
      "k-reg", po::value(&f->opt.params.k_reg)->default_value(5), "RAPS k_reg")(
      "lambda", po::value(&f->opt.params.lambda)->default_value(0.01), "RAPS/SAPS lambda")(
      "max-queries", po::value(&f->max_queries)->default_value(0),
      "> 0: evenly spaced subsample of the test queries")(
      "batch-size", po::value(&f->opt.batch_size)->default_value(256), "queries per model batch")(
      "out", po::value(&f->out_dir), "report directory (default RUN_DIR/conformal)")(
      "episodes", po::value(&f->episodes)->default_value(200),
      "online runs: simulated test episodes whose decisions are the queries (at most "
      "--max-queries, default 4000)");
  return desc;
}

}  // namespace

int RunConformalEval(const std::vector<std::string>& args, std::ostream& out) {
  ConformalEvalFlags f;
  const po::options_description desc = ConformalEvalOptionsDescription(&f);
  auto cl = ParseCommandLine(args, desc);
  if (cl.help) {
    PrintCommandHelp(
        out, "conformal-eval RUN_DIR [options]",
        "Conformal prediction sets of a trained model (`recarena train` run directory) on its\n"
        "test windows: calibrates on a random half of the test queries and reports coverage and\n"
        "set sizes for every alpha and score function (thr, aps, raps, saps, rank, and the\n"
        "weighted combination under each split strategy), overall, by set size and by user\n"
        "activity. Writes report.md and report.csv, prints JSON. See docs/conformal.md.\n"
        "For an online run (`recarena online` directory) the queries are the agent's decisions\n"
        "in its evaluation simulator and the labels items the simulated users accept there.",
        desc);
    return 0;
  }
  if (cl.positional.size() != 1) throw Error("conformal-eval: give exactly one RUN_DIR");
  if (!cl.overrides.empty()) throw Error("unexpected argument " + QuoteForError(cl.overrides[0]));
  const fs::path run_dir = cl.positional[0];
  f.opt.alphas.clear();
  for (const auto& a : Split(f.alphas, ',')) {
    const auto t = std::string(Trim(a));
    try {
      ParseDecimalFraction(t);  // validates, naming the value
    } catch (const Error& e) {
      throw Error(std::string("--alphas: ") + e.what());
    }
    f.opt.alphas.push_back(t);
  }
  f.opt.splits.clear();
  if (Trim(f.splits) != "none") {
    for (const auto& s : Split(f.splits, ','))
      f.opt.splits.push_back(config::ParseEnum<SplitStrategy>(Trim(s), "--splits"));
  }
  const std::optional<uint64_t> seed =
      cl.vm.count("seed") ? std::optional<uint64_t>(f.seed) : std::nullopt;
  const auto rep = EvaluateTrainedRunConformal(run_dir, f.opt, seed, f.episodes, f.max_queries);
  const fs::path dir = f.out_dir.empty() ? run_dir / "conformal" : fs::path(f.out_dir);
  WriteConformalReport(rep, run_dir.filename().string(), dir);
  out << ConformalReportJson(rep);
  return 0;
}

}  // namespace recarena::experiments
