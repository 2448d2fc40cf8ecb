// NextItNet state encoder (Yuan et al. 2019): a stack of residual blocks of causal dilated 1-D
// convolutions over the item embeddings.
#pragma once

#include <torch/torch.h>

#include <vector>

#include "models/encoder.h"

namespace recarena::models {

// One residual block: x + ReLU(LN(conv_2d(ReLU(LN(conv_d(x)))))) where conv_d is a causal 1-D
// convolution (kernel k, dilation d, D -> D channels) made causal by left-padding (k-1)*d zeros.
class NextItNetBlockImpl : public torch::nn::Module {
 public:
  NextItNetBlockImpl(int64_t dim, int64_t kernel, int64_t dilation);
  torch::Tensor forward(const torch::Tensor& x);  // [B, L, D] -> [B, L, D]

 private:
  torch::Tensor CausalConv(torch::nn::Conv1d& conv, int64_t dilation, const torch::Tensor& x);
  int64_t kernel_, dilation_;
  torch::nn::Conv1d conv1_{nullptr}, conv2_{nullptr};
  torch::nn::LayerNorm norm1_{nullptr}, norm2_{nullptr};
};
TORCH_MODULE(NextItNetBlock);

// Embedding (padding zeroed, dropout) then one NextItNetBlock per entry of nextitnet_dilations
// (kernel nextitnet_kernel). Right-padding follows the real items, so causality alone keeps it
// out of every real position; states are zeroed at padding positions; last = states at lengths-1.
class NextItNetImpl : public SequenceEncoderImpl {
 public:
  explicit NextItNetImpl(const EncoderOptions& options);
  EncoderOutput forward(const torch::Tensor& items, const torch::Tensor& lengths) override;

 private:
  std::vector<NextItNetBlock> blocks_;
};

}  // namespace recarena::models
