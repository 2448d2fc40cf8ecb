// The "Normal" baseline: a sequence encoder + a linear output layer over the full catalog, trained
// with next-item softmax cross-entropy (thesis Sec. 5.4.2, "Normal"; Eq. 4.13's L_S has the same
// form).
//
// The agent owns its networks and its Adam optimizer; data storage and the training loop live
// elsewhere (experiments/train/offline_trainer). Parameters are initialised from LibTorch's global
// generator, which the runner seeds once from run.seed (torch::manual_seed) before constructing the
// agent.
#pragma once

#include <torch/torch.h>

#include <filesystem>
#include <memory>
#include <string>

#include "agents/types.h"
#include "core/config_schema.h"
#include "dist/grad_sync.h"
#include "models/encoder.h"

namespace recarena::agents {

struct SupervisedOptions {
  models::EncoderOptions encoder;  // encoder.num_items is filled from the data by the runner
  double lr = 1e-3;
  double weight_decay = 0.0;
  double grad_clip = 0.0;  // max global L2 norm of gradients; 0 = off

  template <class V>
  void Visit(V& v) {
    v("encoder", encoder);
    v("lr", lr);
    v("weight_decay", weight_decay);
    v("grad_clip", grad_clip);
  }
  void Validate() const;
};

class SupervisedAgent {
 public:
  SupervisedAgent(const SupervisedOptions& options, torch::Device device);
  virtual ~SupervisedAgent() = default;
  SupervisedAgent(const SupervisedAgent&) = delete;
  SupervisedAgent& operator=(const SupervisedAgent&) = delete;

  // One Adam step on the mean cross-entropy of batch.targets; returns {"loss", "grad_norm"}. With a
  // BERT4Rec encoder the loss is its cloze objective instead (ClozeLoss).
  virtual MetricList Update(const SequenceBatch& batch);
  // Logits over the catalog [B, num_items] (float, on the agent's device); eval mode, no grad.
  virtual torch::Tensor Scores(const torch::Tensor& items, const torch::Tensor& lengths);

  virtual void Save(torch::serialize::OutputArchive& archive) const;
  virtual void Load(torch::serialize::InputArchive& archive);

  // Copies the encoder and output-layer parameters of a checkpoint written by Save (the optimizer
  // state and step are NOT taken: fine-tuning (CPFT, FINEST) starts a fresh Adam at step 0).
  // Throws FileError naming the file when it cannot be read or does not match; `what` names the
  // fine-tuning in that message.
  void InitFrom(const std::filesystem::path& checkpoint, const std::string& what = "fine-tuning");

  int64_t step() const { return step_; }
  torch::Device device() const { return device_; }
  // All trained parameters (subclasses add theirs; the base constructor's optimizer holds only the
  // base ones, so a subclass with more parameters rebuilds optimizer_ in its constructor).
  virtual std::vector<torch::Tensor> parameters() const;
  // Data-parallel training: every update averages its gradients over the ranks through sync (not
  // owned; nullptr = one process, the default).
  void SetGradientSync(dist::GradientSync* sync) { grad_sync_ = sync; }

 protected:
  // Logits [B, num_items] in train() mode, with autograd (for subclasses that add loss terms).
  torch::Tensor TrainLogits(const torch::Tensor& items, const torch::Tensor& lengths);
  // BERT4Rec's masked-item (cloze) objective (Sun et al. 2019) on the window + target sequence:
  // each of its items is replaced by [MASK] with probability encoder.bert4rec_mask_prob, the target
  // (the last item) always, and the loss is the mean cross-entropy of the masked items under the
  // output layer. The masks come from LibTorch's global generator, seeded from run.seed like
  // dropout's.
  torch::Tensor ClozeLoss(const SequenceBatch& batch);
  // The output layer's item vectors [num_items, D] (row j scores item j: logit_j = h . w_j + b_j).
  torch::Tensor OutputItemVectors() const { return head_->weight; }
  // backward(loss), optional clipping, one Adam step, ++step; returns the pre-clip gradient norm
  // (0-dim float64 on the device; see GradientStep).
  torch::Tensor ApplyLoss(const torch::Tensor& loss);

  SupervisedOptions options_;
  torch::Device device_;
  std::shared_ptr<models::SequenceEncoderImpl> encoder_;
  torch::nn::Linear head_{nullptr};
  std::unique_ptr<torch::optim::Adam> optimizer_;
  int64_t step_ = 0;
  dist::GradientSync* grad_sync_ = nullptr;
};

}  // namespace recarena::agents
