// The stability experiment of `recarena stability` (issue 18, CASPER / FINEST protocol): train a
// model, retrain it from the same initial weights on perturbed copies of its training data, and
// compare the two models' full rankings on every test query (docs/stability.md).
//
// cfg is a `recarena train` config whose data.perturb section says how to perturb (kind none: a
// control, the retrain sees the same data). The original run trains cfg with the default
// data.perturb (none) in out/original; perturbed run i (1..perturbations) trains cfg with
// perturb.seed = base + i - 1 (base = data.perturb.seed, or 1 when it is 0) in
// out/perturbed-<i> (out/perturbed-<tag>-<i> with a tag). Both start from the same initial
// weights: the model is built right after torch::manual_seed(run.seed), and the catalog (hence
// every shape) is the same. Each run directory resumes like `recarena train`'s, and a finished one
// is read back (its metrics.json) without training or loading anything: experiments with
// different perturbations and tags in one directory share the original run.
#pragma once

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "experiments/eval/stability.h"
#include "experiments/train/offline_config.h"

namespace recarena::experiments {

struct StabilityExperimentOptions {
  int perturbations = 1;     // perturbed retrains
  StabilityOptions metrics;  // k, p of RBO@k, FRBO@k, Jaccard@k
  // Test queries compared (evenly spaced deterministic subsample; 0 = all): each one ranks the
  // whole catalog twice.
  int64_t max_queries = 2000;
  // model_kind finest only: an earlier experiment's directory whose runs are the pre-trained
  // models, each fine-tuned on its own data: out/original from pretrained/original and
  // out/perturbed-i from pretrained/perturbed-i (the FINEST paper's setting: the model trained on
  // the perturbed data is the one fine-tuned on it). Empty: finest.init_from for every run.
  std::filesystem::path pretrained;
  // Names this experiment's perturbed runs and report inside out (perturbed-<tag>-<i>,
  // stability-<tag>.json) so that several perturbations share out/original; empty: perturbed-<i>,
  // stability.json. Letters, digits, '.', '_' and '-' only.
  std::string tag;
  void Validate() const;  // Error naming the flag
};

// Runs the experiment and writes out/stability.json (stability-<tag>.json; atomically); returns the
// same JSON: "original": {"test_metrics"}, "perturbed": [{"dir", "perturb_seed", "rows_perturbed",
// "test_metrics", "stability" (StabilityReport over the full rankings)}], and "summary": for each
// stability metric its mean over the perturbed runs. Windowed model kinds only (not popularity or
// the session models): FileError naming the config otherwise.
nlohmann::json RunStabilityExperiment(const OfflineTrainConfig& cfg,
                                      const std::filesystem::path& out,
                                      const StabilityExperimentOptions& options);

}  // namespace recarena::experiments
