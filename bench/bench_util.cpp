#include "bench/bench_util.h"

#include <algorithm>
#include <chrono>
#include <iostream>
#include <thread>

#include "core/error.h"
#include "core/strings.h"
#include "models/device.h"

namespace recarena::bench {

namespace po = boost::program_options;

void RequireAtLeast(const std::string& flag, int64_t value, int64_t min) {
  if (value < min) {
    throw Error("--" + flag + " must be >= " + std::to_string(min) + ", got " +
                std::to_string(value));
  }
}

std::vector<std::string> SplitList(const std::string& flag, const std::string& value) {
  std::vector<std::string> out;
  for (const std::string& part : Split(value, ',')) {
    const std::string word(Trim(part));
    if (word.empty()) throw Error("--" + flag + ": empty entry in " + QuoteForError(value));
    out.push_back(word);
  }
  return out;
}

void AddCommonOptions(po::options_description& desc, CommonOptions& o,
                      const std::string& device_help, const std::string& seed_help) {
  desc.add_options()("threads", po::value<int64_t>(&o.threads)->default_value(o.threads),
                     "intra-op threads (torch::set_num_threads); 0 = hardware concurrency")(
      "device", po::value<std::string>(&o.device)->default_value(o.device), device_help.c_str())(
      "seed", po::value<uint64_t>(&o.seed)->default_value(o.seed), seed_help.c_str())(
      "list-devices", po::bool_switch(&o.list_devices),
      "print the devices 'auto' resolves to (comma-separated) and exit");
}

bool ParseOrPrintHelp(int argc, char** argv, const po::options_description& desc) {
  po::variables_map vm;
  try {
    po::store(po::parse_command_line(argc, argv, desc), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    throw Error(std::string(e.what()) + " (see --help)");
  }
  if (vm.count("help")) {
    std::cout << desc << "\n";
    return false;
  }
  return true;
}

int64_t ResolveThreads(int64_t threads) {
  return threads == 0 ? std::max<int64_t>(1, std::thread::hardware_concurrency()) : threads;
}

std::vector<std::string> ResolveDevices(const std::vector<std::string>& names) {
  std::vector<std::string> out;
  auto add = [&](const std::string& d) {
    if (std::find(out.begin(), out.end(), d) == out.end()) out.push_back(d);
  };
  for (const std::string& d : names) {
    if (d == "cpu") {
      add("cpu");
    } else if (d == "cuda") {
      if (!models::CudaAvailable()) {
        throw Error("--device cuda: LibTorch sees no CUDA device (use auto or cpu)");
      }
      add("cuda");
    } else if (d == "auto") {
      add("cpu");
      if (models::CudaAvailable()) add("cuda");
    } else {
      throw Error("--device: unknown device " + QuoteForError(d) + "; choices: cpu, cuda, auto");
    }
  }
  return out;
}

torch::Device TorchDevice(const std::string& name) {
  return name == "cuda" ? torch::Device(torch::kCUDA, 0) : torch::Device(torch::kCPU);
}

namespace {

void Sync(const torch::Device& device) {
  if (device.is_cuda()) torch::cuda::synchronize();
}

}  // namespace

double TimedSeconds(const torch::Device& device, const std::function<void()>& body) {
  Sync(device);
  const auto start = std::chrono::steady_clock::now();
  body();
  Sync(device);
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

nlohmann::json CommonJson(const CommonOptions& o, const std::string& device_name, int64_t params) {
  nlohmann::json line;
  line["impl"] = "cpp";
  line["device"] = device_name;
  line["threads"] = o.threads;
  line["seed"] = o.seed;
  line["params"] = params;
  line["torch"] = TORCH_VERSION;
  return line;
}

bool StartRun(const CommonOptions& o, const std::vector<std::string>& devices) {
  if (o.list_devices) {
    std::cout << Join(devices, ",") << "\n";
    return false;
  }
  torch::set_num_threads(static_cast<int>(o.threads));
  return true;
}

int RunMain(const std::string& program, const std::function<int()>& body) {
  try {
    return body();
  } catch (const Error& e) {
    std::cerr << program << ": " << e.what() << "\n";
    return 2;
  }
}

}  // namespace recarena::bench
