// Environment-throughput benchmark, recarena (C++) side: simulated user-steps per second of
// env::VectorEnv::Step for several batch sizes B.
//
// bench/sim_throughput.py is the same simulator written in Python with PyTorch; both print one JSON
// line per (impl, device, batch) with the same keys, and bench/run_sim_throughput.sh runs them side
// by side. The two must stay in step: same simulator, same actions, same JSON keys.
//
// The simulator is built in memory, without fitting (both programs build the same one):
//   response  env::SequentialResponse: a SASRec encoder (1 block, 1 head, dropout 0.1, eval mode)
//             over the history, out = h . W[a] + b[a], click probability sigmoid(out), reward =
//             that probability (RewardMode::kProbability), accepted = uniform < probability.
//             Weights: torch::manual_seed(seed), then the module's constructor.
//   leave     repetition rule (window 5, max_similar 3) with synthetic categories: item i is in
//             category i % C, item_keys = one-hot categories, threshold 0.5; constant hazard h for
//             t = 1..max_length; patience off. Step cap max_length.
//   starts    --starts users; user p starts from one item drawn with
//   Rng(seed).Fork(1).UniformInt(N).
// For each B: VectorEnv(B).Reset(seed), torch::manual_seed(seed), then W warm-up and S timed steps.
// Each step's actions are torch::randint(0, N, {B}) on the env's device (the default generator, so
// the same calls in Python give the same actions); making them is inside the timed loop on both
// sides. Besides the rate, each line carries checksums of the run (episodes started, the sum of all
// rewards, the sum of the final observation's items and lengths): equal checksums on both sides
// mean the two simulators produced the same trajectories, not only similar work.
#include <torch/torch.h>

#include <algorithm>
#include <boost/program_options.hpp>
#include <chrono>
#include <cstdint>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "core/device.h"
#include "core/error.h"
#include "core/rng.h"
#include "core/strings.h"
#include "env/response_model.h"
#include "env/simulator.h"
#include "env/vector_env.h"

namespace {

namespace po = boost::program_options;
using recarena::Error;
namespace env = recarena::env;

struct BenchOptions {
  std::vector<int64_t> batch_sizes{1, 64, 1024, 4096};
  std::vector<int64_t> steps{2000, 300, 40, 15};  // per batch size (or one value for all)
  int64_t items = 2000;
  int64_t state_len = 10;
  int64_t hidden = 32;
  int64_t categories = 20;
  int64_t starts = 1000;
  int64_t max_length = 50;
  double hazard = 0.05;
  int64_t warmup = 5;
  int64_t threads = 0;  // 0 = std::thread::hardware_concurrency()
  std::string device = "auto";
  uint64_t seed = 1;
  bool list_devices = false;
};

std::vector<int64_t> ParseIntList(const std::string& flag, const std::string& value, int64_t min) {
  std::vector<int64_t> out;
  for (const std::string& part : recarena::Split(value, ',')) {
    const std::string word(recarena::Trim(part));
    size_t used = 0;
    int64_t v = 0;
    try {
      v = std::stoll(word, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (word.empty() || used != word.size()) {
      throw Error("--" + flag + ": not an integer: " + recarena::QuoteForError(word) + " in " +
                  recarena::QuoteForError(value));
    }
    if (v < min) {
      throw Error("--" + flag + ": entries must be >= " + std::to_string(min) + ", got " +
                  std::to_string(v));
    }
    out.push_back(v);
  }
  return out;
}

std::string JoinInts(const std::vector<int64_t>& values) {
  std::vector<std::string> parts;
  for (int64_t v : values) parts.push_back(std::to_string(v));
  return recarena::Join(parts, ",");
}

void RequireAtLeast(const std::string& flag, int64_t value, int64_t min) {
  if (value < min) {
    throw Error("--" + flag + " must be >= " + std::to_string(min) + ", got " +
                std::to_string(value));
  }
}

// Parses argv; returns false when --help was printed.
bool ParseFlags(int argc, char** argv, BenchOptions& o) {
  std::string batch_sizes = JoinInts(o.batch_sizes);
  std::string steps = JoinInts(o.steps);
  po::options_description desc(
      "recarena_bench_sim: environment throughput (user-steps/s) of env::VectorEnv.\n"
      "Prints one JSON line per (device, batch size). Options");
  desc.add_options()("help,h", "print this help")(
      "batch-sizes", po::value<std::string>(&batch_sizes)->default_value(batch_sizes),
      "comma-separated numbers of simulated users B")(
      "steps", po::value<std::string>(&steps)->default_value(steps),
      "timed steps: one value, or one per batch size")(
      "warmup", po::value<int64_t>(&o.warmup)->default_value(o.warmup),
      "untimed steps after Reset")("items", po::value<int64_t>(&o.items)->default_value(o.items),
                                   "catalog size N")(
      "state-len", po::value<int64_t>(&o.state_len)->default_value(o.state_len),
      "history length L of the observation and the response model")(
      "hidden", po::value<int64_t>(&o.hidden)->default_value(o.hidden), "SASRec hidden size D")(
      "categories", po::value<int64_t>(&o.categories)->default_value(o.categories),
      "synthetic categories C (item i is in category i % C)")(
      "starts", po::value<int64_t>(&o.starts)->default_value(o.starts),
      "start states (users, one start item each)")(
      "max-length", po::value<int64_t>(&o.max_length)->default_value(o.max_length),
      "episode step cap")("hazard", po::value<double>(&o.hazard)->default_value(o.hazard),
                          "constant leave hazard per step")(
      "threads", po::value<int64_t>(&o.threads)->default_value(o.threads),
      "intra-op threads (torch::set_num_threads); 0 = hardware concurrency")(
      "device", po::value<std::string>(&o.device)->default_value(o.device),
      "cpu, cuda, or auto (= cpu, plus cuda when LibTorch sees a GPU); comma-separated")(
      "seed", po::value<uint64_t>(&o.seed)->default_value(o.seed),
      "seed of the weights, the start states, the env and the actions")(
      "list-devices", po::bool_switch(&o.list_devices),
      "print the devices 'auto' resolves to (comma-separated) and exit");
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
  o.batch_sizes = ParseIntList("batch-sizes", batch_sizes, 1);
  o.steps = ParseIntList("steps", steps, 1);
  if (o.steps.size() == 1) o.steps.assign(o.batch_sizes.size(), o.steps[0]);
  if (o.steps.size() != o.batch_sizes.size()) {
    throw Error("--steps: give one value or one per batch size (" +
                std::to_string(o.batch_sizes.size()) + "), got " + std::to_string(o.steps.size()));
  }
  RequireAtLeast("items", o.items, 1);
  RequireAtLeast("state-len", o.state_len, 1);
  RequireAtLeast("hidden", o.hidden, 1);
  RequireAtLeast("categories", o.categories, 1);
  RequireAtLeast("starts", o.starts, 1);
  RequireAtLeast("max-length", o.max_length, 1);
  RequireAtLeast("warmup", o.warmup, 0);
  RequireAtLeast("threads", o.threads, 0);
  if (!(o.hazard >= 0.0 && o.hazard <= 1.0)) {
    throw Error("--hazard must be in [0, 1], got " + std::to_string(o.hazard));
  }
  if (o.threads == 0) o.threads = std::max<int64_t>(1, std::thread::hardware_concurrency());
  return true;
}

std::vector<std::string> ResolveDevices(const std::string& flag) {
  std::vector<std::string> out;
  auto add = [&](const std::string& d) {
    if (std::find(out.begin(), out.end(), d) == out.end()) out.push_back(d);
  };
  for (const std::string& part : recarena::Split(flag, ',')) {
    const std::string d(recarena::Trim(part));
    if (d == "cpu") {
      add("cpu");
    } else if (d == "cuda") {
      if (!recarena::CudaAvailable()) {
        throw Error("--device cuda: LibTorch sees no CUDA device (use auto or cpu)");
      }
      add("cuda");
    } else if (d == "auto") {
      add("cpu");
      if (recarena::CudaAvailable()) add("cuda");
    } else {
      throw Error("--device: unknown device " + recarena::QuoteForError(d) +
                  "; choices: cpu, cuda, auto");
    }
  }
  return out;
}

// The simulator described at the top of this file, on `device`; params = trainable parameters of
// its response model.
std::shared_ptr<env::Simulator> BuildSimulator(const BenchOptions& o, const torch::Device& device,
                                               int64_t& params) {
  auto sim = std::make_shared<env::Simulator>();
  env::SimConfig& cfg = sim->cfg;
  cfg.max_length = o.max_length;
  cfg.initial_items = 1;
  cfg.rejected_in_history = false;
  cfg.response.kind = env::ResponseKind::kSequential;
  cfg.response.target = env::ResponseTarget::kClick;
  cfg.response.reward = env::RewardMode::kProbability;
  cfg.response.encoder.kind = recarena::policies::EncoderKind::kSasRec;
  cfg.response.encoder.state_len = o.state_len;
  cfg.response.encoder.hidden = o.hidden;
  cfg.response.encoder.dropout = 0.1;
  cfg.response.encoder.num_heads = 1;
  cfg.response.encoder.num_blocks = 1;
  cfg.leave.repetition.enabled = true;
  cfg.leave.repetition.similarity = env::SimilarityKind::kCategory;
  cfg.leave.repetition.window = 5;
  cfg.leave.repetition.max_similar = 3;
  cfg.leave.patience.enabled = false;
  cfg.leave.hazard.enabled = true;
  cfg.Validate();

  sim->num_items = o.items;
  sim->num_users = o.starts;
  sim->state_len = o.state_len;
  recarena::policies::EncoderOptions enc = cfg.response.encoder;
  enc.num_items = o.items;
  torch::manual_seed(o.seed);
  auto model = std::make_shared<env::SequentialResponseImpl>(enc);
  params = 0;
  for (const torch::Tensor& p : model->parameters()) params += p.numel();
  sim->response = std::make_shared<env::ResponseEnsemble>(
      cfg.response, std::vector<std::shared_ptr<env::ResponseModelImpl>>{model});
  sim->hazard.assign(static_cast<size_t>(o.max_length), o.hazard);
  recarena::Rng rng = recarena::Rng(o.seed).Fork(1);
  for (int64_t p = 0; p < o.starts; ++p) {
    env::StartState s;
    s.user = p;
    s.items.push_back(static_cast<int64_t>(rng.UniformInt(static_cast<uint64_t>(o.items))));
    sim->starts.push_back(std::move(s));
  }
  const torch::Tensor ids = torch::arange(o.items, torch::kLong);
  sim->item_keys = torch::zeros({o.items, o.categories}, torch::kFloat);
  sim->item_keys.index_put_({ids, ids.remainder(o.categories)}, 1.0);
  sim->similarity_threshold = 0.5;
  sim->to(device);
  return sim;
}

void Sync(const torch::Device& device) {
  if (device.is_cuda()) torch::cuda::synchronize();
}

nlohmann::json RunOne(const BenchOptions& o, const std::shared_ptr<const env::Simulator>& sim,
                      int64_t params, const std::string& device_name, int64_t batch,
                      int64_t steps) {
  const torch::Device device =
      device_name == "cuda" ? torch::Device(torch::kCUDA, 0) : torch::Device(torch::kCPU);
  env::VectorEnvOptions options;
  options.num_envs = batch;
  options.mask_repeats = false;
  options.leave_enabled = true;
  options.device = device;
  env::VectorEnv venv(sim, options);
  env::StepResult r = venv.Reset(o.seed);
  torch::manual_seed(o.seed);
  const auto action_opts = torch::TensorOptions().dtype(torch::kLong).device(device);
  torch::Tensor reward_sum =
      torch::zeros({}, torch::TensorOptions().dtype(torch::kDouble).device(device));
  auto step = [&] {
    r = venv.Step(torch::randint(0, o.items, {batch}, action_opts));
    reward_sum += r.reward.sum().to(torch::kDouble);
  };
  for (int64_t i = 0; i < o.warmup; ++i) step();
  Sync(device);
  const auto start = std::chrono::steady_clock::now();
  for (int64_t i = 0; i < steps; ++i) step();
  Sync(device);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  int64_t episodes = 0;
  for (int64_t e : r.episode_id) episodes = std::max(episodes, e + 1);
  nlohmann::json line;
  line["impl"] = "cpp";
  line["device"] = device_name;
  line["batch"] = batch;
  line["steps"] = steps;
  line["warmup"] = o.warmup;
  line["threads"] = o.threads;
  line["items"] = o.items;
  line["state_len"] = o.state_len;
  line["hidden"] = o.hidden;
  line["categories"] = o.categories;
  line["starts"] = o.starts;
  line["max_length"] = o.max_length;
  line["hazard"] = o.hazard;
  line["seed"] = o.seed;
  line["params"] = params;
  line["steps_per_s"] = static_cast<double>(batch * steps) / seconds;
  line["seconds"] = seconds;
  line["episodes"] = episodes;
  line["reward_sum"] = reward_sum.item<double>();
  line["items_sum"] = r.observation.items.sum().item<int64_t>();
  line["lengths_sum"] = r.observation.lengths.sum().item<int64_t>();
  line["torch"] = TORCH_VERSION;
  return line;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    BenchOptions o;
    if (!ParseFlags(argc, argv, o)) return 0;
    const std::vector<std::string> devices = ResolveDevices(o.device);
    if (o.list_devices) {
      std::cout << recarena::Join(devices, ",") << "\n";
      return 0;
    }
    torch::set_num_threads(static_cast<int>(o.threads));
    for (const std::string& device_name : devices) {
      const torch::Device device =
          device_name == "cuda" ? torch::Device(torch::kCUDA, 0) : torch::Device(torch::kCPU);
      int64_t params = 0;
      const std::shared_ptr<const env::Simulator> sim = BuildSimulator(o, device, params);
      for (size_t k = 0; k < o.batch_sizes.size(); ++k) {
        std::cout << RunOne(o, sim, params, device_name, o.batch_sizes[k], o.steps[k]).dump()
                  << std::endl;
      }
    }
    return 0;
  } catch (const recarena::Error& e) {
    std::cerr << "recarena_bench_sim: " << e.what() << "\n";
    return 2;
  }
}
