// Where a benchmark's step stands against the machine (bench/sim_throughput.cpp --roofline):
//   - its floating-point work, bytes touched and tensor-operator count per step, from LibTorch's
//     Kineto profiler (with_flops, record_shapes) over a few steps;
//   - its tensor allocations per step, from a counting wrapper around c10's CPU allocator;
//   - the machine's attainable peak on the benchmark's threads: a large float32 matrix product
//     (GFLOP/s) and a large tensor copy (GB/s, bytes read + written), measured in the same run.
//
// Definitions (docs/benchmarks.md, "Where the limit is"):
//   flops  the profiler's FLOP estimate, which LibTorch computes for matrix products (mm, addmm,
//          bmm, baddbmm, matmul through them), convolutions and element-wise mul/add; other
//          element-wise work (exp, sigmoid, comparisons, softmax, layer norm) is not counted, so
//          flops is a lower bound of the arithmetic.
//   bytes  the sum over leaf operators (profiled operators with no operator nested inside them) of
//          the sizes of their tensor inputs: the bytes each operator must read at least once. It
//          ignores outputs and cache reuse: a traffic estimate, not a measurement of DRAM traffic.
//   ops    leaf operators per step (the dispatcher calls that do the work).
// CPU only: on CUDA the FLOPs are the same, and the allocator is CUDA's caching allocator.
#pragma once

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

namespace recarena::bench {

// Installs (once; later calls do nothing) a wrapper around c10's CPU allocator that counts every
// allocation and its bytes, then delegates. Counting is two relaxed atomic adds per allocation.
void InstallAllocationCounter();
// Allocations and bytes allocated since InstallAllocationCounter (0 before it).
int64_t AllocationCount();
int64_t AllocatedBytes();

struct StepCost {
  double flops = 0;        // per step
  double bytes = 0;        // per step, leaf operators' inputs
  double ops = 0;          // leaf operators per step
  double allocations = 0;  // CPU tensor allocations per step
  double alloc_bytes = 0;  // bytes those allocations asked for, per step
  // Where the time goes: the top-level operators' wall time per step by operator name (under the
  // profiler, which adds its own cost per operator), the largest first.
  std::vector<std::pair<std::string, double>> op_ms;
  double profiled_ms = 0;  // wall time per step under the profiler (the steps op_ms covers)
};

// Runs step() `steps` times under the profiler and the allocation counter (installed here if it
// was not) and returns the per-step averages. step must not synchronise anything else.
StepCost MeasureStepCost(const std::function<void()>& step, int64_t steps);

struct MachinePeak {
  double gflops = 0;  // float32 matrix product, n x n by n x n
  double gbs = 0;     // tensor copy, bytes read + written
};

// Measured on the current torch::get_num_threads(): best of several repeats of a 1024^3 float32
// matrix product and of a 256 MB float32 copy.
MachinePeak MeasureMachinePeak();

// The roofline keys of a result line: flops, bytes, ops, allocations and alloc_bytes per step, the
// achieved GFLOP/s and GB/s at steps_per_s (env steps, not user-steps), and their share of peak.
nlohmann::json RooflineJson(const StepCost& cost, const MachinePeak& peak, double step_seconds);

}  // namespace recarena::bench
