// The `recarena` command-line interface: a table of subcommands ("data prepare", "data stats",
// ...), each parsing its own options with Boost.Program_options.
//
// Contract: a command returns the process exit status (0 ok). User errors are thrown as
// recarena::Error and turned into a message + exit status 2 by Main(); --help prints usage and
// exits 0.
#pragma once

#include <functional>
#include <ostream>
#include <string>
#include <vector>

namespace recarena::experiments {

struct CliCommand {
  std::vector<std::string> words;  // e.g. {"data", "prepare"}
  std::string summary;             // one line for `recarena --help`
  std::function<int(const std::vector<std::string>& args, std::ostream& out)> run;
};

// Every registered command (data, train, sim, ... as they exist).
const std::vector<CliCommand>& Commands();

// Runs the CLI on argv-style arguments (without the program name); output to out, errors to err.
int Main(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace recarena::experiments
