#include "agents/host_sync_counter.h"

#include <ATen/record_function.h>

#include <stdexcept>
#include <string_view>

namespace recarena::testing {

namespace {
thread_local HostSyncCounts* g_counts = nullptr;
// Inside the CPU fused Adam kernel (agents::FusedAdamStep, CPU only): it reads every parameter's
// step scalar from host memory, which waits for nothing, so those reads are not counted.
thread_local int g_fused_adam_depth = 0;
constexpr std::string_view kFusedAdam = "aten::_fused_adam_";

std::unique_ptr<at::ObserverContext> OnStart(const at::RecordFunction& fn) {
  if (g_counts == nullptr) return nullptr;
  const std::string_view name = fn.name();
  if (name == kFusedAdam) ++g_fused_adam_depth;
  if (name == "aten::_local_scalar_dense") {
    if (g_fused_adam_depth == 0) ++g_counts->scalar_reads;
  } else if (name == "aten::nonzero" || name == "aten::masked_select" ||
             name.rfind("aten::unique", 0) == 0) {
    ++g_counts->data_dependent;
  } else if (name == "aten::copy_") {
    const auto inputs = fn.inputs();
    if (inputs.size() >= 2 && inputs[0].isTensor() && inputs[1].isTensor() &&
        inputs[0].toTensor().device() != inputs[1].toTensor().device()) {
      ++g_counts->device_copies;
    }
  }
  return nullptr;
}

void OnEnd(const at::RecordFunction& fn, at::ObserverContext*) {
  if (g_counts != nullptr && fn.name() == kFusedAdam) --g_fused_adam_depth;
}
}  // namespace

std::string HostSyncCounts::str() const {
  return "scalar reads " + std::to_string(scalar_reads) + ", data-dependent " +
         std::to_string(data_dependent) + ", device copies " + std::to_string(device_copies);
}

HostSyncCounter::HostSyncCounter() {
  if (g_counts != nullptr) throw std::logic_error("HostSyncCounter: one at a time per thread");
  g_counts = &counts_;
  handle_ = at::addThreadLocalCallback(at::RecordFunctionCallback(&OnStart, &OnEnd)
                                           .needsInputs(true)
                                           .scopes({at::RecordScope::FUNCTION}));
}

HostSyncCounter::~HostSyncCounter() {
  at::removeCallback(handle_);
  g_counts = nullptr;
}

}  // namespace recarena::testing
