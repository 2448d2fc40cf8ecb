// Training-throughput benchmark, recarena (C++) side: sequences per second of one
// agents::SupervisedAgent::Update (encoder forward + Linear(D, num_items) head + cross-entropy +
// backward + Adam step, plus what Update does besides: the encoder's input check and the grad-norm
// and loss metrics) for the GRU4Rec and SASRec encoders.
//
// bench/train_throughput.py is the same benchmark written in Python with PyTorch; both print one
// JSON line per (impl, encoder, device) with the same keys, and bench/run_train_throughput.sh runs
// them side by side. The two must stay in step: same sizes, same batch scheme, same JSON keys.
//
// Batches (identical in both programs, from the global torch generator seeded with --seed):
// for each batch, lengths = randint(1, state_len + 1, [B]), items = randint(0, N, [B, state_len])
// with positions >= length set to the padding id N, targets = randint(0, N, [B]). They are made
// and moved to the device before timing, so the timed loop is training steps only. The generator
// is then re-seeded with --seed and the agent built, so both programs start from the same weights
// when their modules are built in the same order (first_loss in the JSON shows whether they do).
#include <torch/torch.h>

#include <algorithm>
#include <boost/program_options.hpp>
#include <chrono>
#include <cstdint>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "agents/supervised.h"
#include "agents/types.h"
#include "core/device.h"
#include "core/error.h"
#include "core/strings.h"
#include "policies/encoder.h"

namespace {

namespace po = boost::program_options;
using recarena::Error;
using recarena::agents::SequenceBatch;

struct BenchOptions {
  std::vector<std::string> encoders{"gru4rec", "sasrec"};
  int64_t items = 10000;
  int64_t batch = 256;
  int64_t state_len = 10;
  int64_t hidden = 64;
  int64_t steps = 50;
  int64_t warmup = 5;
  int64_t repeats = 3;
  int64_t threads = 0;  // 0 = std::thread::hardware_concurrency()
  std::string device = "auto";
  uint64_t seed = 1;
  bool list_devices = false;
};

std::vector<std::string> SplitList(const std::string& flag, const std::string& value) {
  std::vector<std::string> out;
  for (const std::string& part : recarena::Split(value, ',')) {
    const std::string word(recarena::Trim(part));
    if (word.empty()) {
      throw Error("--" + flag + ": empty entry in " + recarena::QuoteForError(value));
    }
    out.push_back(word);
  }
  return out;
}

void RequireAtLeast(const std::string& flag, int64_t value, int64_t min) {
  if (value < min) {
    throw Error("--" + flag + " must be >= " + std::to_string(min) + ", got " +
                std::to_string(value));
  }
}

// Parses argv; returns false when --help was printed.
bool ParseFlags(int argc, char** argv, BenchOptions& o) {
  std::string encoders = recarena::Join(o.encoders, ",");
  po::options_description desc(
      "recarena_bench_train: training throughput (sequences/s) of the supervised agent.\n"
      "Prints one JSON line per (encoder, device). Options");
  desc.add_options()("help,h", "print this help")(
      "encoders", po::value<std::string>(&encoders)->default_value(encoders),
      "comma-separated encoders: gru4rec, sasrec")(
      "items", po::value<int64_t>(&o.items)->default_value(o.items), "catalog size N")(
      "batch", po::value<int64_t>(&o.batch)->default_value(o.batch), "batch size B")(
      "state-len", po::value<int64_t>(&o.state_len)->default_value(o.state_len),
      "sequence length L (lengths are drawn from 1..L)")(
      "hidden", po::value<int64_t>(&o.hidden)->default_value(o.hidden), "hidden size D")(
      "steps", po::value<int64_t>(&o.steps)->default_value(o.steps), "timed steps per repeat")(
      "warmup", po::value<int64_t>(&o.warmup)->default_value(o.warmup),
      "untimed steps before the first repeat")(
      "repeats", po::value<int64_t>(&o.repeats)->default_value(o.repeats),
      "timed windows; the median is reported")(
      "threads", po::value<int64_t>(&o.threads)->default_value(o.threads),
      "intra-op threads (torch::set_num_threads); 0 = hardware concurrency")(
      "device", po::value<std::string>(&o.device)->default_value(o.device),
      "comma-separated devices: cpu, cuda, auto (= cpu, plus cuda when LibTorch sees a GPU)")(
      "seed", po::value<uint64_t>(&o.seed)->default_value(o.seed), "torch::manual_seed value")(
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
  o.encoders = SplitList("encoders", encoders);
  for (const std::string& e : o.encoders) {
    if (e != "gru4rec" && e != "sasrec") {
      throw Error("--encoders: unknown encoder " + recarena::QuoteForError(e) +
                  "; choices: gru4rec, sasrec (the ones bench/train_throughput.py mirrors)");
    }
  }
  RequireAtLeast("items", o.items, 1);
  RequireAtLeast("batch", o.batch, 1);
  RequireAtLeast("state-len", o.state_len, 1);
  RequireAtLeast("hidden", o.hidden, 1);
  RequireAtLeast("steps", o.steps, 1);
  RequireAtLeast("warmup", o.warmup, 0);
  RequireAtLeast("repeats", o.repeats, 1);
  RequireAtLeast("threads", o.threads, 0);
  if (o.threads == 0) o.threads = std::max<int64_t>(1, std::thread::hardware_concurrency());
  return true;
}

std::vector<std::string> ResolveDevices(const std::string& flag) {
  std::vector<std::string> out;
  auto add = [&](const std::string& d) {
    if (std::find(out.begin(), out.end(), d) == out.end()) out.push_back(d);
  };
  for (const std::string& d : SplitList("device", flag)) {
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

// count batches following the scheme at the top of this file, on `device`.
std::vector<SequenceBatch> MakeBatches(const BenchOptions& o, int64_t count,
                                       const torch::Device& device) {
  torch::manual_seed(o.seed);
  const auto opts = torch::TensorOptions().dtype(torch::kLong);
  const torch::Tensor positions = torch::arange(o.state_len, opts);
  std::vector<SequenceBatch> out;
  for (int64_t i = 0; i < count; ++i) {
    const torch::Tensor lengths = torch::randint(1, o.state_len + 1, {o.batch}, opts);
    torch::Tensor items = torch::randint(0, o.items, {o.batch, o.state_len}, opts);
    items = items.masked_fill(positions.unsqueeze(0) >= lengths.unsqueeze(1), o.items);
    const torch::Tensor targets = torch::randint(0, o.items, {o.batch}, opts);
    out.push_back({items.to(device), lengths.to(device), targets.to(device)});
  }
  return out;
}

void Sync(const torch::Device& device) {
  if (device.is_cuda()) torch::cuda::synchronize();
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

double MetricValue(const recarena::agents::MetricList& metrics, const std::string& name) {
  for (const auto& [key, value] : metrics) {
    if (key == name) return value;
  }
  throw Error("SupervisedAgent::Update reported no metric " + recarena::QuoteForError(name));
}

nlohmann::json RunOne(const BenchOptions& o, const std::string& encoder,
                      const std::string& device_name) {
  const torch::Device device =
      device_name == "cuda" ? torch::Device(torch::kCUDA, 0) : torch::Device(torch::kCPU);
  // Distinct batches for warm-up, then up to 64 distinct ones that the timed steps cycle through.
  const int64_t timed_pool = std::min<int64_t>(o.steps, 64);
  const std::vector<SequenceBatch> batches = MakeBatches(o, o.warmup + timed_pool, device);

  recarena::agents::SupervisedOptions options;
  options.encoder.kind =
      recarena::config::ParseEnum<recarena::policies::EncoderKind>(encoder, "--encoders");
  options.encoder.num_items = o.items;
  options.encoder.state_len = o.state_len;
  options.encoder.hidden = o.hidden;
  options.encoder.dropout = 0.1;
  options.encoder.num_heads = 1;
  options.encoder.num_blocks = 1;
  options.lr = 1e-3;
  options.Validate();
  torch::manual_seed(o.seed);
  recarena::agents::SupervisedAgent agent(options, device);
  int64_t params = 0;
  for (const torch::Tensor& p : agent.parameters()) params += p.numel();

  double first_loss = 0.0, last_loss = 0.0;
  int64_t step = 0;
  auto train = [&](const SequenceBatch& b) {
    last_loss = MetricValue(agent.Update(b), "loss");
    if (step++ == 0) first_loss = last_loss;
  };
  for (int64_t i = 0; i < o.warmup; ++i) train(batches[i]);
  std::vector<double> rates;
  for (int64_t r = 0; r < o.repeats; ++r) {
    Sync(device);
    const auto start = std::chrono::steady_clock::now();
    for (int64_t i = 0; i < o.steps; ++i) train(batches[o.warmup + i % timed_pool]);
    Sync(device);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    rates.push_back(static_cast<double>(o.steps * o.batch) / seconds);
  }
  nlohmann::json line;
  line["impl"] = "cpp";
  line["encoder"] = encoder;
  line["device"] = device_name;
  line["threads"] = o.threads;
  line["items"] = o.items;
  line["batch"] = o.batch;
  line["state_len"] = o.state_len;
  line["hidden"] = o.hidden;
  line["warmup"] = o.warmup;
  line["steps"] = o.steps;
  line["repeats"] = o.repeats;
  line["seed"] = o.seed;
  line["params"] = params;
  line["first_loss"] = first_loss;
  line["last_loss"] = last_loss;
  line["seq_per_s"] = Median(rates);
  line["runs_seq_per_s"] = rates;
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
    for (const std::string& device : devices) {
      for (const std::string& encoder : o.encoders) {
        std::cout << RunOne(o, encoder, device).dump() << std::endl;
      }
    }
    return 0;
  } catch (const recarena::Error& e) {
    std::cerr << "recarena_bench_train: " << e.what() << "\n";
    return 2;
  }
}
