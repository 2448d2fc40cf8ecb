#include "models/attention.h"

#include <cmath>
#include <limits>

namespace recarena::models {

torch::Tensor MaskedAttention(const torch::Tensor& q, const torch::Tensor& k,
                              const torch::Tensor& v, const torch::Tensor& allowed,
                              torch::nn::Dropout& dropout) {
  const int64_t B = q.size(0), H = q.size(1), T = q.size(2), dh = q.size(3);
  torch::Tensor scores = torch::matmul(q, k.transpose(-2, -1)) / std::sqrt(static_cast<double>(dh));
  scores = scores.masked_fill(allowed.logical_not(), -std::numeric_limits<float>::infinity());
  const torch::Tensor attn = dropout->forward(torch::softmax(scores, -1));
  return torch::matmul(attn, v).transpose(1, 2).reshape({B, T, H * dh});
}

torch::nn::LayerNorm MakeLayerNorm(int64_t dim, double eps) {
  return torch::nn::LayerNorm(torch::nn::LayerNormOptions({dim}).eps(eps));
}

}  // namespace recarena::models
