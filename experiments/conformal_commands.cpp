#include "experiments/conformal_commands.h"

#include <boost/program_options.hpp>
#include <nlohmann/json.hpp>

#include "experiments/conformal_files.h"

namespace recarena::experiments {

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
  po::store(po::command_line_parser(args).options(desc).run(), vm);
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

}  // namespace recarena::experiments
