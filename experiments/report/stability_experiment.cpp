#include "experiments/report/stability_experiment.h"

#include <fmt/format.h>

#include <torch/torch.h>

#include <cctype>
#include <string>
#include <utility>
#include <vector>

#include "core/atomic_file.h"
#include "core/config.h"
#include "core/error.h"
#include "core/json_read.h"
#include "core/log.h"
#include "core/run_dir.h"
#include "experiments/eval/metrics.h"
#include "experiments/eval/offline_eval.h"
#include "experiments/train/offline_trainer.h"
#include "experiments/train/trained_run.h"

namespace recarena::experiments {

namespace fs = std::filesystem;
using json = nlohmann::json;

void StabilityExperimentOptions::Validate() const {
  if (perturbations < 1) {
    throw Error(fmt::format("--perturbations must be >= 1, got {}", perturbations));
  }
  if (max_queries < 0) throw Error(fmt::format("--max-queries must be >= 0, got {}", max_queries));
  for (const char c : tag) {
    if (std::isalnum(static_cast<unsigned char>(c)) == 0 && c != '.' && c != '_' && c != '-') {
      throw Error(fmt::format("--tag takes letters, digits, '.', '_' and '-', got '{}'", tag));
    }
  }
  try {
    metrics.Validate();
  } catch (const ConfigError& e) {
    throw Error(fmt::format("--{}: {}", e.path(), e.what()));
  }
}

namespace {

// Trains cfg in dir (resuming a killed run, refusing another config) and returns its test metrics.
// A finished run (metrics.json is written last, atomically) is read back instead: resuming it
// would prepare the data and build the model (FINEST: record every reference list) again.
std::map<std::string, double> Train(const OfflineTrainConfig& cfg, const fs::path& dir) {
  EnsureDir(dir);
  CheckRunDirConfig(dir, config::ToYamlString(cfg));
  const fs::path done = dir / "metrics.json";
  if (!fs::exists(done)) return RunOfflineTraining(cfg, dir).test_metrics;
  std::map<std::string, double> metrics;
  const json m = ParseJson(ReadFile(done), done.string());
  for (const auto& [name, v] : m.items()) {
    // metrics.json adds the run's steps and best validation score to the test metrics.
    if (v.is_number() && name != "steps" && name != "best_valid_NDCG@10") {
      metrics[name] = v.get<double>();
    }
  }
  return metrics;
}

// The full ranking of the catalog (descending score, ties by smaller id) of the selected test
// windows, by the run in dir.
struct Rankings {
  std::vector<int64_t> rows;                // test window rows
  std::vector<int32_t> targets;             // their targets (both runs must agree)
  std::vector<std::vector<int32_t>> lists;  // [rows][num_items]
};
Rankings RankTest(const fs::path& dir, int64_t max_queries) {
  LoadedWindowRun r = LoadWindowRun(dir, "stability");
  const data::Windows& w = r.od.test_w;
  Rankings out;
  out.rows = SelectRows(w, r.run.cfg.eval.protocol == EvalProtocol::kLast, max_queries);
  const int32_t n = r.od.num_items();
  const size_t batch = 256;
  for (size_t b = 0; b < out.rows.size(); b += batch) {
    const std::vector<int64_t> rows(
        out.rows.begin() + static_cast<std::ptrdiff_t>(b),
        out.rows.begin() + static_cast<std::ptrdiff_t>(std::min(out.rows.size(), b + batch)));
    auto [items, lengths] = WindowTensors(w, rows);
    const torch::Tensor scores =
        r.agent->Scores(items, lengths).to(torch::kCPU, torch::kFloat32).contiguous();
    for (size_t i = 0; i < rows.size(); ++i) {
      out.lists.push_back(TopK(scores.data_ptr<float>() + i * static_cast<size_t>(n), n, n));
      out.targets.push_back(w.targets[static_cast<size_t>(rows[i])]);
    }
  }
  return out;
}

}  // namespace

json RunStabilityExperiment(const OfflineTrainConfig& cfg, const fs::path& out,
                            const StabilityExperimentOptions& options) {
  options.Validate();
  if (cfg.model_kind == OfflineModel::kPopularity || cfg.IsSessionModel()) {
    throw Error(fmt::format("stability: model_kind {} has no windowed model to compare",
                            config::EnumToString(cfg.model_kind)));
  }
  EnsureDir(out);
  if (!options.pretrained.empty() && cfg.model_kind != OfflineModel::kFinest) {
    throw Error(fmt::format("stability: --pretrained needs model_kind finest, got {}",
                            config::EnumToString(cfg.model_kind)));
  }
  // With --pretrained, the run named `name` fine-tunes pretrained/<name>.
  auto with_init = [&](OfflineTrainConfig c, const std::string& name) {
    if (options.pretrained.empty()) return c;
    const fs::path init = options.pretrained / name;
    if (!fs::is_directory(init)) {
      throw FileError(init.string(), 0,
                      "--pretrained: no run '" + name + "' in this stability experiment");
    }
    c.finest.init_from = init.string();
    return c;
  };
  OfflineTrainConfig original = with_init(cfg, "original");
  // The whole section, not only the kind: the original run's config (checked on resume) is then
  // the same for every perturbation, which share it.
  original.data.perturb = data::PerturbConfig{};
  log::Info("stability: training the original model in {}", (out / "original").string());
  json report;
  report["original"]["test_metrics"] = Train(original, out / "original");
  const Rankings base = RankTest(out / "original", options.max_queries);

  json perturbed = json::array();
  std::map<std::string, std::vector<double>> means;
  const uint64_t first_seed = cfg.data.perturb.seed != 0 ? cfg.data.perturb.seed : 1;
  for (int i = 1; i <= options.perturbations; ++i) {
    const std::string name =
        "perturbed-" + (options.tag.empty() ? "" : options.tag + "-") + std::to_string(i);
    OfflineTrainConfig c = with_init(cfg, name);
    c.data.perturb.seed = first_seed + static_cast<uint64_t>(i - 1);
    const fs::path dir = out / name;
    log::Info("stability: perturbed retrain {}/{} in {}", i, options.perturbations, dir.string());
    json one;
    one["dir"] = dir.string();
    one["perturb_seed"] = c.data.perturb.seed;
    one["test_metrics"] = Train(c, dir);
    one["rows_perturbed"] = data::PrepareDataset(c.data, c.run.seed).perturbation.size();
    const Rankings other = RankTest(dir, options.max_queries);
    if (other.targets != base.targets) {
      throw Error(
          "stability: the perturbed run's test queries differ from the original's (the "
          "perturbation must leave the test sequences alone)");
    }
    std::vector<std::string> queries;
    std::vector<std::pair<std::vector<int32_t>, std::vector<int32_t>>> pairs;
    for (size_t q = 0; q < base.lists.size(); ++q) {
      queries.push_back(std::to_string(base.rows[q]));
      pairs.emplace_back(base.lists[q], other.lists[q]);
    }
    one["stability"] = StabilityReport(queries, pairs, options.metrics);
    for (const auto& [name, v] : one["stability"]["overall"].items()) {
      if (v.is_object()) means[name].push_back(v["mean"].get<double>());
    }
    perturbed.push_back(std::move(one));
  }
  report["perturbed"] = std::move(perturbed);
  for (const auto& [name, values] : means) {
    double sum = 0.0;
    for (double v : values) sum += v;
    report["summary"][name] = sum / static_cast<double>(values.size());
  }
  report["num_queries"] = base.rows.size();
  if (!options.pretrained.empty()) report["pretrained"] = options.pretrained.string();
  report["perturb"] = {{"kind", config::EnumToString(cfg.data.perturb.kind)},
                       {"select", config::EnumToString(cfg.data.perturb.select)},
                       {"ratio", cfg.data.perturb.ratio}};
  if (!options.tag.empty()) report["tag"] = options.tag;
  WriteFileAtomic(
      out / (options.tag.empty() ? "stability.json" : "stability-" + options.tag + ".json"),
      report.dump(2) + "\n");
  return report;
}

}  // namespace recarena::experiments
