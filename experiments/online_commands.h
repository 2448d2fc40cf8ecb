// `recarena online --config FILE` (one agent in one simulator) and `recarena experiment FILE`
// (a grid of agents x exploration strategies x seeds x simulators with a comparison table and
// learning-curve plots).
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "core/config_schema.h"

namespace recarena::experiments {

// The `experiment:` file.
struct ExperimentConfig {
  std::string name = "experiment";
  std::string out;                        // results directory (default runs/<name>)
  std::vector<std::string> agents;        // online configs (one per agent), relative to the file
  std::vector<std::string> explorations;  // exploration.kind values; learning agents only
  std::vector<int64_t> seeds{1, 2, 3};
  std::vector<std::string> simulators;  // simulator.dir values; empty = each config's own
  std::vector<std::string> overrides;   // section.key=value applied to every cell
  template <class V>
  void Visit(V& v) {
    v("name", name);
    v("out", out);
    v("agents", agents);
    v("explorations", explorations);
    v("seeds", seeds);
    v("simulators", simulators);
    v("overrides", overrides);
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

int RunOnlineCommand(const std::vector<std::string>& args, std::ostream& out);
int RunExperimentCommand(const std::vector<std::string>& args, std::ostream& out);

}  // namespace recarena::experiments
