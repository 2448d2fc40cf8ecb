#include "env/sim_config.h"

#include <cmath>

#include <fmt/format.h>

#include "core/strings.h"

namespace recarena::env {
namespace {

template <class T>
[[noreturn]] void Bad(const std::string& path, const std::string& want, const T& got) {
  throw ConfigError(path, path + " must be " + want + ": got " + fmt::format("{}", got));
}

void Finite(const std::string& path, double v) {
  if (!std::isfinite(v)) Bad(path, "finite", v);
}

}  // namespace

void ResponseConfig::Validate() const {
  const std::string p = "sim.response.";
  encoder.Validate();
  if (neighbourhood && kind != ResponseKind::kSequential) {
    throw ConfigError(p + "neighbourhood",
                      "sim.response.neighbourhood: true needs sim.response.kind: sequential");
  }
  if (kind == ResponseKind::kSequential && !history_encoder && !history_bag) {
    throw ConfigError(p + "history_encoder",
                      "sim.response.history_encoder: false needs sim.response.history_bag: true "
                      "(the model would have no state)");
  }
  if (deepfm_dim < 1) Bad(p + "deepfm_dim", ">= 1", deepfm_dim);
  for (auto w : deepfm_hidden) {
    if (w < 1) Bad(p + "deepfm_hidden", "a list of widths >= 1", w);
  }
  if (negatives < 0) Bad(p + "negatives", ">= 0", negatives);
  Finite(p + "negative_value", negative_value);
  if (ensemble < 1) Bad(p + "ensemble", ">= 1", ensemble);
  Finite(p + "pessimism", pessimism);
  if (pessimism < 0) Bad(p + "pessimism", ">= 0", pessimism);
  Finite(p + "reward_min", reward_min);
  Finite(p + "reward_max", reward_max);
  if (!(reward_max > reward_min))
    Bad(p + "reward_max", "> reward_min (" + fmt::format("{}", reward_min) + ")", reward_max);
  Finite(p + "accept_threshold", accept_threshold);
  Finite(p + "rating_noise", rating_noise);
  if (rating_noise < 0) Bad(p + "rating_noise", ">= 0 (0: no noise)", rating_noise);
  if (rating_noise > 0 && target != ResponseTarget::kRating) {
    Bad(p + "rating_noise", "0 for target click (a click is drawn from its probability)",
        rating_noise);
  }
  if (epochs < 0) Bad(p + "epochs", ">= 0", epochs);
  if (batch_size < 1) Bad(p + "batch_size", ">= 1", batch_size);
  if (!(lr > 0) || !std::isfinite(lr)) Bad(p + "lr", "> 0", lr);
  if (!(weight_decay >= 0)) Bad(p + "weight_decay", ">= 0", weight_decay);
  if (early_stopping < 0) Bad(p + "early_stopping", ">= 0 (0: off)", early_stopping);
  if (!(validation_users > 0 && validation_users < 1)) {
    Bad(p + "validation_users", "a share in (0, 1)", validation_users);
  }
  // 1 / P >= 1, so a cap below 1 would flatten every weight to it.
  if (!(ips_clip == 0.0 || ips_clip >= 1.0) || !std::isfinite(ips_clip)) {
    Bad(p + "ips_clip", "0 (no cap) or >= 1", ips_clip);
  }
  if (negative_sampling == NegativeSampling::kExposure && ips) {
    // IPS weights assume 1 + negatives rows per logged interaction (env/sim_fit.h IpsWeights).
    Bad(p + "ips", "false with negative_sampling exposure", "true");
  }
  if (target == ResponseTarget::kClick) {
    if (reward == RewardMode::kValue) {
      Bad(p + "reward", "probability or bernoulli for target click", "value");
    }
    if (reward_min != 0.0 || reward_max != 1.0) {
      Bad(p + "reward_max", "1 with reward_min 0 for target click (rewards are probabilities)",
          reward_max);
    }
    if (negatives < 1)
      Bad(p + "negatives", ">= 1 for target click (nothing to contrast)", negatives);
  } else if (reward != RewardMode::kValue) {
    Bad(p + "reward", "value for target rating", config::EnumToString(reward));
  }
}

void LeaveConfig::Validate() const {
  const std::string p = "sim.leave.";
  if (repetition.window < 1) Bad(p + "repetition.window", ">= 1", repetition.window);
  if (repetition.max_similar < 1 || repetition.max_similar > repetition.window) {
    Bad(p + "repetition.max_similar", "in [1, window = " + std::to_string(repetition.window) + "]",
        repetition.max_similar);
  }
  Finite(p + "repetition.threshold", repetition.threshold);
  if (repetition.threshold < -1 || repetition.threshold > 1) {
    Bad(p + "repetition.threshold", "a cosine in [-1, 1]", repetition.threshold);
  }
  Finite(p + "patience.init", patience.init);
  if (!(patience.init > 0)) Bad(p + "patience.init", "> 0", patience.init);
  if (!(patience.cost_rejected >= 0))
    Bad(p + "patience.cost_rejected", ">= 0", patience.cost_rejected);
  if (!(patience.cost_accepted >= 0))
    Bad(p + "patience.cost_accepted", ">= 0", patience.cost_accepted);
  if (!(hazard.session_gap_minutes >= 0)) {
    Bad(p + "hazard.session_gap_minutes", ">= 0", hazard.session_gap_minutes);
  }
  if (!(hazard.smoothing >= 0)) Bad(p + "hazard.smoothing", ">= 0", hazard.smoothing);
  if (!(hazard.satisfaction_decay > 0 && hazard.satisfaction_decay <= 1)) {
    Bad(p + "hazard.satisfaction_decay", "in (0, 1]", hazard.satisfaction_decay);
  }
  if (hazard.conditional && !hazard.enabled) {
    throw ConfigError(p + "hazard.conditional",
                      "sim.leave.hazard.conditional needs sim.leave.hazard.enabled: true");
  }
}

void SimConfig::Validate() const {
  if (!(user_train_share > 0 && user_train_share < 1)) {
    Bad("sim.user_train_share", "in (0, 1)", user_train_share);
  }
  if (initial_items < 1) Bad("sim.initial_items", ">= 1", initial_items);
  if (max_length < 1) Bad("sim.max_length", ">= 1", max_length);
  response.Validate();
  leave.Validate();
  if (initial_items > response.encoder.state_len) {
    Bad("sim.initial_items",
        "<= sim.response.encoder.state_len (" + std::to_string(response.encoder.state_len) + ")",
        initial_items);
  }
  if (eval.leave == EvalLeaveKind::kWorld && eval.kind != EvalSimKind::kGroundTruth) {
    throw ConfigError(
        "sim.eval.leave",
        "sim.eval.leave world needs sim.eval.kind ground_truth (the synthetic world)");
  }
  if (eval.kind == EvalSimKind::kPart && eval.part.empty())
    Bad("sim.eval.part", "a part name", "\"\"");
}

void SimFitConfig::Validate() const {
  run.Validate();
  data.Validate();
  sim.Validate();
  if (sim.eval.kind == EvalSimKind::kGroundTruth && data.dataset != data::DatasetKind::kSynthetic) {
    throw ConfigError("sim.eval.kind",
                      "sim.eval.kind ground_truth needs the synthetic world (data.dataset: "
                      "synthetic); got data.dataset " +
                          config::EnumToString(data.dataset));
  }
}

}  // namespace recarena::env
