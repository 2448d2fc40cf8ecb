#include "models/nextitnet.h"

#include <string>

namespace recarena::models {

NextItNetBlockImpl::NextItNetBlockImpl(int64_t dim, int64_t kernel, int64_t dilation)
    : kernel_(kernel), dilation_(dilation) {
  conv1_ = register_module(
      "conv1", torch::nn::Conv1d(torch::nn::Conv1dOptions(dim, dim, kernel).dilation(dilation)));
  norm1_ = register_module("norm1", torch::nn::LayerNorm(torch::nn::LayerNormOptions({dim})));
  conv2_ = register_module(
      "conv2",
      torch::nn::Conv1d(torch::nn::Conv1dOptions(dim, dim, kernel).dilation(2 * dilation)));
  norm2_ = register_module("norm2", torch::nn::LayerNorm(torch::nn::LayerNormOptions({dim})));
}

torch::Tensor NextItNetBlockImpl::CausalConv(torch::nn::Conv1d& conv, int64_t dilation,
                                             const torch::Tensor& x) {
  // [B, L, D] -> [B, D, (k-1)*dilation zeros + L] -> conv -> [B, D, L] -> [B, L, D]
  const torch::Tensor padded =
      torch::constant_pad_nd(x.transpose(1, 2), {(kernel_ - 1) * dilation, 0}, 0);
  return conv->forward(padded).transpose(1, 2);
}

torch::Tensor NextItNetBlockImpl::forward(const torch::Tensor& x) {
  torch::Tensor h = torch::relu(norm1_->forward(CausalConv(conv1_, dilation_, x)));
  h = torch::relu(norm2_->forward(CausalConv(conv2_, 2 * dilation_, h)));
  return x + h;
}

NextItNetImpl::NextItNetImpl(const EncoderOptions& options) : SequenceEncoderImpl(options) {
  for (size_t i = 0; i < options_.nextitnet_dilations.size(); ++i) {
    blocks_.push_back(register_module("block" + std::to_string(i),
                                      NextItNetBlock(options_.hidden, options_.nextitnet_kernel,
                                                     options_.nextitnet_dilations[i])));
  }
}

EncoderOutput NextItNetImpl::forward(const torch::Tensor& items, const torch::Tensor& lengths) {
  CheckInputs(items, lengths);
  torch::Tensor x = EmbedInputs(items, lengths);  // [B, L, D]
  for (auto& block : blocks_) x = block->forward(x);
  const torch::Tensor mask = LengthMask(lengths, items.size(1)).unsqueeze(-1).to(x.scalar_type());
  const torch::Tensor states = x * mask;
  return {GatherLast(states, lengths), states};
}

std::shared_ptr<SequenceEncoderImpl> MakeNextItNet(const EncoderOptions& options) {
  return std::make_shared<NextItNetImpl>(options);
}

}  // namespace recarena::models
