#include "models/caser.h"

#include <string>

namespace recarena::models {

CaserImpl::CaserImpl(const EncoderOptions& options) : SequenceEncoderImpl(options) {
  const int64_t D = options_.hidden, W = options_.state_len;
  for (size_t i = 0; i < options_.caser_heights.size(); ++i) {
    const int64_t h = options_.caser_heights[i];
    horizontal_.push_back(register_module(
        "horizontal" + std::to_string(i),
        torch::nn::Conv2d(torch::nn::Conv2dOptions(1, options_.caser_h_filters, {h, D}))));
  }
  if (options_.caser_v_filters > 0) {
    vertical_ = register_module("vertical", torch::nn::Conv2d(torch::nn::Conv2dOptions(
                                                1, options_.caser_v_filters, {W, 1})));
  }
  const int64_t features =
      options_.caser_h_filters * static_cast<int64_t>(options_.caser_heights.size()) +
      options_.caser_v_filters * D;
  feature_dropout_ = register_module("feature_dropout", torch::nn::Dropout(options_.dropout));
  project_ = register_module("project", torch::nn::Linear(features, D));
}

EncoderOutput CaserImpl::forward(const torch::Tensor& items, const torch::Tensor& lengths) {
  CheckInputs(items, lengths);
  const int64_t B = items.size(0), L = items.size(1);
  const int64_t W = options_.state_len;                 // window rows (>= L)
  const torch::Tensor x = EmbedInputs(items, lengths);  // [B, L, D], zero at padding
  // All L windows at once: with X' = (W-1 zero rows, then x), the window ending at position t is
  // rows t..t+W-1 of X'. A height-h filter's outputs inside that window are its outputs at rows
  // t..t+W-h of X', so max-pooling them is a stride-1 max-pool of width W-h+1 over the conv of
  // X'; the vertical filter's output for window t is its output at row t of X'. This equals
  // convolving each [W, D] window separately (see the Caser reference test) at 1/L of the cost.
  const torch::Tensor rows = torch::constant_pad_nd(x, {0, 0, W - 1, 0}, 0);  // [B, R = W-1+L, D]
  std::vector<torch::Tensor> features;
  for (size_t i = 0; i < horizontal_.size(); ++i) {
    const int64_t h = options_.caser_heights[i];
    const torch::Tensor conv = torch::relu(Horizontal(i, rows)).transpose(1, 2);    // [B, F, R-h+1]
    features.push_back(torch::max_pool1d(conv, {W - h + 1}, {1}).transpose(1, 2));  // [B, L, F]
  }
  if (vertical_) {
    // [B, F_v, L, D] -> [B, L, F_v * D]
    features.push_back(
        vertical_->forward(rows.unsqueeze(1)).permute({0, 2, 1, 3}).reshape({B, L, -1}));
  }
  torch::Tensor z = feature_dropout_->forward(torch::cat(features, 2));
  z = torch::relu(project_->forward(z));  // [B, L, D]
  const torch::Tensor mask = LengthMask(lengths, L).unsqueeze(-1).to(z.scalar_type());
  const torch::Tensor states = z * mask;
  return {GatherLast(states, lengths), states};
}

torch::Tensor CaserImpl::Horizontal(size_t i, const torch::Tensor& rows) {
  // The height-h, full-width filter is a dot product with each h-row window, so the convolution is
  // one matmul over the unfolded windows. conv2d computes the same sums, but oneDNN's CPU backward
  // for this kernel shape (LibTorch 2.11) returns garbage weight gradients, different on every
  // run, e.g. for a [2, 1, 39, 16] input and a [16, 1, 2, 16] kernel (docs/offline_training.md).
  const auto& conv = horizontal_[i];
  const int64_t B = rows.size(0), h = conv->weight.size(2), D = conv->weight.size(3);
  const torch::Tensor windows = rows.unfold(1, h, 1)  // [B, R-h+1, D, h]
                                    .transpose(2, 3)
                                    .reshape({B, -1, h * D});  // [B, R-h+1, h*D], row-major (i, j)
  return torch::nn::functional::linear(windows, conv->weight.view({conv->weight.size(0), h * D}),
                                       conv->bias);  // [B, R-h+1, F]
}

std::shared_ptr<SequenceEncoderImpl> MakeCaser(const EncoderOptions& options) {
  return std::make_shared<CaserImpl>(options);
}

}  // namespace recarena::models
