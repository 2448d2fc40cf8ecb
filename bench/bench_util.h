// Shared parts of the C++ benchmark programs (bench/sim_throughput.cpp,
// bench/train_throughput.cpp): flag checks, the options every benchmark has (threads, device, seed,
// list-devices), device resolution, timing and the JSON keys every result line carries.
//
// The Python side of the same parts is bench/bench_util.py; the two benchmarks' C++ and Python
// programs must keep giving the same JSON keys, so change both together.
#pragma once

#include <torch/torch.h>

#include <boost/program_options.hpp>
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace recarena::bench {

// The flags every benchmark program has, with their defaults. threads 0 means
// std::thread::hardware_concurrency() once ResolveThreads has run.
struct CommonOptions {
  int64_t threads = 0;
  std::string device = "auto";
  uint64_t seed = 1;
  bool list_devices = false;
};

// Throws recarena::Error "--FLAG must be >= MIN, got VALUE" when value < min.
void RequireAtLeast(const std::string& flag, int64_t value, int64_t min);

// value split at ',' with each entry trimmed; throws recarena::Error naming --FLAG on an empty
// entry.
std::vector<std::string> SplitList(const std::string& flag, const std::string& value);

// Adds --threads, --device (help text device_help), --seed (help text seed_help) and
// --list-devices, bound to o, at the end of desc (the last options of every program's --help).
void AddCommonOptions(boost::program_options::options_description& desc, CommonOptions& o,
                      const std::string& device_help, const std::string& seed_help);

// Parses argv into the targets bound in desc (which must have a "help" option). Returns false when
// --help was given: then desc has been printed to stdout. Parse errors are thrown as
// recarena::Error ending in " (see --help)".
bool ParseOrPrintHelp(int argc, char** argv,
                      const boost::program_options::options_description& desc);

// threads, or max(1, std::thread::hardware_concurrency()) when threads is 0.
int64_t ResolveThreads(int64_t threads);

// Device names: each of names (already split, trimmed) is cpu, cuda or auto (= cpu, plus cuda when
// LibTorch sees a GPU); returns the distinct devices in order of first mention. Throws
// recarena::Error for cuda without a GPU and for any other name.
std::vector<std::string> ResolveDevices(const std::vector<std::string>& names);

// "cuda" -> cuda:0, anything else -> cpu.
torch::Device TorchDevice(const std::string& name);

// Seconds of wall-clock time (steady clock) that body takes, with the device synchronised before
// and after it so that queued CUDA work is counted.
double TimedSeconds(const torch::Device& device, const std::function<void()>& body);

// The keys every C++ result line has: impl "cpp", device, threads, seed, params, torch (the
// LibTorch version). nlohmann::json keeps keys sorted, so where they are set does not change the
// printed line.
nlohmann::json CommonJson(const CommonOptions& o, const std::string& device_name, int64_t params);

// With o.list_devices: prints devices comma-separated to stdout and returns false (the program then
// exits 0). Otherwise sets torch::set_num_threads(o.threads) and returns true.
bool StartRun(const CommonOptions& o, const std::vector<std::string>& devices);

// Runs body (the whole of a program's main) and returns its status; a recarena::Error thrown from
// it is printed as "PROGRAM: message" to stderr and gives status 2.
int RunMain(const std::string& program, const std::function<int()>& body);

}  // namespace recarena::bench
