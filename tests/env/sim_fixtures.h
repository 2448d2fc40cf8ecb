// Tiny simulator configs fitted in memory for env/ tests (seconds on one core).
#pragma once

#include <cmath>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "env/sim_fit.h"

namespace recarena::testing {

// A logged sequence of user with the given items (timestamps 0, values 1).
inline data::Sequence Seq(data::UserId user, std::vector<data::ItemId> items) {
  data::Sequence s;
  s.user = user;
  s.items = std::move(items);
  s.timestamps.assign(s.items.size(), 0.0);
  s.values.assign(s.items.size(), 1.0f);
  return s;
}

// A small synthetic world (60 users, 40 items) with a tiny SASRec response model trained one epoch.
inline env::SimFitConfig TinySimConfig() {
  env::SimFitConfig cfg;
  cfg.run.seed = 7;
  cfg.run.device = DeviceKind::kCpu;
  cfg.data.dataset = data::DatasetKind::kSynthetic;
  cfg.data.synthetic.num_users = 60;
  cfg.data.synthetic.num_items = 40;
  cfg.data.synthetic.num_topics = 4;
  cfg.data.synthetic.sessions_per_user = 2;
  cfg.data.preprocess.sequence_unit = data::SequenceUnit::kUser;
  cfg.sim.response.encoder.hidden = 8;
  cfg.sim.response.encoder.state_len = 5;
  cfg.sim.response.epochs = 1;
  cfg.sim.response.negatives = 2;
  cfg.sim.max_length = 12;
  cfg.sim.leave.repetition.window = 3;
  cfg.sim.leave.repetition.max_similar = 2;
  return cfg;
}

// The tiny config with a DeepFM rating model: rewards are predicted ratings in [0, 5], accepted
// from 0.5.
inline env::SimFitConfig TinyDeepFmRatingConfig() {
  auto c = TinySimConfig();
  c.sim.response.kind = env::ResponseKind::kDeepFm;
  c.sim.response.target = env::ResponseTarget::kRating;
  c.sim.response.reward = env::RewardMode::kValue;
  c.sim.response.reward_min = 0.0;
  c.sim.response.reward_max = 5.0;
  c.sim.response.negative_value = 0.0;
  c.sim.response.accept_threshold = 0.5;
  return c;
}

// A named variant of the tiny config; every conformance test runs over all of them.
struct SimVariant {
  std::string name;
  env::SimFitConfig cfg;
  env::SimRole role = env::SimRole::kTrain;
};

inline std::vector<SimVariant> SimVariants() {
  std::vector<SimVariant> v;
  v.push_back({"sequential-probability", TinySimConfig()});
  {
    auto c = TinySimConfig();
    c.sim.response.reward = env::RewardMode::kBernoulli;
    c.sim.leave.patience.enabled = true;
    c.sim.leave.patience.init = 3.0;
    v.push_back({"sequential-bernoulli-patience", c});
  }
  {
    auto c = TinyDeepFmRatingConfig();
    c.sim.response.ensemble = 2;
    c.sim.response.pessimism = 1.0;
    c.sim.leave.repetition.similarity = env::SimilarityKind::kFeatures;
    c.sim.leave.repetition.threshold = 0.8;
    v.push_back({"deepfm-rating-ensemble", c});
  }
  {
    auto c =
        TinyDeepFmRatingConfig();  // the shipped coat shape: ratings drawn around the prediction
    c.sim.response.rating_noise = 0.5;
    c.sim.leave.patience.enabled = true;
    v.push_back({"deepfm-rating-noise-patience", c});
  }
  {
    auto c = TinySimConfig();
    c.sim.response.encoder.kind = models::EncoderKind::kGru4Rec;
    c.sim.rejected_in_history = true;
    c.sim.leave.repetition.similarity = env::SimilarityKind::kItem;
    v.push_back({"gru4rec-rejected-in-history", c});
  }
  {
    auto c = TinySimConfig();
    c.sim.eval.kind = env::EvalSimKind::kGroundTruth;
    v.push_back({"ground-truth-eval", c, env::SimRole::kEval});
  }
  {
    auto c = TinySimConfig();
    c.sim.response.neighbourhood = true;
    c.sim.response.negative_sampling = env::NegativeSampling::kMixed;
    c.sim.response.calibration = env::CalibrationKind::kIsotonic;
    v.push_back({"sequential-neighbourhood-isotonic", c});
  }
  {
    auto c = TinySimConfig();  // the shipped ml-latest-small shape: FISM's bag alone
    c.sim.response.history_bag = true;
    c.sim.response.history_encoder = false;
    v.push_back({"bag-only", c});
  }
  {
    auto c = TinySimConfig();  // two blocks, two heads, bag: every part of the incremental state
    c.sim.response.encoder.num_blocks = 2;
    c.sim.response.encoder.num_heads = 2;
    c.sim.response.history_bag = true;
    c.sim.response.ensemble = 2;
    v.push_back({"sasrec-2x2-bag-ensemble", c});
  }
  {
    auto c = TinySimConfig();  // negatives from the logged slates, calibrated on them
    c.data.synthetic.log_exposures = true;
    c.sim.response.negative_sampling = env::NegativeSampling::kExposure;
    c.sim.response.calibration = env::CalibrationKind::kPlatt;
    v.push_back({"exposure-negatives", c});
  }
  return v;
}

inline std::shared_ptr<const env::Simulator> FitTiny(const env::SimFitConfig& cfg,
                                                     env::SimRole role) {
  const auto data = env::BuildSimData(cfg);
  return env::FitRole(cfg, data, role, torch::kCPU);
}

// Two fixed click models over 2 items: logits 0 and ln(3), i.e. probabilities 0.5 and 0.75 for
// every user (mean 0.625, population std 0.125), and a one-row input that scores item 0.
inline std::vector<std::shared_ptr<env::ResponseModelImpl>> TwoClickModels() {
  auto u1 = torch::zeros({1, 2}), u2 = torch::full({1, 2}, std::log(3.0));
  return {std::make_shared<env::GroundTruthResponseImpl>(u1, 0.0, 1.0),
          std::make_shared<env::GroundTruthResponseImpl>(u2, 0.0, 1.0)};
}
inline env::ResponseInput OneRowItem0() {
  return {torch::full({1, 1}, 2, torch::kInt64), torch::ones({1}, torch::kInt64),
          torch::zeros({1}, torch::kInt64), torch::zeros({1}, torch::kInt64)};
}

}  // namespace recarena::testing
