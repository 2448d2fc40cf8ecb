#include "agents/supervised.h"

#include "agents/gradient_step.h"
#include "core/error.h"
#include "models/bert4rec.h"
#include "models/checkpoint.h"

namespace recarena::agents {

void SupervisedOptions::Validate() const {
  encoder.Validate();
  if (!(lr > 0.0)) throw ConfigError("model.lr", "model.lr must be > 0, got " + std::to_string(lr));
  if (weight_decay < 0.0) {
    throw ConfigError("model.weight_decay",
                      "model.weight_decay must be >= 0, got " + std::to_string(weight_decay));
  }
  if (grad_clip < 0.0) {
    throw ConfigError("model.grad_clip",
                      "model.grad_clip must be >= 0, got " + std::to_string(grad_clip));
  }
}

SupervisedAgent::SupervisedAgent(const SupervisedOptions& options, torch::Device device)
    : options_(options), device_(device) {
  encoder_ = models::MakeEncoder(options_.encoder);
  head_ = torch::nn::Linear(encoder_->dim(), options_.encoder.num_items);
  encoder_->to(device_);
  head_->to(device_);
  std::vector<torch::Tensor> params = parameters();
  optimizer_ = std::make_unique<torch::optim::Adam>(
      params, torch::optim::AdamOptions(options_.lr).weight_decay(options_.weight_decay));
}

std::vector<torch::Tensor> SupervisedAgent::parameters() const {
  std::vector<torch::Tensor> params = encoder_->parameters();
  for (auto& p : head_->parameters()) params.push_back(p);
  return params;
}

torch::Tensor SupervisedAgent::TrainLogits(const torch::Tensor& items,
                                           const torch::Tensor& lengths) {
  encoder_->train();
  head_->train();
  return head_->forward(encoder_->Last(items, lengths));
}

torch::Tensor SupervisedAgent::ClozeLoss(const SequenceBatch& batch) {
  auto& bert = static_cast<models::Bert4RecImpl&>(*encoder_);
  encoder_->train();
  head_->train();
  const int64_t B = batch.items.size(0), L = batch.items.size(1);
  const int64_t pad = options_.encoder.num_items;
  // The window and its target as one sequence of lengths + 1 items.
  torch::Tensor tokens =
      torch::cat({batch.items, torch::full({B, 1}, pad, batch.items.options())}, 1);
  tokens = tokens.scatter(1, batch.lengths.unsqueeze(1), batch.targets.unsqueeze(1));
  const torch::Tensor seq_len = batch.lengths + 1;
  const torch::Tensor valid = models::LengthMask(seq_len, L + 1);
  // rho of the items, and always the last one (the next-item task Scores answers).
  // Drawn on the CPU generator: the same masks on CPU and CUDA for a seed.
  torch::Tensor masked =
      (torch::rand({B, L + 1}).to(device_) < options_.encoder.bert4rec_mask_prob) & valid;
  masked = masked.scatter(1, batch.lengths.unsqueeze(1), true);
  const torch::Tensor states = bert.Encode(tokens.masked_fill(masked, bert.mask_token()), seq_len);
  const torch::Tensor logits = head_->forward(states.index({masked}));
  return torch::nn::functional::cross_entropy(logits, tokens.index({masked}));
}

torch::Tensor SupervisedAgent::ApplyLoss(const torch::Tensor& loss) {
  torch::Tensor norm =
      GradientStep(loss, parameters(), *optimizer_, options_.grad_clip, grad_sync_);
  ++step_;
  return norm;
}

MetricList SupervisedAgent::Update(const SequenceBatch& batch) {
  const torch::Tensor loss = options_.encoder.kind == models::EncoderKind::kBert4Rec
                                 ? ClozeLoss(batch)
                                 : torch::nn::functional::cross_entropy(
                                       TrainLogits(batch.items, batch.lengths), batch.targets);
  const torch::Tensor norm = ApplyLoss(loss);
  return ReadMetrics({{"loss", loss}, {"grad_norm", norm}});
}

torch::Tensor SupervisedAgent::Scores(const torch::Tensor& items, const torch::Tensor& lengths) {
  torch::NoGradGuard ng;
  encoder_->eval();
  head_->eval();
  return head_->forward(encoder_->Last(items.to(device_), lengths.to(device_)));
}

void SupervisedAgent::Save(torch::serialize::OutputArchive& archive) const {
  torch::serialize::OutputArchive enc, head, opt;
  encoder_->save(enc);
  head_->save(head);
  optimizer_->save(opt);
  archive.write("encoder", enc);
  archive.write("head", head);
  archive.write("optimizer", opt);
  archive.write("step", torch::tensor(step_, torch::kInt64));
}

void SupervisedAgent::Load(torch::serialize::InputArchive& archive) {
  torch::serialize::InputArchive enc, head, opt;
  archive.read("encoder", enc);
  archive.read("head", head);
  archive.read("optimizer", opt);
  models::LoadModule(*encoder_, enc);
  models::LoadModule(*head_, head);
  optimizer_->load(opt);
  torch::Tensor step;
  archive.read("step", step);
  step_ = step.item<int64_t>();
  encoder_->to(device_);
  head_->to(device_);
}

void SupervisedAgent::InitFrom(const std::filesystem::path& checkpoint, const std::string& what) {
  models::LoadArchiveFile(
      checkpoint,
      [&](torch::serialize::InputArchive& archive) {
        torch::serialize::InputArchive enc, head;
        archive.read("encoder", enc);
        archive.read("head", head);
        models::LoadModule(*encoder_, enc);
        models::LoadModule(*head_, head);
      },
      "cannot initialise the " + what +
          " model from this checkpoint (does its model config "
          "match?)");
  encoder_->to(device_);
  head_->to(device_);
}

}  // namespace recarena::agents
