// Offline evaluation for Python users' own models, with the library's definitions: the ranking
// metrics (experiments/eval/metrics.h), split conformal sets over probability matrices
// (experiments/eval/conformal_matrix.h) and a prepared dataset's sequences (data/prepared_io.h).
#pragma once

#include <pybind11/pybind11.h>

namespace recarena::python {

void BindEval(pybind11::module_& m);

}  // namespace recarena::python
