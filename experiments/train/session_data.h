// The data of the session models of `recarena train` (model_kind hdt and session_normal, thesis
// Ch. 5, docs/hdt.md): sessionized users, the last-session split, HDT's return inputs and the
// evaluation queries. Both models are built from the same SessionData, so their metrics compare
// like with like.
//
// Pipeline (a pure function of the config and run.seed):
//   data::PrepareDataset(cfg.data) (its sessionization / filters; its split is not used) ->
//   sessions grouped per user in time order -> agents::PrepareUsers(cfg.hdt_data) (truncate to the
//   last max_session_len items, drop sessions < 2 items, drop users < min_sessions sessions) ->
//   test session = each user's last, validation session = the second-last, training = the rest.
#pragma once

#include <cstdint>
#include <vector>

#include "agents/hdt_batches.h"
#include "data/prepare.h"
#include "experiments/eval/metrics.h"
#include "experiments/train/offline_config.h"

namespace recarena::experiments {

struct SessionData {
  data::PreparedDataset prepared;
  int64_t num_items = 0;
  std::vector<agents::UserSessions> users;      // after PrepareUsers: all sessions of each user
  std::vector<agents::UserSessions> train;      // each user's sessions but the last two
  agents::HdtReturnInputs returns;              // item vectors, dis_max, I_nov (training counts)
  std::vector<agents::HdtQuery> valid_queries;  // targets in each user's second-last session
  std::vector<agents::HdtQuery> test_queries;   // targets in each user's last session
  MetricsContext metrics_context;               // catalog size, long tail = I_nov, history on
};

// Builds the data of a session run. Throws ConfigError("data.preprocess.sessionize", ...) when the
// log has no sessions, recarena::Error when no user is left after the filters, and
// ConfigError("session.item_vectors", ...) when the dataset lacks the chosen side information.
SessionData BuildSessionData(const OfflineTrainConfig& cfg);

// The item vectors of cfg.session.item_vectors for ds's catalog (see ItemVectorSource).
agents::ItemVectors MakeItemVectors(const data::Dataset& ds, const SessionRunConfig& cfg,
                                    uint64_t seed);

}  // namespace recarena::experiments
