// Shared plumbing of CLI commands: option parsing with config overrides, run-directory setup.
#pragma once

#include <boost/program_options.hpp>
#include <filesystem>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "core/run_config.h"
#include "core/run_dir.h"
#include "dist/process_group.h"

namespace recarena::experiments {

struct ParsedCommandLine {
  boost::program_options::variables_map vm;
  std::vector<std::string> overrides;   // "section.key=value" arguments, in order
  std::vector<std::string> positional;  // other bare arguments, in order
  bool help = false;
};

// Parses args against options (a --help flag is added); bare arguments containing '=' are config
// overrides, other bare arguments positional. Throws boost::program_options::error on bad options.
ParsedCommandLine ParseCommandLine(const std::vector<std::string>& args,
                                   boost::program_options::options_description options);

// Boost converts "-1" for an unsigned option to 2^64 - 1 without a word; this throws
// recarena::Error naming the option and the value instead, for every option of an unsigned type
// in parsed. ParseCommandLine calls it; commands that parse on their own call it before store.
void RefuseNegativeUnsigned(const boost::program_options::parsed_options& parsed);

// Prints "usage: recarena <usage>" and the options.
void PrintCommandHelp(std::ostream& out, const std::string& usage, const std::string& description,
                      const boost::program_options::options_description& options);

// Chooses and creates the run directory: explicit (if non-empty), else run.out, else
// run.dir/<run.name>-<timestamp>. Applies run.log_level. *created_root (when given): the
// outermost directory this call created, empty when it created none (for FailedStartCleanup,
// core/run_dir.h).
std::filesystem::path SetupRunDir(const RunConfig& run, const std::string& explicit_out,
                                  std::filesystem::path* created_root = nullptr);

// The run directory of a command that may be one rank of a job (group nullptr: one process).
// Rank 0 sets it up as SetupRunDir does, checks its config.yaml against resolved_yaml
// (CheckRunDirConfig) and arms cleanup (removes what it created if the start fails); the other
// ranks log only warnings and take rank 0's directory (ShareRunDir, experiments/train).
std::filesystem::path SetupJobRunDir(dist::ProcessGroup* group, const RunConfig& run,
                                     const std::string& explicit_out,
                                     const std::string& resolved_yaml,
                                     std::optional<FailedStartCleanup>& cleanup);

}  // namespace recarena::experiments
