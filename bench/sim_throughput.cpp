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
// --sim-dir DIR instead loads the test role of a fitted simulator (`recarena sim fit`), and the
// sizes come from it: bench/python_env_throughput.py is then the twin, driving the same simulator
// from Python through the recarena package (bench/run_python_env_throughput.sh).
// For each B: VectorEnv(B).Reset(seed), torch::manual_seed(seed), then W warm-up and S timed steps.
// Each step's actions are torch::randint(0, N, {B}) on the env's device (the default generator, so
// the same calls in Python give the same actions); making them is inside the timed loop on both
// sides. Besides the rate, each line carries checksums of the run (episodes started, the sum of all
// rewards, the sum of the final observation's items and lengths): equal checksums on both sides
// mean the two simulators produced the same trajectories, not only similar work.
#include <torch/torch.h>

#include <algorithm>
#include <boost/program_options.hpp>
#include <cstdint>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "bench/bench_util.h"
#include "bench/step_cost.h"
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
namespace bench = recarena::bench;

// threads, device, seed, list_devices: bench::CommonOptions.
struct BenchOptions : bench::CommonOptions {
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
  std::string sim_dir;          // a fitted simulator instead of the in-memory one
  bool full_recompute = false;  // VectorEnvOptions::incremental = false
  bool roofline = false;        // add bench/step_cost.h's keys (CPU only)
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
      "full-recompute", po::bool_switch(&o.full_recompute),
      "step with VectorEnvOptions::incremental = false (every history recomputed every step)")(
      "sim-dir", po::value<std::string>(&o.sim_dir),
      "a fitted simulator directory (its test role) instead of the in-memory simulator")(
      "roofline", po::bool_switch(&o.roofline),
      "CPU: after timing, profile min(steps, 50) more steps for FLOPs, bytes, operators and "
      "allocations per step, and measure the machine's peak (bench/step_cost.h)");
  bench::AddCommonOptions(
      desc, o, "cpu, cuda, or auto (= cpu, plus cuda when LibTorch sees a GPU); comma-separated",
      "seed of the weights, the start states, the env and the actions");
  if (!bench::ParseOrPrintHelp(argc, argv, desc)) return false;
  o.batch_sizes = ParseIntList("batch-sizes", batch_sizes, 1);
  o.steps = ParseIntList("steps", steps, 1);
  if (o.steps.size() == 1) o.steps.assign(o.batch_sizes.size(), o.steps[0]);
  if (o.steps.size() != o.batch_sizes.size()) {
    throw Error("--steps: give one value or one per batch size (" +
                std::to_string(o.batch_sizes.size()) + "), got " + std::to_string(o.steps.size()));
  }
  bench::RequireAtLeast("items", o.items, 1);
  bench::RequireAtLeast("state-len", o.state_len, 1);
  bench::RequireAtLeast("hidden", o.hidden, 1);
  bench::RequireAtLeast("categories", o.categories, 1);
  bench::RequireAtLeast("starts", o.starts, 1);
  bench::RequireAtLeast("max-length", o.max_length, 1);
  bench::RequireAtLeast("warmup", o.warmup, 0);
  bench::RequireAtLeast("threads", o.threads, 0);
  if (!(o.hazard >= 0.0 && o.hazard <= 1.0)) {
    throw Error("--hazard must be in [0, 1], got " + std::to_string(o.hazard));
  }
  o.threads = bench::ResolveThreads(o.threads);
  return true;
}

// --device split at ',' and trimmed; empty entries are kept (ResolveDevices rejects them as
// unknown devices).
std::vector<std::string> DeviceNames(const std::string& flag) {
  std::vector<std::string> out;
  for (const std::string& part : recarena::Split(flag, ',')) out.emplace_back(recarena::Trim(part));
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
  cfg.response.encoder.kind = recarena::models::EncoderKind::kSasRec;
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
  recarena::models::EncoderOptions enc = cfg.response.encoder;
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

// The test role of the fitted simulator o.sim_dir; o's sizes are set from it (hidden -1, hazard
// -1, categories 0: the fitted simulator's own encoder, hazard and similarity keys).
std::shared_ptr<env::Simulator> LoadFitted(BenchOptions& o, const torch::Device& device,
                                           int64_t& params) {
  auto sim = env::LoadSimulator(o.sim_dir, env::SimRole::kTest, device);
  params = 0;
  for (const auto& model : sim->response->models()) {
    for (const torch::Tensor& p : model->parameters()) params += p.numel();
  }
  o.items = sim->num_items;
  o.state_len = sim->state_len;
  o.hidden = -1;
  o.categories = 0;
  o.starts = static_cast<int64_t>(sim->starts.size());
  o.max_length = sim->cfg.max_length;
  o.hazard = -1.0;
  return sim;
}

nlohmann::json RunOne(const BenchOptions& o, const std::shared_ptr<const env::Simulator>& sim,
                      int64_t params, const std::string& device_name, int64_t batch, int64_t steps,
                      const bench::MachinePeak* peak) {
  const torch::Device device = bench::TorchDevice(device_name);
  env::VectorEnvOptions options;
  options.num_envs = batch;
  options.mask_repeats = false;
  options.leave_enabled = true;
  options.device = device;
  options.incremental = !o.full_recompute;
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
  const double seconds = bench::TimedSeconds(device, [&] {
    for (int64_t i = 0; i < steps; ++i) step();
  });

  int64_t episodes = 0;
  for (int64_t e : r.episode_id) episodes = std::max(episodes, e + 1);
  // Checksums are of the timed run; the profiled steps come after them.
  const double rewards = reward_sum.item<double>();
  const int64_t items_sum = r.observation.items.sum().item<int64_t>();
  const int64_t lengths_sum = r.observation.lengths.sum().item<int64_t>();
  nlohmann::json line = bench::CommonJson(o, device_name, params);
  if (peak != nullptr && device.is_cpu()) {
    const bench::StepCost cost = bench::MeasureStepCost(step, std::min<int64_t>(steps, 50));
    line.update(bench::RooflineJson(cost, *peak, seconds / static_cast<double>(steps)));
  }
  line["batch"] = batch;
  // The full-recompute run is a third implementation in the table (bench/summarize.py).
  if (o.full_recompute) line["impl"] = "cpp_full";
  line["steps"] = steps;
  line["warmup"] = o.warmup;
  line["items"] = o.items;
  line["state_len"] = o.state_len;
  line["hidden"] = o.hidden;
  line["categories"] = o.categories;
  line["starts"] = o.starts;
  line["max_length"] = o.max_length;
  line["hazard"] = o.hazard;
  line["steps_per_s"] = static_cast<double>(batch * steps) / seconds;
  line["seconds"] = seconds;
  line["episodes"] = episodes;
  line["reward_sum"] = rewards;
  line["items_sum"] = items_sum;
  line["lengths_sum"] = lengths_sum;
  return line;
}

}  // namespace

int main(int argc, char** argv) {
  return bench::RunMain("recarena_bench_sim", [&] {
    BenchOptions o;
    if (!ParseFlags(argc, argv, o)) return 0;
    const std::vector<std::string> devices = bench::ResolveDevices(DeviceNames(o.device));
    if (!bench::StartRun(o, devices)) return 0;
    std::optional<bench::MachinePeak> peak;
    if (o.roofline) {
      // Installed before any timing, so every batch size pays the same (tiny) counting cost.
      bench::InstallAllocationCounter();
      peak = bench::MeasureMachinePeak();
    }
    for (const std::string& device_name : devices) {
      int64_t params = 0;
      const std::shared_ptr<const env::Simulator> sim =
          o.sim_dir.empty() ? BuildSimulator(o, bench::TorchDevice(device_name), params)
                            : LoadFitted(o, bench::TorchDevice(device_name), params);
      for (size_t k = 0; k < o.batch_sizes.size(); ++k) {
        std::cout << RunOne(o, sim, params, device_name, o.batch_sizes[k], o.steps[k],
                            peak ? &*peak : nullptr)
                         .dump()
                  << std::endl;
      }
    }
    return 0;
  });
}
