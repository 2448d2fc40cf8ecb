// _recarena: the compiled half of the Python package `recarena` (python/recarena/ is the other).
// Errors of the library reach Python as ValueError with the library's message (file, line, value).
#include <pybind11/pybind11.h>

#include "core/error.h"
#include "python/bindings/env_bindings.h"
#include "python/bindings/eval_bindings.h"

namespace py = pybind11;

PYBIND11_MODULE(_recarena, m) {
  m.doc() = "recarena's C++ core (simulator, metrics, conformal sets); import recarena instead";
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const recarena::Error& e) {
      PyErr_SetString(PyExc_ValueError, e.what());
    }
  });
  recarena::python::BindEnv(m);
  recarena::python::BindEval(m);
}
