// Shared pieces of the offline-training tests (windowed, decision transformers, sessions).
#pragma once

#include <catch2/catch.hpp>

#include <filesystem>

#include "core/atomic_file.h"
#include "experiments/train/offline_trainer.h"

namespace recarena::testing {

// The tiny synthetic world of the offline tests (80 users, 40 items, slates of 8), one thread,
// 24 steps validated every 8, no early stop.
inline experiments::OfflineTrainConfig TinyOfflineConfig(
    models::EncoderKind kind = models::EncoderKind::kGru4Rec) {
  experiments::OfflineTrainConfig cfg;
  cfg.run.seed = 11;
  cfg.run.device = DeviceKind::kCpu;
  cfg.run.log_level = "warn";
  cfg.data.synthetic.num_users = 80;
  cfg.data.synthetic.num_items = 40;
  cfg.data.synthetic.slate_size = 8;
  cfg.model.encoder.kind = kind;
  cfg.model.encoder.hidden = 16;
  cfg.train.batch_size = 32;
  cfg.train.max_steps = 24;
  cfg.train.eval_every = 8;
  cfg.train.patience = 100;
  cfg.train.threads = 1;
  return cfg;
}

// Trains cfg straight through in `straight`, and in `resumed` killed after crash_after steps (no
// test evaluation, no metrics.json) and started again; checks that the resumed run ends with the
// same steps, test metrics and training curve. Returns the uninterrupted result.
inline experiments::OfflineRunResult CheckResumesExactly(const experiments::OfflineTrainConfig& cfg,
                                                         int64_t crash_after,
                                                         const std::filesystem::path& straight,
                                                         const std::filesystem::path& resumed) {
  const auto a = experiments::RunOfflineTraining(cfg, straight);
  const auto partial = experiments::RunOfflineTraining(cfg, resumed, crash_after);
  CHECK(partial.steps == crash_after);
  CHECK(partial.test_metrics.empty());
  CHECK_FALSE(std::filesystem::exists(resumed / "metrics.json"));
  const auto b = experiments::RunOfflineTraining(cfg, resumed);
  CHECK(b.resumed);
  CHECK(b.steps == a.steps);
  CHECK(b.test_metrics == a.test_metrics);
  CHECK(ReadFile(straight / "metrics.jsonl") == ReadFile(resumed / "metrics.jsonl"));
  return a;
}

}  // namespace recarena::testing
