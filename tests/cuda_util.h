// The CUDA skip for tests tagged [cuda]; apart from test_util.h so that the tests of the layers
// without LibTorch (core, data) do not include it.
#pragma once

#include <torch/cuda.h>

#include "test_util.h"

// Skips the rest of the current test case when LibTorch sees no CUDA device. Tests that use it are
// tagged [cuda] (scripts/gpu_check.sh runs exactly those on a GPU machine).
#define RECARENA_REQUIRE_CUDA()                                                            \
  do {                                                                                     \
    if (!torch::cuda::is_available()) RECARENA_SKIP("no CUDA device visible to LibTorch"); \
  } while (false)
