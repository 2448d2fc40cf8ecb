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
#include <cstdint>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "agents/supervised.h"
#include "agents/types.h"
#include "bench/bench_util.h"
#include "core/error.h"
#include "core/strings.h"
#include "models/encoder.h"

namespace {

namespace po = boost::program_options;
using recarena::Error;
using recarena::agents::SequenceBatch;
namespace bench = recarena::bench;

// threads, device, seed, list_devices: bench::CommonOptions.
struct BenchOptions : bench::CommonOptions {
  std::vector<std::string> encoders{"gru4rec", "sasrec"};
  int64_t items = 10000;
  int64_t batch = 256;
  int64_t state_len = 10;
  int64_t hidden = 64;
  int64_t steps = 50;
  int64_t warmup = 5;
  int64_t repeats = 3;
};

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
      "timed windows; the median is reported");
  bench::AddCommonOptions(
      desc, o,
      "comma-separated devices: cpu, cuda, auto (= cpu, plus cuda when LibTorch sees a GPU)",
      "torch::manual_seed value");
  if (!bench::ParseOrPrintHelp(argc, argv, desc)) return false;
  o.encoders = bench::SplitList("encoders", encoders);
  for (const std::string& e : o.encoders) {
    if (e != "gru4rec" && e != "sasrec") {
      throw Error("--encoders: unknown encoder " + recarena::QuoteForError(e) +
                  "; choices: gru4rec, sasrec (the ones bench/train_throughput.py mirrors)");
    }
  }
  bench::RequireAtLeast("items", o.items, 1);
  bench::RequireAtLeast("batch", o.batch, 1);
  bench::RequireAtLeast("state-len", o.state_len, 1);
  bench::RequireAtLeast("hidden", o.hidden, 1);
  bench::RequireAtLeast("steps", o.steps, 1);
  bench::RequireAtLeast("warmup", o.warmup, 0);
  bench::RequireAtLeast("repeats", o.repeats, 1);
  bench::RequireAtLeast("threads", o.threads, 0);
  o.threads = bench::ResolveThreads(o.threads);
  return true;
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
  const torch::Device device = bench::TorchDevice(device_name);
  // Distinct batches for warm-up, then up to 64 distinct ones that the timed steps cycle through.
  const int64_t timed_pool = std::min<int64_t>(o.steps, 64);
  const std::vector<SequenceBatch> batches = MakeBatches(o, o.warmup + timed_pool, device);

  recarena::agents::SupervisedOptions options;
  options.encoder.kind =
      recarena::config::ParseEnum<recarena::models::EncoderKind>(encoder, "--encoders");
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
    const double seconds = bench::TimedSeconds(device, [&] {
      for (int64_t i = 0; i < o.steps; ++i) train(batches[o.warmup + i % timed_pool]);
    });
    rates.push_back(static_cast<double>(o.steps * o.batch) / seconds);
  }
  nlohmann::json line = bench::CommonJson(o, device_name, params);
  line["encoder"] = encoder;
  line["items"] = o.items;
  line["batch"] = o.batch;
  line["state_len"] = o.state_len;
  line["hidden"] = o.hidden;
  line["warmup"] = o.warmup;
  line["steps"] = o.steps;
  line["repeats"] = o.repeats;
  line["first_loss"] = first_loss;
  line["last_loss"] = last_loss;
  line["seq_per_s"] = Median(rates);
  line["runs_seq_per_s"] = rates;
  return line;
}

}  // namespace

int main(int argc, char** argv) {
  return bench::RunMain("recarena_bench_train", [&] {
    BenchOptions o;
    if (!ParseFlags(argc, argv, o)) return 0;
    const std::vector<std::string> devices =
        bench::ResolveDevices(bench::SplitList("device", o.device));
    if (!bench::StartRun(o, devices)) return 0;
    for (const std::string& device : devices) {
      for (const std::string& encoder : o.encoders) {
        std::cout << RunOne(o, encoder, device).dump() << std::endl;
      }
    }
    return 0;
  });
}
