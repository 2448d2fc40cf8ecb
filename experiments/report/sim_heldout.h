// Held-out response quality of a fitted simulator role, against reference models
// (part of `recarena sim report`; docs/simulator.md "Held-out response quality").
//
// Rows come from the OTHER role's users (the train simulator is scored on the test users' logs and
// vice versa; the eval simulator on the test users' logs). Click targets: every logged next item
// (positive) with sim.response.negatives sampled items (negatives) under two schemes,
//   uniform     every catalog item equally likely (the rows the report always had), and
//   popularity  proportional to the item's count in the held-out logs + 1: the negatives look
//               like the positives' popularity, so only what a model knows beyond popularity
//               ranks the logged item higher (the harder, more honest scheme).
// Rating targets: the logged ratings only (positive = rating >= accept_threshold), one scheme
// "logged". Every model scores the same rows: the learned response model and the reference models
// of env/reference_models.h fitted on the evaluated role's own logs.
#pragma once

#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include "env/sim_fit.h"

namespace recarena::experiments {

// JSON: {"schemes": {scheme: {"rows", "positive_share", "models": {model: {"auc", "logloss"
// (click) or "rmse" (rating), "ece"}}, "learned_beats_all_auc", "learned_beats_all_logloss"}},
// "heldout_rows", "heldout_auc", "heldout_rmse", "calibration", "ece"} where the last five are the
// learned model on the first scheme (the keys reports always had).
nlohmann::json HeldoutQuality(const env::Simulator& sim, const env::SimData& data,
                              env::SimRole role, const env::SimFitConfig& cfg, torch::Device device,
                              int64_t max_rows);

// Simulators whose eval role is a random-exposure part (Coat): the role's response model on the
// random-exposure ratings of the role's own users (train or test role; null for eval), i.e. the
// items they did not choose: {"rows", "rmse", "auc"}.
nlohmann::json RandomExposureQuality(const env::Simulator& sim, const env::SimData& data,
                                     env::SimRole role, const env::SimFitConfig& cfg,
                                     torch::Device device);

// Coat: MF trained naively and with IPS on the self-selected ratings, evaluated on the
// random-exposure ratings (env/debias.h), seeds from run.seed: per arm the mean and Student-t 95%
// interval of RMSE, MAE and AUC over the seeds, and the paired difference IPS - naive.
nlohmann::json DebiasingComparison(const env::SimData& data, const env::SimFitConfig& cfg);

}  // namespace recarena::experiments
