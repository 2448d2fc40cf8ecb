#include "python/bindings/dlpack.h"

#include <ATen/DLConvertor.h>

namespace recarena::python {
namespace py = pybind11;

namespace {
constexpr const char* kName = "dltensor";
constexpr const char* kUsedName = "used_dltensor";

// Frees a capsule nobody consumed (a consumer renames it to "used_dltensor" and owns it then).
void DeleteUnconsumed(PyObject* capsule) {
  if (!PyCapsule_IsValid(capsule, kName)) return;
  auto* m = static_cast<DLManagedTensor*>(PyCapsule_GetPointer(capsule, kName));
  if (m && m->deleter) m->deleter(m);
}
}  // namespace

py::object ToCapsule(const torch::Tensor& t) {
  if (!t.defined()) return py::none();
  DLManagedTensor* m = at::toDLPack(t);
  PyObject* cap = PyCapsule_New(m, kName, DeleteUnconsumed);
  if (!cap) {
    m->deleter(m);
    throw py::error_already_set();
  }
  return py::reinterpret_steal<py::object>(cap);
}

py::object ToCapsule(const std::vector<int64_t>& v) {
  return ToCapsule(torch::tensor(v, torch::kInt64));
}

torch::Tensor FromCapsule(const py::object& obj) {
  PyObject* cap = obj.ptr();
  if (!PyCapsule_IsValid(cap, kName)) {
    throw py::value_error("expected an unconsumed DLPack capsule (\"dltensor\")");
  }
  auto* m = static_cast<DLManagedTensor*>(PyCapsule_GetPointer(cap, kName));
  PyCapsule_SetName(cap, kUsedName);
  return at::fromDLPack(m);
}

}  // namespace recarena::python
