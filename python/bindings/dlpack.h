// Tensors between LibTorch and Python without a copy: DLPack capsules ("dltensor", the protocol
// torch.from_dlpack and numpy.from_dlpack read). The module links LibTorch only, not torch's Python
// library, so no pybind11 ABI is shared with the torch package: a capsule is the whole interface.
#pragma once

#include <pybind11/pybind11.h>
#include <torch/torch.h>

#include <cstdint>
#include <vector>

namespace recarena::python {

// A capsule that owns a reference to t's storage (t stays alive until the consumer frees it, or
// until the capsule is collected unconsumed). Undefined tensors give None.
pybind11::object ToCapsule(const torch::Tensor& t);
// The same for a host vector (copied once into a tensor: used for per-slot id lists).
pybind11::object ToCapsule(const std::vector<int64_t>& v);
// Takes a "dltensor" capsule (marks it used, as the protocol asks); throws ValueError when obj is
// not an unconsumed DLPack capsule.
torch::Tensor FromCapsule(const pybind11::object& obj);

}  // namespace recarena::python
