#include "experiments/cli/dt_sweep_command.h"

#include <fmt/format.h>

#include <boost/program_options.hpp>
#include <filesystem>
#include <stdexcept>

#include "core/error.h"
#include "core/strings.h"
#include "experiments/cli/command_util.h"
#include "experiments/report/dt_sweep.h"

namespace recarena::experiments {

namespace fs = std::filesystem;
namespace po = boost::program_options;

namespace {
std::vector<double> ParseValues(const std::string& text, const std::string& option) {
  std::vector<double> out;
  for (const auto& part : Split(text, ',')) {
    const std::string t(Trim(part));
    try {
      size_t used = 0;
      out.push_back(std::stod(t, &used));
      if (used != t.size()) throw std::invalid_argument(t);
    } catch (const std::exception&) {
      throw Error(fmt::format("--{}: {} is not a number", option, QuoteForError(t)));
    }
  }
  if (out.empty()) throw Error("--" + option + " lists no value");
  return out;
}
}  // namespace

int RunDtSweepCommand(const std::vector<std::string>& args, std::ostream& out) {
  std::string alphas = "0,0.25,0.5,1,2,4", lambdas = "0,0.5,1,1.5,2,3", out_dir;
  int64_t max_queries = 0;
  po::options_description opts("options");
  opts.add_options()("alphas", po::value(&alphas)->default_value(alphas),
                     "comma-separated alpha values (Eq. 4.19)")(
      "lambdas", po::value(&lambdas)->default_value(lambdas),
      "comma-separated lambda values (diversity-return scale)")(
      "max-queries", po::value(&max_queries)->default_value(0),
      "evaluate an evenly spaced subsample of the test queries (0 = all)")(
      "out", po::value(&out_dir), "output directory (default RUN_DIR/sweep)");
  auto cl = ParseCommandLine(args, opts);
  if (cl.help) {
    PrintCommandHelp(out, "dt-sweep RUN_DIR [--alphas ...] [--lambdas ...] [--out DIR]",
                     "Scores a trained MODT4R / MRDT run's test windows at each alpha (lambda\n"
                     "fixed) and each lambda (alpha fixed): accuracy vs coverage, written to\n"
                     "sweep.csv, sweep.md and sweep.png (thesis Figs. 4.4-4.5).",
                     opts);
    return 0;
  }
  if (cl.positional.size() != 1) throw Error("dt-sweep takes exactly one RUN_DIR");
  if (!cl.overrides.empty()) throw Error("dt-sweep takes no config overrides");
  const fs::path run_dir = cl.positional[0];
  DtSweepOptions o;
  o.alphas = ParseValues(alphas, "alphas");
  o.lambdas = ParseValues(lambdas, "lambdas");
  o.max_queries = max_queries;
  const fs::path dest = out_dir.empty() ? run_dir / "sweep" : fs::path(out_dir);
  const auto points = RunDtSweep(run_dir, o);
  std::string md = WriteDtSweep(points, dest, run_dir.filename().string());
  md = PlotDtSweep(dest, md);
  out << md << fmt::format("results: {}\n", (dest / "sweep.csv").string());
  return 0;
}

}  // namespace recarena::experiments
