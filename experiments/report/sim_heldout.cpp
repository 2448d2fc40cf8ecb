#include "experiments/report/sim_heldout.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "data/load_coat.h"
#include "data/prepare.h"
#include "env/calibration.h"
#include "env/debias.h"
#include "env/reference_models.h"
#include "experiments/eval/rollout.h"
#include "experiments/report/sim_report.h"

namespace recarena::experiments {
namespace {

nlohmann::json Num(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(); }

// Predictions and labels of one model on one scheme's rows, both on [0, 1] for the ECE.
struct Scored {
  std::vector<float> pred, unit_pred, unit_label;
};

nlohmann::json Metrics(const std::vector<float>& pred, const env::ResponseRows& rows,
                       const env::ResponseConfig& rcfg, const std::vector<uint8_t>& positive,
                       Scored* keep) {
  const bool click = rcfg.target == env::ResponseTarget::kClick;
  const double lo = rcfg.reward_min, span = rcfg.reward_max - rcfg.reward_min;
  std::vector<float> unit_pred(pred.size()), unit_label(pred.size());
  double se = 0.0;
  for (size_t i = 0; i < pred.size(); ++i) {
    const double p = std::clamp(static_cast<double>(pred[i]), lo, lo + span);
    unit_pred[i] = static_cast<float>((p - lo) / span);
    unit_label[i] = static_cast<float>(click ? rows.targets[i] : (rows.targets[i] - lo) / span);
    se += (pred[i] - rows.targets[i]) * (pred[i] - rows.targets[i]);
  }
  nlohmann::json m;
  m["auc"] = Num(RocAuc(pred, positive));
  if (click) {
    m["logloss"] = Num(env::LogLoss(unit_pred, unit_label));
  } else {
    m["rmse"] = Num(std::sqrt(se / static_cast<double>(std::max<size_t>(1, pred.size()))));
  }
  m["ece"] = Num(env::ExpectedCalibrationError(unit_pred, unit_label));
  if (keep) *keep = {pred, std::move(unit_pred), std::move(unit_label)};
  return m;
}

nlohmann::json ReliabilityBins(const Scored& s) {
  nlohmann::json calib = nlohmann::json::array();
  std::vector<double> psum(10, 0.0), ysum(10, 0.0);
  std::vector<int64_t> cnt(10, 0);
  for (size_t i = 0; i < s.unit_pred.size(); ++i) {
    const auto bin = static_cast<size_t>(std::clamp(static_cast<int>(s.unit_pred[i] * 10.0), 0, 9));
    psum[bin] += s.unit_pred[i];
    ysum[bin] += s.unit_label[i];
    ++cnt[bin];
  }
  for (size_t bin = 0; bin < 10; ++bin) {
    if (cnt[bin] == 0) continue;
    calib.push_back({{"bin", fmt::format("[{:.1f}, {:.1f})", bin / 10.0, (bin + 1) / 10.0)},
                     {"rows", cnt[bin]},
                     {"mean_predicted", psum[bin] / static_cast<double>(cnt[bin])},
                     {"mean_observed", ysum[bin] / static_cast<double>(cnt[bin])}});
  }
  return calib;
}

// Does the learned model beat every reference on `key` (higher is better for AUC, lower for the
// losses)? null when a value is missing.
nlohmann::json BeatsAll(const nlohmann::json& models, const std::string& key, bool higher) {
  const auto& l = models["learned"][key];
  if (!l.is_number()) return nullptr;
  for (const auto& name : env::ReferenceModels::Names()) {
    const auto& r = models[name][key];
    if (!r.is_number()) return nullptr;
    const bool better =
        higher ? l.get<double>() > r.get<double>() : l.get<double>() < r.get<double>();
    if (!better) return false;
  }
  return true;
}

}  // namespace

nlohmann::json HeldoutQuality(const env::Simulator& sim, const env::SimData& data,
                              env::SimRole role, const env::SimFitConfig& cfg, torch::Device device,
                              int64_t max_rows) {
  const auto& rcfg = sim.response->config();
  const bool rating = rcfg.target == env::ResponseTarget::kRating;
  const auto& held =
      data.sequences.at(role == env::SimRole::kTest ? env::SimRole::kTrain : env::SimRole::kTest);
  const auto& own = data.sequences.at(role);
  auto row_cfg = rcfg;
  row_cfg.kind = cfg.sim.response.kind;
  row_cfg.negatives = rating ? 0 : std::max<int64_t>(1, row_cfg.negatives);

  // Reference models, fitted on the evaluated role's logs with rows like its model's.
  auto ref_cfg = cfg.sim.response;
  ref_cfg.kind = cfg.sim.response.kind;
  ref_cfg.target = rcfg.target;
  Rng ref_rng = Rng(cfg.run.seed).Fork(53 + static_cast<uint64_t>(role));
  env::ReferenceModels refs(own, ref_cfg, sim.num_items, sim.state_len, ref_rng, 50000,
                            &data.exposures);

  std::vector<std::pair<std::string, env::NegativeSampling>> schemes;
  if (rating) {
    schemes = {{"logged", env::NegativeSampling::kUniform}};
  } else {
    schemes = {{"uniform", env::NegativeSampling::kUniform},
               {"popularity", env::NegativeSampling::kPopularity}};
    // Where the log records what was shown, the shown-and-not-picked items are the negatives
    // that measure preference rather than exposure.
    if (!data.exposures.empty()) schemes.push_back({"exposure", env::NegativeSampling::kExposure});
    // A click probability is a probability against a negative distribution: a model trained and
    // calibrated on mixed negatives is calibrated for those, so its ECE is read on them too.
    if (rcfg.negative_sampling == env::NegativeSampling::kMixed) {
      schemes.push_back({"mixed", env::NegativeSampling::kMixed});
    }
  }
  // The headline numbers (heldout_auc, ece, the reliability bins) come from the scheme the model
  // was trained and calibrated on when that is the log's exposures or the mixed draw, else from
  // the first scheme.
  size_t primary = 0;
  for (size_t k = 0; k < schemes.size(); ++k) {
    const auto kind = schemes[k].second;
    if (kind == rcfg.negative_sampling &&
        (kind == env::NegativeSampling::kExposure || kind == env::NegativeSampling::kMixed)) {
      primary = k;
    }
  }
  nlohmann::json out;
  for (size_t k = 0; k < schemes.size(); ++k) {
    const auto& [scheme, kind] = schemes[k];
    // Fork(50): the uniform rows every report had; Fork(52) for the popularity and exposure
    // schemes, Fork(56) for the mixed one (53-55 are the reference models').
    Rng rng = Rng(cfg.run.seed)
                  .Fork(kind == env::NegativeSampling::kUniform ? 50
                        : kind == env::NegativeSampling::kMixed ? 56
                                                                : 52);
    const env::NegativeSampler sampler(kind, sim.num_items, env::ItemCounts(held, sim.num_items));
    const auto rows =
        env::HeadRows(env::MakeResponseRows(held, row_cfg, sim.num_items, sim.state_len, rng,
                                            &sampler, &data.exposures),
                      static_cast<size_t>(std::max<int64_t>(0, max_rows)));
    std::vector<uint8_t> positive(rows.size());
    double pos = 0.0;
    for (size_t i = 0; i < rows.size(); ++i) {
      // Click rows: 1 logged, 0 negative.
      positive[i] = rows.targets[i] >= (rating ? rcfg.accept_threshold : 0.5);
      pos += positive[i];
    }
    nlohmann::json sj;
    sj["rows"] = rows.size();
    sj["positive_share"] = Num(pos / static_cast<double>(std::max<size_t>(1, rows.size())));
    Scored learned;
    sj["models"]["learned"] =
        Metrics(env::PredictRows(*sim.response, rows, device), rows, rcfg, positive, &learned);
    for (const auto& name : env::ReferenceModels::Names()) {
      sj["models"][name] = Metrics(refs.Predict(name, rows), rows, rcfg, positive, nullptr);
    }
    sj["learned_beats_all_auc"] = BeatsAll(sj["models"], "auc", true);
    sj["learned_beats_all_" + std::string(rating ? "rmse" : "logloss")] =
        BeatsAll(sj["models"], rating ? "rmse" : "logloss", false);
    if (k == primary) {
      out["heldout_scheme"] = scheme;
      out["heldout_rows"] = rows.size();
      out["heldout_auc"] = sj["models"]["learned"]["auc"];
      if (rating) {
        // RMSE over the logged ratings (the rows of the "logged" scheme).
        out["heldout_rmse"] = sj["models"]["learned"]["rmse"];
      }
      out["ece"] = sj["models"]["learned"]["ece"];
      out["calibration"] = ReliabilityBins(learned);
    }
    out["schemes"][scheme] = sj;
  }
  return out;
}

nlohmann::json RandomExposureQuality(const env::Simulator& sim, const env::SimData& data,
                                     env::SimRole role, const env::SimFitConfig& cfg,
                                     torch::Device device) {
  if (role == env::SimRole::kEval || cfg.sim.eval.kind != env::EvalSimKind::kPart ||
      !data.sequences.count(env::SimRole::kEval)) {
    return nullptr;
  }
  const auto& users = role == env::SimRole::kTrain ? data.train_users : data.test_users;
  const std::set<data::UserId> own(users.begin(), users.end());
  std::vector<data::Sequence> seqs;
  for (const auto& s : data.sequences.at(env::SimRole::kEval)) {
    if (own.count(s.user)) seqs.push_back(s);
  }
  const auto& rcfg = sim.response->config();
  auto row_cfg = rcfg;
  row_cfg.kind = cfg.sim.response.kind;
  row_cfg.negatives = 0;
  Rng rng(0);  // no negatives: nothing is drawn
  const auto rows = env::MakeResponseRows(seqs, row_cfg, sim.num_items, sim.state_len, rng);
  if (rows.size() == 0) return nullptr;
  const auto pred = env::PredictRows(*sim.response, rows, device);
  double se = 0.0;
  std::vector<uint8_t> liked(rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    se += (pred[i] - rows.targets[i]) * (pred[i] - rows.targets[i]);
    liked[i] = rows.targets[i] >= rcfg.accept_threshold;
  }
  return {{"rows", rows.size()},
          {"rmse", std::sqrt(se / static_cast<double>(rows.size()))},
          {"auc", Num(RocAuc(pred, liked))}};
}

nlohmann::json DebiasingComparison(const env::SimData& data, const env::SimFitConfig& cfg) {
  const auto& ds = data.prepared.dataset;
  int train_part = -1, test_part = -1;
  for (size_t p = 0; p < ds.parts.size(); ++p) {
    if (ds.parts[p] == "train") train_part = static_cast<int>(p);
    if (ds.parts[p] == "test") test_part = static_cast<int>(p);
  }
  if (train_part < 0 || test_part < 0) return nullptr;
  const auto prop = data::LoadCoatPropensities(data::ResolveSource(cfg.data));
  const env::DebiasOptions options;
  const auto r =
      env::CompareNaiveIps(ds, prop, train_part, test_part, MixSeed(cfg.run.seed, 60), options);
  auto ci = [](const std::vector<double>& v) {
    const auto s = SummarizeT(v);
    return nlohmann::json{{"mean", s.mean}, {"ci95", {s.lo, s.hi}}, {"n", s.n}};
  };
  auto arm = [&](const env::DebiasArm& a) {
    return nlohmann::json{
        {"rmse", ci(a.rmse)}, {"mae", ci(a.mae)}, {"auc", ci(a.auc)}, {"lambda", a.lambda}};
  };
  auto diff = [](const std::vector<double>& a, const std::vector<double>& b) {
    std::vector<double> d(a.size());
    for (size_t k = 0; k < a.size(); ++k) d[k] = a[k] - b[k];
    return d;
  };
  return {{"model", "biased MF, dim " + std::to_string(options.dim) + ", " +
                        std::to_string(options.steps) + " full-batch Adam steps"},
          {"train_ratings", r.train_ratings},
          {"test_ratings", r.test_ratings},
          {"naive", arm(r.naive)},
          {"ips", arm(r.ips)},
          {"ips_minus_naive",
           {{"rmse", ci(diff(r.ips.rmse, r.naive.rmse))},
            {"mae", ci(diff(r.ips.mae, r.naive.mae))},
            {"auc", ci(diff(r.ips.auc, r.naive.auc))}}}};
}

}  // namespace recarena::experiments
