#include "agents/supervised.h"

#include "agents/gradient_step.h"
#include "core/error.h"
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
  auto out = encoder_->forward(items, lengths);
  return head_->forward(out.last);
}

torch::Tensor SupervisedAgent::ApplyLoss(const torch::Tensor& loss) {
  torch::Tensor norm = GradientStep(loss, parameters(), *optimizer_, options_.grad_clip);
  ++step_;
  return norm;
}

MetricList SupervisedAgent::Update(const SequenceBatch& batch) {
  auto logits = TrainLogits(batch.items, batch.lengths);
  auto loss = torch::nn::functional::cross_entropy(logits, batch.targets);
  const torch::Tensor norm = ApplyLoss(loss);
  return ReadMetrics({{"loss", loss}, {"grad_norm", norm}});
}

torch::Tensor SupervisedAgent::Scores(const torch::Tensor& items, const torch::Tensor& lengths) {
  torch::NoGradGuard ng;
  encoder_->eval();
  head_->eval();
  auto out = encoder_->forward(items.to(device_), lengths.to(device_));
  return head_->forward(out.last);
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
