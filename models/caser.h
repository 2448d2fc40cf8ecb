// Caser state encoder (Tang & Wang 2018): horizontal and vertical convolutions over the embedding
// matrix of the most recent items.
#pragma once

#include <torch/torch.h>

#include <vector>

#include "models/encoder.h"

namespace recarena::models {

// For every position t the encoder looks at the window of items 0..t RIGHT-aligned into a
// [state_len, D] matrix: item t sits in the window's last row, earlier rows hold earlier items and
// the rows before item 0 are zero (as in Caser's reference code, which left-pads with zeros). So
// the rows the real items occupy never depend on how much padding follows them. On that matrix:
//   - for each height h in caser_heights, caser_h_filters filters of shape [h, D], ReLU, max-pool
//     over time;
//   - caser_v_filters vertical filters of shape [state_len, 1];
// concatenated, dropout, then Linear -> D and ReLU (Caser's phi_a). states[:, t] is this for the
// window ending at t; last = states at lengths-1. All L windows are computed with one convolution
// over the zero-left-padded sequence (see caser.cpp), not L separate ones.
class CaserImpl : public SequenceEncoderImpl {
 public:
  explicit CaserImpl(const EncoderOptions& options);
  EncoderOutput forward(const torch::Tensor& items, const torch::Tensor& lengths) override;

 private:
  // Horizontal filter i over rows [B, R, D]: its pre-activation outputs [B, R-h+1, F].
  torch::Tensor Horizontal(size_t i, const torch::Tensor& rows);

  // Conv2d modules hold the filters (names and shapes as always, so checkpoints load); the
  // horizontal ones are applied by Horizontal(), not by their forward().
  std::vector<torch::nn::Conv2d> horizontal_;
  torch::nn::Conv2d vertical_{nullptr};  // null when caser_v_filters == 0
  torch::nn::Dropout feature_dropout_{nullptr};
  torch::nn::Linear project_{nullptr};
};

}  // namespace recarena::models
