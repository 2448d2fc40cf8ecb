// The synthetic world: recarena's built-in, RecSim-like default dataset.
//
// GenerateSyntheticWorld() draws a catalog, a user population and a popularity-biased interaction
// log, plus the ground truth that produced it, so that `make quickstart` and unit tests need no
// downloaded data. Everything is a pure function of the config and the Rng passed in (one NextU64()
// is drawn from it; every other random number comes from streams forked off that value), so a seed
// gives the same world on every platform. docs/synthetic_world.md describes the model at length; in
// short (T = num_topics, U = num_users, I = num_items):
//
// Items.
//   dominant topic  k_i ~ Categorical(w), w_k ∝ 1 / (k + 1)^topic_skew  (topic 0 is the most
//   common) topic vector    topics_i = item_topic_purity * e_{k_i} + (1 - item_topic_purity) * d_i,
//                   d_i ~ Dirichlet(1, ..., 1)  (uniform on the simplex); topics_i sums to 1
//   quality         q_i ~ Normal(0, quality_std)
//   popularity      a uniformly random permutation assigns every item a rank r_i in 0..I-1 and
//                   pop_i ∝ 1 / (r_i + 1)^popularity_exponent, normalised to sum 1 (Zipf law)
// Users.
//   affinity        a_u ~ Dirichlet(affinity_concentration, ..., affinity_concentration) (sums to
//   1;
//                   a small concentration gives sparse tastes)
//   true utility    utility(u, i) = affinity_scale * (a_u · topics_i) + q_i
//                   (computed in double from the float vectors stored in SyntheticGroundTruth, so
//                   SyntheticGroundTruth::Utility reproduces exactly what the generator used)
// Logged sessions. Every user has exactly sessions_per_user sessions. A session is a sequence of
// steps; at each step
//   1. the logging policy shows a slate of min(slate_size, #eligible) distinct items. Eligible
//   items
//      are those not clicked earlier in this session (so an item is clicked at most once per
//      session; it may be clicked again in a later session). Each slot is drawn, without
//      replacement, from the mixture (1 - logging_utility_share) * P_pop + logging_utility_share *
//      P_util restricted to the eligible items not yet in the slate, where P_pop(i) ∝
//      pop_i^logging_pop_power and P_util(i) ∝ exp(utility(u, i) / choice_temperature). The log is
//      therefore popularity-biased.
//   2. the user picks one slate item or nothing by a multinomial logit (ChoiceProbabilities):
//      P(i) ∝ exp(utility(u, i) / choice_temperature), P(no click) ∝ exp(no_click_utility /
//      choice_temperature).
//   3. patience: it starts at patience_init; a no-click step subtracts patience_cost_no_click, a
//   click
//      on item i subtracts patience_cost_click * (1 - sigmoid(utility(u, i))) (low-utility clicks
//      drain more). The session ends after the step at which patience <= 0, after max_session_steps
//      steps, or when no eligible item is left.
//   Only clicks are logged: Interaction{user, item, timestamp, value = 1, session, part = 0}; with
//   log_exposures, the slate's other items (all of it on a no-click step) also go to
//   Dataset::exposures, stamped with the step's time and session (-1 if the session never clicks).
//   Time: a user's first session starts at kSyntheticEpoch + Uniform[0, 7 days); every step (click
//   or not) takes Uniform[30, 120) seconds and a click is stamped with the time at the end of its
//   step; the next session starts Uniform[1, 48) hours after the previous one ended. Session ids
//   are a global counter over sessions that have at least one click (0, 1, 2, ... in log order;
//   click-less sessions are not in the log and take no id). The log is ordered by user, then time.
//
// The Dataset: name "synthetic", value_kind kClick, one part "all". Items: external id "<i>", title
// "item <i> (topic <k_i>)", categories {"topic_<k_i>"}, features = topics_i (feature_dim T, names
// topic_0..topic_<T-1>). Users: external id "<u>" and no features (the affinities are ground truth
// and are deliberately not leaked into the data).
#pragma once

#include <cstdint>
#include <filesystem>
#include <vector>

#include "core/rng.h"
#include "data/dataset.h"

namespace recarena::data {

// 2020-09-13T12:26:40Z: the origin of the synthetic log's timestamps (seconds since the epoch).
inline constexpr double kSyntheticEpoch = 1.6e9;

struct SyntheticConfig {
  int num_users = 1000;
  int num_items = 500;
  int num_topics = 10;
  double topic_skew = 1.0;  // Zipf exponent for dominant-topic frequency
  double affinity_concentration = 0.3;
  double affinity_scale = 4.0;
  double quality_std = 0.5;
  double popularity_exponent = 1.0;  // Zipf exponent of item popularity
  int sessions_per_user = 3;
  int slate_size = 10;
  double logging_pop_power = 1.0;
  double logging_utility_share = 0.2;
  double choice_temperature = 1.0;
  double no_click_utility = 2.0;  // tuned: ~75% of steps click, ~9 clicks/session
  double patience_init = 5.0;
  double patience_cost_no_click = 1.0;
  double patience_cost_click = 1.0;
  int max_session_steps = 50;
  // Weight of the dominant topic in an item's topic vector (the rest is a Dirichlet(1) mixture).
  double item_topic_purity = 0.8;
  // Also record every shown slate item the user did not pick as a data::Exposure (the log's
  // impressions; Dataset::exposures). Draws nothing, so the clicks are the same either way.
  bool log_exposures = false;

  template <class V>
  void Visit(V& v) {
    v("num_users", num_users);
    v("num_items", num_items);
    v("num_topics", num_topics);
    v("topic_skew", topic_skew);
    v("affinity_concentration", affinity_concentration);
    v("affinity_scale", affinity_scale);
    v("quality_std", quality_std);
    v("popularity_exponent", popularity_exponent);
    v("sessions_per_user", sessions_per_user);
    v("slate_size", slate_size);
    v("logging_pop_power", logging_pop_power);
    v("logging_utility_share", logging_utility_share);
    v("choice_temperature", choice_temperature);
    v("no_click_utility", no_click_utility);
    v("patience_init", patience_init);
    v("patience_cost_no_click", patience_cost_no_click);
    v("patience_cost_click", patience_cost_click);
    v("max_session_steps", max_session_steps);
    v("item_topic_purity", item_topic_purity);
    v("log_exposures", log_exposures);
  }
  // Throws ConfigError("data.synthetic.<field>", "data.synthetic.<field> must be ...: got <value>")
  // for the first bad field.
  void Validate() const;
};

// What generated the log. Matrices are row-major.
struct SyntheticGroundTruth {
  int32_t num_users = 0;
  int32_t num_items = 0;
  int32_t num_topics = 0;
  std::vector<float> user_affinity;    // [num_users x num_topics], rows sum to 1
  std::vector<float> item_topics;      // [num_items x num_topics], rows sum to 1
  std::vector<float> item_quality;     // [num_items]
  std::vector<float> item_popularity;  // [num_items], normalised to sum 1
  double affinity_scale = 0.0;

  // affinity_scale * (user_affinity[u] · item_topics[i]) + item_quality[i], in double. u and i must
  // be in range (unchecked).
  double Utility(UserId u, ItemId i) const;
  // Utilities of every item for user u ([num_items]).
  std::vector<double> UserUtilities(UserId u) const;
  // Throws recarena::Error if the sizes disagree with the counts or a value is not finite.
  void CheckShapes() const;
};

// Counters of the generation run (click-less steps and sessions are not visible in the log).
struct SyntheticLogStats {
  int64_t sessions = 0;  // all sessions, with or without clicks
  int64_t sessions_with_clicks = 0;
  int64_t steps = 0;
  int64_t clicks = 0;
  int64_t ended_by_patience = 0;
  int64_t ended_by_max_steps = 0;   // reached max_session_steps with patience left
  int64_t ended_by_exhaustion = 0;  // every item already clicked in the session
};

struct SyntheticWorld {
  Dataset dataset;
  SyntheticGroundTruth truth;
  SyntheticLogStats stats;
};

SyntheticWorld GenerateSyntheticWorld(const SyntheticConfig& cfg, Rng& rng);

// The multinomial logit over a slate plus the no-click option: element j < n is
// exp(utilities[j] / temperature) / Z, the last element (index n = utilities.size()) is
// exp(no_click_utility / temperature) / Z. Numerically stable for large utilities; temperature > 0.
std::vector<double> ChoiceProbabilities(const std::vector<double>& utilities,
                                        double no_click_utility, double temperature);
// Draws one choice from ChoiceProbabilities with rng: a slate index, or -1 for no click. The
// generator uses exactly this function.
int SampleChoice(const std::vector<double>& utilities, double no_click_utility, double temperature,
                 Rng& rng);
// The patience left after one step (the rule described above).
double PatienceAfterStep(const SyntheticConfig& cfg, double patience, bool clicked, double utility);

// Saves the ground truth as JSON (written atomically). Throws FileError on I/O failure.
void SaveGroundTruth(const std::filesystem::path& file, const SyntheticGroundTruth& truth);
// Loads a file written by SaveGroundTruth. Throws FileError naming the file (and the line for JSON
// syntax errors) on malformed content: bad JSON, missing or mistyped fields, wrong sizes,
// non-finite values.
SyntheticGroundTruth LoadGroundTruth(const std::filesystem::path& file);

}  // namespace recarena::data
