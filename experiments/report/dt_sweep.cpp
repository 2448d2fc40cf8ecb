#include "experiments/report/dt_sweep.h"

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
#include "experiments/eval/offline_eval.h"
#include "experiments/train/offline_trainer.h"
#include "experiments/train/trained_run.h"
#include "models/checkpoint.h"
#include "models/device.h"

namespace recarena::experiments {

namespace fs = std::filesystem;

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

std::string PlotDtSweep(const fs::path& out_dir, std::string markdown) {
  const fs::path script = fs::path(RECARENA_SOURCE_DIR) / "scripts" / "plot_dt_sweep.py";
  if (RunPythonScript(script,
                      {(out_dir / "sweep.csv").string(), (out_dir / "sweep.png").string()}) == 0) {
    markdown += "![trade-off](sweep.png)\n";
    WriteFileAtomic(out_dir / "sweep.md", markdown);
  } else {
    log::Warn("dt-sweep: no plot (" + PythonInterpreter() + " with matplotlib is not available)");
  }
  return markdown;
}

}  // namespace recarena::experiments
