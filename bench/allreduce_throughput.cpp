// All-reduce time of the dist/ process group (c10d Gloo) between the ranks of a launched job:
//
//   build/recarena launch --nproc 2 -- build/bench/recarena_bench_allreduce [--iters N] [--max-mb
//   M]
//
// For float32 tensors of 1 KiB to M MiB (x4 steps), rank 0 prints one JSON line per size: the
// median seconds per all-reduce over N iterations (after 3 warm-up ones) and the "bus bandwidth" of
// a ring all-reduce, 2 (W - 1) / W x bytes / seconds (NCCL-tests' definition), which the cost model
// of docs/distributed.md uses.
#include <torch/torch.h>

#include <algorithm>
#include <boost/program_options.hpp>
#include <chrono>
#include <cstdio>
#include <vector>

#include "dist/process_group.h"
#include "dist/world.h"

int main(int argc, char** argv) {
  namespace po = boost::program_options;
  int iters = 20;
  double max_mb = 64;
  po::options_description opts("options");
  opts.add_options()("iters", po::value(&iters)->default_value(iters),
                     "timed all-reduces per size")(
      "max-mb", po::value(&max_mb)->default_value(max_mb), "largest tensor, MiB");
  po::variables_map vm;
  po::store(po::parse_command_line(argc, argv, opts), vm);
  po::notify(vm);
  const recarena::dist::World world = recarena::dist::WorldFromEnvironment();
  if (!world.distributed()) {
    std::fprintf(stderr, "run it under `recarena launch --nproc N` (WORLD_SIZE > 1)\n");
    return 2;
  }
  recarena::dist::ProcessGroup group(world);
  for (int64_t bytes = 1024; bytes <= static_cast<int64_t>(max_mb * 1024 * 1024); bytes *= 4) {
    std::vector<torch::Tensor> t{torch::ones({bytes / 4})};
    std::vector<double> seconds;
    for (int i = 0; i < iters + 3; ++i) {
      group.Barrier("bench");
      const auto start = std::chrono::steady_clock::now();
      group.AllReduceSum(t, "bench");
      const double s =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      if (i >= 3) seconds.push_back(s);
    }
    std::sort(seconds.begin(), seconds.end());
    const double median = seconds[seconds.size() / 2];
    const double w = world.size;
    if (world.rank == 0) {
      std::printf("{\"bytes\": %lld, \"ranks\": %d, \"seconds\": %.9f, \"bus_GBps\": %.4f}\n",
                  static_cast<long long>(bytes), world.size, median,
                  2.0 * (w - 1.0) / w * static_cast<double>(bytes) / median / 1e9);
      std::fflush(stdout);
    }
  }
  return 0;
}
