// An online experiment (`recarena experiment FILE`): a grid of agent configs x exploration
// strategies x seeds x simulators, each cell a resumable `online` run in its own directory, then
// results.csv (every evaluation of every cell), summary.md (mean ± std over seeds) and
// learning-curve plots; with experiment.ranking, ranking.md (policy_ranking.h).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "core/config_schema.h"
#include "experiments/report/policy_ranking.h"

namespace recarena::experiments {

// The `experiment:` file.
struct ExperimentConfig {
  std::string name = "experiment";
  std::string out;                        // results directory (default runs/<name>)
  std::vector<std::string> agents;        // online configs (one per agent), relative to the file
  std::vector<std::string> explorations;  // exploration.kind values; learning agents only
  std::vector<int64_t> seeds{1, 2, 3};
  std::vector<std::string> simulators;  // simulator.dir values; empty = each config's own
  // section.key=value applied to every cell; "{seed}" in one is replaced by the cell's seed (a
  // per-seed input, e.g. agent.ialp.init_from=runs/ialp/distill/seed-{seed})
  std::vector<std::string> overrides;
  RankingOptions ranking;  // policy ranking in two roles (experiments/report/policy_ranking.h)
  template <class V>
  void Visit(V& v) {
    v("name", name);
    v("out", out);
    v("agents", agents);
    v("explorations", explorations);
    v("seeds", seeds);
    v("simulators", simulators);
    v("overrides", overrides);
    v("ranking", ranking);
  }
  void Validate() const;
};
struct ExperimentFile {
  ExperimentConfig experiment;
  template <class V>
  void Visit(V& v) {
    v("experiment", experiment);
  }
  void Validate() const { experiment.Validate(); }
};

// The results directory of an experiment: out_dir when given, else experiment.out, else
// runs/<experiment.name>.
std::filesystem::path ExperimentRoot(const ExperimentConfig& ex, const std::string& out_dir);

// Runs (or resumes) every cell under root, in grid order. Agent config paths are taken as given
// when they exist or are absolute, else relative to `file`'s folder; experiment.overrides apply to
// every cell, then exploration.kind and run.seed. A cell directory holding another config is an
// error naming it.
std::vector<ExperimentCell> RunExperimentCells(const ExperimentConfig& ex,
                                               const std::filesystem::path& file,
                                               const std::filesystem::path& root);

// Writes root/results.csv, the plots (when the virtualenv's matplotlib runs) and root/summary.md
// from the cells' metrics files; returns the summary's Markdown.
std::string WriteExperimentResults(const ExperimentConfig& ex,
                                   const std::vector<ExperimentCell>& cells,
                                   const std::filesystem::path& root);

}  // namespace recarena::experiments
