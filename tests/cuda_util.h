// The CUDA skip for tests tagged [cuda]; apart from test_util.h so that the tests of the layers
// without LibTorch (core, data) do not include it.
#pragma once

#include <ATen/Context.h>
#include <torch/cuda.h>

#include "test_util.h"

// Skips the rest of the current test case when LibTorch sees no CUDA device. Tests that use it are
// tagged [cuda] (scripts/gpu_check.sh runs exactly those on a GPU machine).
// It also switches CUDA's float32 convolutions, RNNs and matmuls to IEEE precision: LibTorch's
// default lets cuDNN use TF32 (a 10-bit mantissa) for convolutions and RNNs, which is fine for
// training but makes a CPU-vs-CUDA comparison at float tolerance meaningless.
#define RECARENA_REQUIRE_CUDA()                                                            \
  do {                                                                                     \
    if (!torch::cuda::is_available()) RECARENA_SKIP("no CUDA device visible to LibTorch"); \
    recarena::testing::UseIeeeFloat32OnCuda();                                             \
  } while (false)

namespace recarena::testing {

inline void UseIeeeFloat32OnCuda() {
  for (const auto op : {at::Float32Op::CONV, at::Float32Op::RNN, at::Float32Op::MATMUL}) {
    at::globalContext().setFloat32Precision(at::Float32Backend::CUDA, op,
                                            at::Float32Precision::IEEE);
  }
}

}  // namespace recarena::testing
