#include "experiments/dt_sweep.h"

#include <fmt/format.h>
#include <torch/torch.h>

#include <cstdlib>
#include <set>

#include "agents/modt4r.h"
#include "core/atomic_file.h"
#include "core/config.h"
#include "core/error.h"
#include "core/log.h"
#include "core/process.h"
#include "core/strings.h"
#include "experiments/command_util.h"
#include "experiments/offline_eval.h"
#include "experiments/offline_trainer.h"
#include "experiments/trained_run.h"
#include "models/checkpoint.h"
#include "models/device.h"

namespace recarena::experiments {

namespace fs = std::filesystem;
namespace po = boost::program_options;

std::vector<DtSweepPoint> RunDtSweep(const fs::path& run_dir, const DtSweepOptions& options) {
  for (double v : options.alphas)
    if (!(v >= 0.0)) throw Error(fmt::format("dt-sweep: alpha must be >= 0, got {}", v));
  for (double v : options.lambdas)
    if (!(v >= 0.0)) throw Error(fmt::format("dt-sweep: lambda must be >= 0, got {}", v));
  const TrainedRun run = OpenTrainedRun(run_dir, "dt-sweep");
  RequireModelKind(run, {OfflineModel::kModt4r, OfflineModel::kMrdt}, "dt-sweep");
  const OfflineTrainConfig& cfg = run.cfg;
  const fs::path& ckpt = run.best;
  if (cfg.train.threads > 0) torch::set_num_threads(static_cast<int>(cfg.train.threads));
  const torch::Device device = models::ResolveDevice(cfg.run.device);
  const OfflineData od = BuildOfflineData(cfg);
  agents::Modt4rAgent agent(ResolvedModelOptions(cfg, od.num_items()), cfg.dt,
                            OrderOf(cfg.model_kind),
                            TrainingLongTail(od.train_seqs, od.num_items()), device);
  if (const torch::Tensor v = DtSimilarityVectors(cfg.dt, od.prepared); v.defined()) {
    agent.SetSimilarityVectors(v);
  }
  models::LoadArchiveFile(ckpt, [&](torch::serialize::InputArchive& a) { agent.Load(a); });
  const MetricsContext ctx = ContextFor(od.prepared);
  OfflineEvalOptions eval;
  eval.ks = cfg.eval.ks;
  eval.batch_size = cfg.eval.batch_size;
  eval.last_only = cfg.eval.protocol == EvalProtocol::kLast;
  eval.max_queries = options.max_queries;
  const BatchScorer scorer = [&](const torch::Tensor& items, const torch::Tensor& lengths) {
    return agent.Scores(items, lengths);
  };
  const agents::Modt4rInference base = agent.inference();
  std::vector<DtSweepPoint> points;
  auto run_point = [&](const std::string& parameter, double alpha, double lambda) {
    agents::Modt4rInference inf = base;
    inf.alpha = alpha;
    inf.returns.lambda = lambda;
    agent.SetInference(inf);
    DtSweepPoint p;
    p.parameter = parameter;
    p.alpha = alpha;
    p.lambda = lambda;
    p.epsilon = inf.returns.epsilon;
    p.metrics = EvaluateWindows(scorer, od.test_w, ctx, eval);
    log::Info("dt-sweep {} alpha {} lambda {}: HR@10 {:.4f} CV_div@10 {:.4f}", parameter, alpha,
              lambda, p.metrics.count("HR@10") ? p.metrics.at("HR@10") : 0.0,
              p.metrics.count("CV_div@10") ? p.metrics.at("CV_div@10") : 0.0);
    points.push_back(std::move(p));
  };
  for (double a : options.alphas) run_point("alpha", a, base.returns.lambda);
  for (double l : options.lambdas) run_point("lambda", base.alpha, l);
  agent.SetInference(base);
  return points;
}

std::string WriteDtSweep(const std::vector<DtSweepPoint>& points, const fs::path& out_dir,
                         const std::string& title) {
  fs::create_directories(out_dir);
  std::set<std::string> names;
  for (const auto& p : points)
    for (const auto& [k, v] : p.metrics) names.insert(k);
  std::string csv = "parameter,alpha,lambda,epsilon";
  for (const auto& n : names) csv += "," + n;
  csv += "\n";
  for (const auto& p : points) {
    csv += fmt::format("{},{},{},{}", p.parameter, p.alpha, p.lambda, p.epsilon);
    for (const auto& n : names) {
      auto it = p.metrics.find(n);
      csv += it == p.metrics.end() ? "," : fmt::format(",{:.6f}", it->second);
    }
    csv += "\n";
  }
  WriteFileAtomic(out_dir / "sweep.csv", csv);
  const std::vector<std::string> cols = {"HR@10",     "NDCG@10",   "HR@20",
                                         "CV_div@10", "CV_nov@10", "CV_div@20"};
  std::string md = fmt::format("# Inference sweep: {}\n\n", title);
  for (const std::string param : {"alpha", "lambda"}) {
    md += fmt::format("## {} (the other parameters at the run's values)\n\n| {} |", param, param);
    for (const auto& c : cols) md += " " + c + " |";
    md += "\n|---|";
    for (size_t i = 0; i < cols.size(); ++i) md += "---|";
    md += "\n";
    for (const auto& p : points) {
      if (p.parameter != param) continue;
      md += fmt::format("| {} |", param == "alpha" ? p.alpha : p.lambda);
      for (const auto& c : cols) {
        auto it = p.metrics.find(c);
        md += it == p.metrics.end() ? " n/a |" : fmt::format(" {:.4f} |", it->second);
      }
      md += "\n";
    }
    md += "\n";
  }
  WriteFileAtomic(out_dir / "sweep.md", md);
  return md;
}

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
  const fs::path script = fs::path(RECARENA_SOURCE_DIR) / "scripts" / "plot_dt_sweep.py";
  if (RunPythonScript(script, {(dest / "sweep.csv").string(), (dest / "sweep.png").string()}) ==
      0) {
    md += "![trade-off](sweep.png)\n";
    WriteFileAtomic(dest / "sweep.md", md);
  } else {
    log::Warn("dt-sweep: no plot (" + PythonInterpreter() + " with matplotlib is not available)");
  }
  out << md << fmt::format("results: {}\n", (dest / "sweep.csv").string());
  return 0;
}

}  // namespace recarena::experiments
