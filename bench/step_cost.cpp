#include "bench/step_cost.h"

#include <c10/core/Allocator.h>
#include <c10/core/CPUAllocator.h>
#include <torch/csrc/autograd/profiler_kineto.h>
#include <torch/torch.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <limits>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "core/error.h"

namespace recarena::bench {

namespace {

std::atomic<int64_t> g_allocations{0};
std::atomic<int64_t> g_bytes{0};

// Delegates everything to the allocator it wraps; counts allocate() calls.
class CountingAllocator final : public c10::Allocator {
 public:
  explicit CountingAllocator(c10::Allocator* base) : base_(base) {}
  c10::DataPtr allocate(size_t n) override {
    g_allocations.fetch_add(1, std::memory_order_relaxed);
    g_bytes.fetch_add(static_cast<int64_t>(n), std::memory_order_relaxed);
    return base_->allocate(n);
  }
  c10::DeleterFnPtr raw_deleter() const override { return base_->raw_deleter(); }
  void copy_data(void* dest, const void* src, std::size_t count) const override {
    base_->copy_data(dest, src, count);
  }

 private:
  c10::Allocator* base_;
};

// Bytes of one element of a profiler dtype name ("float", "long int", ...); 0 when the input is
// not a tensor (scalars and lists carry no shape) or the type is unknown.
size_t DtypeBytes(const std::string& t) {
  static const std::map<std::string, size_t> sizes = {
      {"float", 4},         {"double", 8},      {"long int", 8},    {"long", 8},
      {"int", 4},           {"short int", 2},   {"short", 2},       {"bool", 1},
      {"unsigned char", 1}, {"signed char", 1}, {"c10::Half", 2},   {"c10::BFloat16", 2},
      {"Half", 2},          {"BFloat16", 2},    {"unsigned int", 4}};
  auto it = sizes.find(t);
  return it == sizes.end() ? 0 : it->second;
}

double InputBytes(const torch::autograd::profiler::KinetoEvent& e) {
  if (!e.hasShapes() || !e.hasTypes()) return 0;
  const auto shapes = e.shapes();
  const auto types = e.dtypes();
  double bytes = 0;
  for (size_t i = 0; i < shapes.size() && i < types.size(); ++i) {
    const size_t item = DtypeBytes(types[i]);
    if (item == 0) continue;
    double n = 1;
    for (int64_t d : shapes[i]) n *= static_cast<double>(d);
    bytes += n * static_cast<double>(item);
  }
  return bytes;
}

double BestSeconds(int repeats, const std::function<void()>& body) {
  double best = 1e30;
  for (int r = 0; r < repeats; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    body();
    best = std::min(best,
                    std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  return best;
}

}  // namespace

void InstallAllocationCounter() {
  static std::once_flag once;
  std::call_once(once, [] {
    // Leaked on purpose: tensors allocated through it may outlive main's locals.
    static CountingAllocator* counting = new CountingAllocator(c10::GetCPUAllocator());
    c10::SetCPUAllocator(counting, /*priority=*/100);
    if (c10::GetCPUAllocator() != counting)
      throw Error("could not install the counting CPU allocator (a higher-priority one is set)");
  });
}

int64_t AllocationCount() { return g_allocations.load(); }
int64_t AllocatedBytes() { return g_bytes.load(); }

StepCost MeasureStepCost(const std::function<void()>& step, int64_t steps) {
  namespace prof = torch::autograd::profiler;
  namespace impl = torch::profiler::impl;
  InstallAllocationCounter();
  // Allocations without the profiler (it allocates for its own records).
  const int64_t a0 = AllocationCount(), b0 = AllocatedBytes();
  for (int64_t i = 0; i < steps; ++i) step();
  StepCost cost;
  cost.allocations = static_cast<double>(AllocationCount() - a0) / static_cast<double>(steps);
  cost.alloc_bytes = static_cast<double>(AllocatedBytes() - b0) / static_cast<double>(steps);

  const impl::ProfilerConfig config(impl::ProfilerState::KINETO, /*report_input_shapes=*/true,
                                    /*profile_memory=*/false, /*with_stack=*/false,
                                    /*with_flops=*/true, /*with_modules=*/false);
  const std::set<impl::ActivityType> activities{impl::ActivityType::CPU};
  prof::prepareProfiler(config, activities);
  prof::enableProfiler(config, activities);
  const auto t0 = std::chrono::steady_clock::now();
  for (int64_t i = 0; i < steps; ++i) step();
  const double profiled_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const std::unique_ptr<prof::ProfilerResult> result = prof::disableProfiler();

  // Operator events per thread, by start time; an operator is top-level when no other operator's
  // interval on its thread encloses it.
  struct Op {
    int64_t start, end;
    double bytes;
    std::string name;
  };
  std::map<uint64_t, std::vector<Op>> by_thread;
  double flops = 0;
  for (const prof::KinetoEvent& e : result->events()) {
    if (e.deviceType() != c10::DeviceType::CPU) continue;
    const std::string name = e.name();
    if (name.rfind("aten::", 0) != 0) continue;
    flops += static_cast<double>(e.flops());
    by_thread[e.startThreadId()].push_back(
        {static_cast<int64_t>(e.startNs()), static_cast<int64_t>(e.endNs()), InputBytes(e), name});
  }
  double bytes = 0, ops = 0;
  std::map<std::string, double> ns_by_name;
  for (auto& [thread, list] : by_thread) {
    std::sort(list.begin(), list.end(), [](const Op& a, const Op& b) {
      return a.start != b.start ? a.start < b.start : a.end > b.end;
    });
    int64_t open_until = std::numeric_limits<int64_t>::min();
    for (const Op& op : list) {
      if (op.start < open_until && op.end <= open_until) continue;  // nested in an earlier op
      open_until = op.end;
      bytes += op.bytes;
      ops += 1;
      ns_by_name[op.name] += static_cast<double>(op.end - op.start);
    }
  }
  const auto n = static_cast<double>(steps);
  cost.flops = flops / n;
  cost.bytes = bytes / n;
  cost.ops = ops / n;
  cost.profiled_ms = profiled_s / n * 1e3;
  for (const auto& [name, ns] : ns_by_name) cost.op_ms.emplace_back(name, ns / n / 1e6);
  std::sort(cost.op_ms.begin(), cost.op_ms.end(),
            [](const auto& a, const auto& b) { return a.second > b.second; });
  return cost;
}

MachinePeak MeasureMachinePeak() {
  torch::NoGradGuard no_grad;
  MachinePeak peak;
  const int64_t n = 1024;
  torch::Tensor a = torch::randn({n, n}), b = torch::randn({n, n}), c = torch::empty({n, n});
  torch::mm_out(c, a, b);  // warm-up
  const int reps = 5;
  const double mm_s = BestSeconds(reps, [&] { torch::mm_out(c, a, b); });
  peak.gflops = 2.0 * static_cast<double>(n * n * n) / mm_s / 1e9;
  const int64_t m = 64 * 1024 * 1024;  // 256 MB of float32
  torch::Tensor src = torch::randn({m}), dst = torch::empty({m});
  dst.copy_(src);
  const double copy_s = BestSeconds(reps, [&] { dst.copy_(src); });
  peak.gbs = 2.0 * 4.0 * static_cast<double>(m) / copy_s / 1e9;
  return peak;
}

nlohmann::json RooflineJson(const StepCost& cost, const MachinePeak& peak, double step_seconds) {
  nlohmann::json j;
  j["step_flops"] = cost.flops;
  j["step_bytes"] = cost.bytes;
  j["step_ops"] = cost.ops;
  j["step_allocations"] = cost.allocations;
  j["step_alloc_bytes"] = cost.alloc_bytes;
  const double gflops = cost.flops / step_seconds / 1e9;
  const double gbs = cost.bytes / step_seconds / 1e9;
  j["achieved_gflops"] = gflops;
  j["achieved_gbs"] = gbs;
  j["peak_gflops"] = peak.gflops;
  j["peak_gbs"] = peak.gbs;
  j["share_of_peak_flops"] = gflops / peak.gflops;
  j["share_of_peak_bytes"] = gbs / peak.gbs;
  // FLOPs per byte: below peak_gflops / peak_gbs the roofline says memory-bound.
  j["arithmetic_intensity"] = cost.bytes > 0 ? cost.flops / cost.bytes : 0.0;
  j["ridge_intensity"] = peak.gflops / peak.gbs;
  // The 12 costliest operators (ms per step under the profiler).
  nlohmann::json ops = nlohmann::json::array();
  for (size_t k = 0; k < cost.op_ms.size() && k < 12; ++k) {
    ops.push_back({cost.op_ms[k].first, cost.op_ms[k].second});
  }
  j["step_op_ms"] = ops;
  j["step_profiled_ms"] = cost.profiled_ms;
  return j;
}

}  // namespace recarena::bench
