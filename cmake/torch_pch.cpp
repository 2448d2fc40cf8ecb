// Translation unit that owns the precompiled <torch/torch.h>; other targets reuse it.
#include <torch/torch.h>

namespace recarena::detail {
int TorchPchAnchor() { return 0; }
}  // namespace recarena::detail
