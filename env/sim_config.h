// The `sim:` section of a simulator config (`recarena sim fit --config configs/sim/<name>.yaml`).
//
// A simulator has up to three roles, each with its own fitted components:
//   train  fitted on the logs of a user-level share (user_train_share, default 80%) of the users;
//          online agents learn here;
//   test   fitted on the remaining users' logs; agents are evaluated here (thesis Sec. 7.5.1);
//   eval   optional: fitted on unbiased feedback (eval.kind part: a dataset part such as Coat's
//          random-exposure "test" ratings) or the synthetic world's ground truth (eval.kind
//          ground_truth).
// Which components a role uses is the same for every role (response kind, leave rules, caps).
// docs/simulator.md describes every component and the choices made where the papers are vague.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/config_schema.h"
#include "core/run_config.h"
#include "data/data_config.h"
#include "models/encoder.h"

namespace recarena::env {

// What the response model is trained on and what it outputs.
enum class ResponseKind {
  kSequential,  // encoder over the consumed history + per-item output vector (LFM/Industry style)
  kDeepFm,      // DeepFM over user id, item id and their features (Coat, as in DORL)
};
enum class ResponseTarget {
  kClick,   // BCE: logged next items (label 1) against `negatives` uniform random items (label 0)
  kRating,  // MSE on logged values; sampled negatives (if any) get `negative_value`
};
// How the simulator turns the model output into the step reward.
enum class RewardMode {
  kProbability,  // click target: reward = P(click) (the expected click); accept ~ Bernoulli(P)
  kBernoulli,    // click target: reward = 1 if accepted (Bernoulli(P)) else 0
  kValue,        // rating target: reward = predicted rating clamped to [reward_min, reward_max];
                 // accepted iff reward >= accept_threshold
};
// What defines "similar" for the repetition leave rule.
enum class SimilarityKind {
  kCategory,  // share at least one category (falls back to kItem for items without categories)
  kFeatures,  // cosine of the catalog's feature vectors >= threshold
  kItem,      // the same item
};
enum class EvalSimKind { kNone, kPart, kGroundTruth };
// How the ground-truth eval role's users leave.
enum class EvalLeaveKind {
  kFitted,  // the leave rules of sim.leave, fitted to the test logs like the learned roles'
  kWorld,   // the synthetic world's own patience rule (docs/synthetic_world.md), nothing fitted
};
// Where the sampled negatives of click rows come from (training rows and fidelity reports).
enum class NegativeSampling {
  kUniform,     // every catalog item equally likely
  kPopularity,  // proportional to the item's count in the role's logs (+1, so none has weight 0)
  kMixed,       // each negative uniform or popularity-sampled with equal probability (training)
  // The log's exposures (data::Dataset::exposures): every item shown and not picked, with the
  // clicks before its step as history; needs a log that records them. Not drawn: `negatives` is
  // not used, and the share of positives is the log's click rate per shown item.
  kExposure,
};
// Post-hoc calibration of the response model, fitted on calibration users of the role (users held
// out of the model's training): click targets map the ensemble's mean probability p to
// sigmoid(a * logit(p) + b), rating targets map the rating r to a * r + b; isotonic maps either by
// a monotone piecewise-linear fit (env/calibration.h).
enum class CalibrationKind {
  kNone,
  kTemperature,  // b = 0: one scale (Guo et al. 2017, "temperature" = 1 / a)
  kPlatt,        // a and b (Platt 1999); least squares for rating targets
  kIsotonic,     // pool-adjacent-violators (Zadrozny & Elkan 2002), blended 1% with the identity
};

struct ResponseConfig {
  ResponseKind kind = ResponseKind::kSequential;
  ResponseTarget target = ResponseTarget::kClick;
  RewardMode reward = RewardMode::kProbability;
  models::EncoderOptions encoder;  // kSequential; encoder.num_items is set from the data
  bool history_bag = false;        // kSequential: add FISM's bag of the history to the state
  bool history_encoder = true;     // kSequential: false = FISM alone (the bag; needs history_bag)
  // kSequential: add the item-neighbourhood term w1 [f > 0] + w2 [f > 0] log f of the history's
  // co-occurrence score f (env/item_neighbourhood.h), counted on the fitted users' logs.
  bool neighbourhood = false;
  int64_t deepfm_dim = 16;                     // kDeepFm: field embedding size
  std::vector<int64_t> deepfm_hidden{64, 32};  // kDeepFm: the deep part's MLP widths
  int64_t negatives = 4;                       // sampled negatives per logged positive
  NegativeSampling negative_sampling = NegativeSampling::kUniform;  // of the training rows
  // Weight each logged row's loss by 1 / P(observed) (self-normalised per batch; Schnabel et al.
  // 2016) in the train and test roles. Needs known propensities: the coat dataset only.
  bool ips = false;
  // > 0: cap each IPS weight 1 / P at this value (clipped IPS: trades a bias towards the logged
  // distribution for less variance, which a role fitted on few users needs; 0: no cap).
  double ips_clip = 0.0;
  double negative_value = 0.0;  // target value of a sampled negative (kRating)
  int64_t ensemble = 1;         // K models from different seeds
  double pessimism = 0.0;       // reward = mean - pessimism * std over the K models (K >= 2)
  double reward_min = 0.0, reward_max = 1.0;  // declared bounds; every reward lies inside
  double accept_threshold = 0.5;              // kValue: a reward >= this is consumed
  // kValue: > 0 makes the simulated rating the prediction plus N(0, rating_noise^2) noise (drawn
  // from the slot's response uniform), clamped to the bounds, and acceptance reads that draw. A
  // regression model predicts a user's mean rating, which on a sparse log stays near the global
  // mean: thresholding the mean accepts (almost) nothing, where real ratings spread around it.
  // 0: the reward is the prediction itself.
  double rating_noise = 0.0;
  int64_t epochs = 5;
  int64_t batch_size = 256;
  double lr = 1e-3;
  double weight_decay = 0.0;
  CalibrationKind calibration = CalibrationKind::kNone;
  // > 0: stop training when the validation loss has not improved for this many epochs, and keep
  // the epoch with the best validation loss (epochs is then the maximum).
  int64_t early_stopping = 0;
  // Share of each role's users held out of the model's training as validation users when
  // calibration or early_stopping is on: the calibration is fitted, and the stopping epoch chosen,
  // on their rows.
  double validation_users = 0.1;

  template <class V>
  void Visit(V& v) {
    v("kind", kind);
    v("target", target);
    v("reward", reward);
    v("encoder", encoder);
    v("history_bag", history_bag);
    v("history_encoder", history_encoder);
    v("neighbourhood", neighbourhood);
    v("deepfm_dim", deepfm_dim);
    v("deepfm_hidden", deepfm_hidden);
    v("negatives", negatives);
    v("negative_sampling", negative_sampling);
    v("ips", ips);
    v("ips_clip", ips_clip);
    v("negative_value", negative_value);
    v("ensemble", ensemble);
    v("pessimism", pessimism);
    v("reward_min", reward_min);
    v("reward_max", reward_max);
    v("accept_threshold", accept_threshold);
    v("rating_noise", rating_noise);
    v("epochs", epochs);
    v("batch_size", batch_size);
    v("lr", lr);
    v("weight_decay", weight_decay);
    v("calibration", calibration);
    v("early_stopping", early_stopping);
    v("validation_users", validation_users);
  }
  void Validate() const;  // ConfigError("sim.response.<key>", ...)
};

// DORL's repetition rule: the user leaves when at least max_similar of the last `window`
// recommended items are similar to the current one.
struct RepetitionLeaveConfig {
  bool enabled = true;
  SimilarityKind similarity = SimilarityKind::kCategory;
  int64_t window = 5;
  int64_t max_similar = 3;
  double threshold = 0.9;  // kFeatures: cosine similarity counted as "similar"
  template <class V>
  void Visit(V& v) {
    v("enabled", enabled);
    v("similarity", similarity);
    v("window", window);
    v("max_similar", max_similar);
    v("threshold", threshold);
  }
};

// KuaiSim-style temper: starts at `init`; an accepted item costs cost_accepted * (1 - r_norm)
// (r_norm = reward scaled to [0, 1] by the declared bounds), a rejected one costs cost_rejected;
// the user leaves after the step at which patience <= 0.
struct PatienceLeaveConfig {
  bool enabled = false;
  double init = 5.0;
  double cost_rejected = 1.0;
  double cost_accepted = 0.5;
  template <class V>
  void Visit(V& v) {
    v("enabled", enabled);
    v("init", init);
    v("cost_rejected", cost_rejected);
    v("cost_accepted", cost_accepted);
  }
};

// A discrete-time hazard h(t) = P(leave after step t | reached step t), fitted to the logged
// session lengths of the role's users (see docs/simulator.md for the estimator).
struct HazardLeaveConfig {
  bool enabled = true;
  // > 0: logged sequences are additionally cut where consecutive interactions are more than this
  // many minutes apart, and those pieces are the sessions whose lengths are fitted.
  double session_gap_minutes = 0.0;
  double smoothing = 1.0;  // add-k smoothing of the per-step counts
  // true: the hazard also responds to the session so far (step reward, satisfaction, similarity to
  // the recent items), fitted by maximum likelihood on the logged sessions (env/leave_model.h).
  bool conditional = false;
  double satisfaction_decay = 0.5;  // d of the satisfaction average m_t, in (0, 1]
  // false: the similar share counts only recent items other than the recommended one, so showing
  // the same item again is not a "same-topic run". For logs without exact repeats (the synthetic
  // world's), whose fitted share weight says nothing about them: fitting is unchanged there, only
  // simulated sessions that repeat an item differ (docs/simulator.md, "Leave model").
  bool share_counts_repeats = true;
  template <class V>
  void Visit(V& v) {
    v("enabled", enabled);
    v("session_gap_minutes", session_gap_minutes);
    v("smoothing", smoothing);
    v("conditional", conditional);
    v("satisfaction_decay", satisfaction_decay);
    v("share_counts_repeats", share_counts_repeats);
  }
};

struct LeaveConfig {
  RepetitionLeaveConfig repetition;
  PatienceLeaveConfig patience;
  HazardLeaveConfig hazard;
  template <class V>
  void Visit(V& v) {
    v("repetition", repetition);
    v("patience", patience);
    v("hazard", hazard);
  }
  void Validate() const;  // ConfigError("sim.leave.<rule>.<key>", ...)
};

struct EvalSimConfig {
  EvalSimKind kind = EvalSimKind::kNone;
  std::string part = "test";  // kind part: the dataset part with unbiased feedback
  // kind ground_truth: kWorld replaces the leave rules of the eval role by the world's patience
  // (init patience_init; a rejected item costs patience_cost_no_click, an accepted item i
  // patience_cost_click * (1 - sigmoid(utility(u, i))); leave after the step at which patience
  // <= 0), so the truth's sessions respond to recommendations as the world's do.
  EvalLeaveKind leave = EvalLeaveKind::kFitted;
  template <class V>
  void Visit(V& v) {
    v("kind", kind);
    v("part", part);
    v("leave", leave);
  }
};

struct SimConfig {
  double user_train_share = 0.8;  // users whose logs fit the train simulator; the rest: test
  // Dataset parts whose interactions fit the train/test simulators; empty = every part except
  // eval.part when eval.kind is part.
  std::vector<std::string> fit_parts;
  int64_t initial_items = 1;         // a new episode's history: the first k logged items of a user
  int64_t max_length = 50;           // step cap: truncated = true after this many steps
  bool rejected_in_history = false;  // whether rejected items also join the history
  ResponseConfig response;
  LeaveConfig leave;
  EvalSimConfig eval;
  template <class V>
  void Visit(V& v) {
    v("user_train_share", user_train_share);
    v("fit_parts", fit_parts);
    v("initial_items", initial_items);
    v("max_length", max_length);
    v("rejected_in_history", rejected_in_history);
    v("response", response);
    v("leave", leave);
    v("eval", eval);
  }
  void Validate() const;  // ConfigError("sim.<key>", ...)
};

// The config file of `recarena sim fit`.
struct SimFitConfig {
  RunConfig run;
  data::DataConfig data;
  SimConfig sim;
  template <class V>
  void Visit(V& v) {
    v("run", run);
    v("data", data);
    v("sim", sim);
  }
  void Validate() const;
};

}  // namespace recarena::env

namespace recarena::config {
template <>
struct EnumNames<env::ResponseKind> {
  static const std::vector<std::pair<env::ResponseKind, std::string>>& Table() {
    static const std::vector<std::pair<env::ResponseKind, std::string>> t = {
        {env::ResponseKind::kSequential, "sequential"}, {env::ResponseKind::kDeepFm, "deepfm"}};
    return t;
  }
};
template <>
struct EnumNames<env::ResponseTarget> {
  static const std::vector<std::pair<env::ResponseTarget, std::string>>& Table() {
    static const std::vector<std::pair<env::ResponseTarget, std::string>> t = {
        {env::ResponseTarget::kClick, "click"}, {env::ResponseTarget::kRating, "rating"}};
    return t;
  }
};
template <>
struct EnumNames<env::RewardMode> {
  static const std::vector<std::pair<env::RewardMode, std::string>>& Table() {
    static const std::vector<std::pair<env::RewardMode, std::string>> t = {
        {env::RewardMode::kProbability, "probability"},
        {env::RewardMode::kBernoulli, "bernoulli"},
        {env::RewardMode::kValue, "value"}};
    return t;
  }
};
template <>
struct EnumNames<env::SimilarityKind> {
  static const std::vector<std::pair<env::SimilarityKind, std::string>>& Table() {
    static const std::vector<std::pair<env::SimilarityKind, std::string>> t = {
        {env::SimilarityKind::kCategory, "category"},
        {env::SimilarityKind::kFeatures, "features"},
        {env::SimilarityKind::kItem, "item"}};
    return t;
  }
};
template <>
struct EnumNames<env::EvalSimKind> {
  static const std::vector<std::pair<env::EvalSimKind, std::string>>& Table() {
    static const std::vector<std::pair<env::EvalSimKind, std::string>> t = {
        {env::EvalSimKind::kNone, "none"},
        {env::EvalSimKind::kPart, "part"},
        {env::EvalSimKind::kGroundTruth, "ground_truth"}};
    return t;
  }
};
template <>
struct EnumNames<env::EvalLeaveKind> {
  static const std::vector<std::pair<env::EvalLeaveKind, std::string>>& Table() {
    static const std::vector<std::pair<env::EvalLeaveKind, std::string>> t = {
        {env::EvalLeaveKind::kFitted, "fitted"}, {env::EvalLeaveKind::kWorld, "world"}};
    return t;
  }
};
template <>
struct EnumNames<env::NegativeSampling> {
  static const std::vector<std::pair<env::NegativeSampling, std::string>>& Table() {
    static const std::vector<std::pair<env::NegativeSampling, std::string>> t = {
        {env::NegativeSampling::kUniform, "uniform"},
        {env::NegativeSampling::kPopularity, "popularity"},
        {env::NegativeSampling::kMixed, "mixed"},
        {env::NegativeSampling::kExposure, "exposure"}};
    return t;
  }
};
template <>
struct EnumNames<env::CalibrationKind> {
  static const std::vector<std::pair<env::CalibrationKind, std::string>>& Table() {
    static const std::vector<std::pair<env::CalibrationKind, std::string>> t = {
        {env::CalibrationKind::kNone, "none"},
        {env::CalibrationKind::kTemperature, "temperature"},
        {env::CalibrationKind::kPlatt, "platt"},
        {env::CalibrationKind::kIsotonic, "isotonic"}};
    return t;
  }
};
}  // namespace recarena::config
