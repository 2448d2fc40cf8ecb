// The simulator's batched VectorEnv for Python (python/recarena/envs.py wraps it into Gymnasium's
// Env and VectorEnv). Every tensor crosses as a DLPack capsule over the C++ result's own buffer.
#pragma once

#include <pybind11/pybind11.h>

namespace recarena::python {

void BindEnv(pybind11::module_& m);

}  // namespace recarena::python
