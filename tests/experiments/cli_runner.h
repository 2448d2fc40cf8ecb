// Runs the `recarena` CLI in-process for tests and captures its exit code and output.
#pragma once

#include <sstream>
#include <string>
#include <vector>

#include "experiments/cli/cli.h"

namespace recarena::testing {

struct CliResult {
  int code;
  std::string out, err;
};

inline CliResult RunCli(const std::vector<std::string>& args) {
  std::ostringstream out, err;
  const int code = recarena::experiments::Main(args, out, err);
  return {code, out.str(), err.str()};
}

}  // namespace recarena::testing
