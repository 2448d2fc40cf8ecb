#include "experiments/train/offline_config.h"

#include <fmt/format.h>

namespace recarena::experiments {

namespace {
void Positive(int64_t v, const char* path) {
  if (v <= 0) throw ConfigError(path, fmt::format("{} must be > 0, got {}", path, v));
}
}  // namespace

void TrainLoopConfig::Validate() const {
  Positive(batch_size, "train.batch_size");
  Positive(max_steps, "train.max_steps");
  Positive(max_epochs, "train.max_epochs");
  Positive(eval_every, "train.eval_every");
  Positive(patience, "train.patience");
  Positive(max_valid_queries, "train.max_valid_queries");
  if (!(valid_fraction_if_missing > 0.0 && valid_fraction_if_missing < 1.0)) {
    throw ConfigError("train.valid_fraction_if_missing",
                      fmt::format("train.valid_fraction_if_missing must be in (0, 1), got {}",
                                  valid_fraction_if_missing));
  }
  if (threads < 0)
    throw ConfigError("train.threads", fmt::format("train.threads must be >= 0, got {}", threads));
}

void EvalConfig::Validate() const {
  if (ks.empty()) throw ConfigError("eval.ks", "eval.ks must list at least one cutoff");
  for (int k : ks) {
    if (k <= 0) throw ConfigError("eval.ks", fmt::format("eval.ks values must be > 0, got {}", k));
  }
  Positive(batch_size, "eval.batch_size");
}

void SessionRunConfig::Validate() const { Positive(random_dim, "session.random_dim"); }

void OfflineTrainConfig::Validate() const {
  run.Validate();
  data.Validate();
  if (IsSessionModel()) {
    // Sessions are whole encoder inputs: the encoder must hold a full (truncated) session.
    const models::EncoderOptions& enc =
        model_kind == OfflineModel::kHdt ? hdt_model.encoder : model.encoder;
    if (model_kind == OfflineModel::kHdt) {
      agents::HdtAgentOptions m = hdt_model;
      if (m.encoder.num_items <= 0) m.encoder.num_items = 1;
      m.Validate();
    } else {
      agents::SupervisedOptions m = model;
      if (m.encoder.num_items <= 0) m.encoder.num_items = 1;
      m.Validate();
    }
    hdt_data.Validate();
    session.Validate();
    if (hdt_data.min_sessions < 3) {
      throw ConfigError("hdt_data.min_sessions",
                        fmt::format("hdt_data.min_sessions must be >= 3 for `recarena train` (a "
                                    "test, a validation and a training session), got {}",
                                    hdt_data.min_sessions));
    }
    if (enc.state_len != hdt_data.max_session_len) {
      throw ConfigError(
          "model.encoder.state_len",
          fmt::format("model.encoder.state_len ({}) must equal hdt_data.max_session_len ({})",
                      enc.state_len, hdt_data.max_session_len));
    }
  } else if (model_kind == OfflineModel::kNormal || model_kind == OfflineModel::kCpft ||
             model_kind == OfflineModel::kFinest || IsDecisionTransformer() || IsOfflineRl() ||
             IsOfflineQ()) {
    // num_items comes from the data; validate the rest with a stand-in catalog size.
    agents::SupervisedOptions m = model;
    if (m.encoder.num_items <= 0) m.encoder.num_items = 1;
    m.Validate();
    if (model.encoder.state_len != data.window.state_len) {
      throw ConfigError(
          "model.encoder.state_len",
          fmt::format("model.encoder.state_len ({}) must equal data.window.state_len ({})",
                      model.encoder.state_len, data.window.state_len));
    }
  }
  if (model_kind == OfflineModel::kCpft) {
    cpft.Validate();
    if (cpft.init_from.empty()) {
      throw ConfigError("cpft.init_from",
                        "model_kind cpft needs cpft.init_from: the run directory of a trained "
                        "model whose best.pt "
                        "initialises the fine-tuning");
    }
  }
  if (model_kind == OfflineModel::kFinest) {
    finest.Validate();
    if (finest.init_from.empty()) {
      throw ConfigError("finest.init_from",
                        "model_kind finest needs finest.init_from: the run directory of the "
                        "pre-trained model whose best.pt it fine-tunes");
    }
  }
  if (IsDecisionTransformer()) {
    dt.Validate();
    if (model.encoder.hidden % dt.num_heads != 0) {
      throw ConfigError("dt.num_heads",
                        fmt::format("dt.num_heads ({}) must divide model.encoder.hidden ({})",
                                    dt.num_heads, model.encoder.hidden));
    }
  }
  if (IsOfflineRl()) rl.Validate();
  if (IsOfflineQ()) offline_q.Validate();
  train.Validate();
  eval.Validate();
}

}  // namespace recarena::experiments
