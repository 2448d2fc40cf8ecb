#include "data/synthetic_world.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/json_read.h"

namespace recarena::data {

namespace {

// Stream ids for Rng::Fork of the world's base generator (one per independent part of the model, so
// that e.g. changing the logging parameters leaves the catalog and the users unchanged).
constexpr uint64_t kStreamItems = 1;
constexpr uint64_t kStreamPopularity = 2;
constexpr uint64_t kStreamUsers = 3;
constexpr uint64_t kStreamSessions = 4;

// Rejected draws (item already in the slate or clicked in the session) before the slate sampler
// switches from rejection sampling to an exact draw over the remaining eligible items.
constexpr int kMaxRejections = 64;

constexpr double kSecondsPerHour = 3600.0;
constexpr double kSecondsPerDay = 24.0 * kSecondsPerHour;

[[noreturn]] void Bad(const std::string& field, const std::string& requirement, double value) {
  const std::string path = "data.synthetic." + field;
  throw ConfigError(path, fmt::format("{} must be {}: got {}", path, requirement, value));
}

void RequireFinite(const std::string& field, double value) {
  if (!std::isfinite(value)) Bad(field, "a finite number", value);
}

double Sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }

// Dirichlet(alpha, ..., alpha) of dimension n via normalised Gammas. A draw whose Gammas all
// underflow to zero (possible for tiny alpha) puts all mass on one uniformly chosen coordinate,
// which is the alpha -> 0 limit.
std::vector<double> SampleDirichlet(Rng& rng, int n, double alpha) {
  std::vector<double> g(static_cast<size_t>(n));
  double total = 0.0;
  for (auto& x : g) {
    x = rng.Gamma(alpha);
    total += x;
  }
  if (!(total > 0.0)) {
    std::fill(g.begin(), g.end(), 0.0);
    g[rng.UniformInt(static_cast<uint64_t>(n))] = 1.0;
    return g;
  }
  for (auto& x : g) x /= total;
  return g;
}

// Weights proportional to exp(log_w) (max-subtracted so the largest is 1 and nothing overflows),
// with their running sums for inverse-CDF draws.
struct CumulativeWeights {
  std::vector<double> weights;
  std::vector<double> cumulative;

  void Build(const std::vector<double>& log_w) {
    const double mx = *std::max_element(log_w.begin(), log_w.end());
    weights.resize(log_w.size());
    cumulative.resize(log_w.size());
    double acc = 0.0;
    for (size_t i = 0; i < log_w.size(); ++i) {
      weights[i] = std::exp(log_w[i] - mx);
      acc += weights[i];
      cumulative[i] = acc;
    }
  }
  double total() const { return cumulative.back(); }
  size_t Draw(Rng& rng) const {
    const double r = rng.Uniform() * total();
    const auto it = std::upper_bound(cumulative.begin(), cumulative.end(), r);
    size_t i = static_cast<size_t>(it - cumulative.begin());
    if (i >= weights.size()) i = weights.size() - 1;  // r rounded up to the total
    // Skip zero-weight items that share a cumulative value with their predecessor.
    while (weights[i] <= 0.0 && i > 0) --i;
    return i;
  }
};

// Draws a slate of min(slate_size, #eligible) distinct items from the logging mixture (see the
// header). blocked[i] is true for items clicked earlier in the session; it is used as scratch space
// and restored before returning.
std::vector<ItemId> DrawSlate(const SyntheticConfig& cfg, const CumulativeWeights& pop,
                              const CumulativeWeights& util, std::vector<char>& blocked,
                              int num_blocked, Rng& rng) {
  const int num_items = static_cast<int>(blocked.size());
  const int size = std::min(cfg.slate_size, num_items - num_blocked);
  std::vector<ItemId> slate;
  slate.reserve(static_cast<size_t>(std::max(size, 0)));
  const double share = cfg.logging_utility_share;
  while (static_cast<int>(slate.size()) < size) {
    ItemId chosen = -1;
    for (int attempt = 0; attempt < kMaxRejections && chosen < 0; ++attempt) {
      const bool by_utility = share > 0.0 && (share >= 1.0 || rng.Uniform() < share);
      const auto i = static_cast<ItemId>(by_utility ? util.Draw(rng) : pop.Draw(rng));
      if (!blocked[i]) chosen = i;
    }
    if (chosen < 0) {
      // Exact fallback: the same mixture restricted to the eligible items, drawn in one go.
      std::vector<double> w(static_cast<size_t>(num_items), 0.0);
      double total = 0.0;
      for (int i = 0; i < num_items; ++i) {
        if (blocked[i]) continue;
        w[i] =
            (1.0 - share) * pop.weights[i] / pop.total() + share * util.weights[i] / util.total();
        total += w[i];
      }
      if (!(total > 0.0)) {  // every eligible weight underflowed: uniform over the eligible
        for (int i = 0; i < num_items; ++i) w[i] = blocked[i] ? 0.0 : 1.0;
      }
      chosen = static_cast<ItemId>(rng.Categorical(w));
    }
    blocked[chosen] = 1;
    slate.push_back(chosen);
  }
  for (ItemId i : slate) blocked[i] = 0;
  return slate;
}

}  // namespace

void SyntheticConfig::Validate() const {
  if (num_users < 1) Bad("num_users", ">= 1", num_users);
  if (num_items < 1) Bad("num_items", ">= 1", num_items);
  if (num_topics < 1) Bad("num_topics", ">= 1", num_topics);
  RequireFinite("topic_skew", topic_skew);
  if (topic_skew < 0) Bad("topic_skew", ">= 0", topic_skew);
  RequireFinite("affinity_concentration", affinity_concentration);
  if (!(affinity_concentration > 0)) Bad("affinity_concentration", "> 0", affinity_concentration);
  RequireFinite("affinity_scale", affinity_scale);
  if (affinity_scale < 0) Bad("affinity_scale", ">= 0", affinity_scale);
  RequireFinite("quality_std", quality_std);
  if (quality_std < 0) Bad("quality_std", ">= 0", quality_std);
  RequireFinite("popularity_exponent", popularity_exponent);
  if (popularity_exponent < 0) Bad("popularity_exponent", ">= 0", popularity_exponent);
  if (sessions_per_user < 1) Bad("sessions_per_user", ">= 1", sessions_per_user);
  if (slate_size < 1) Bad("slate_size", ">= 1", slate_size);
  if (slate_size > num_items) {
    throw ConfigError("data.synthetic.slate_size",
                      fmt::format("data.synthetic.slate_size must be <= data.synthetic.num_items "
                                  "({}): got {}",
                                  num_items, slate_size));
  }
  RequireFinite("logging_pop_power", logging_pop_power);
  if (logging_pop_power < 0) Bad("logging_pop_power", ">= 0", logging_pop_power);
  RequireFinite("logging_utility_share", logging_utility_share);
  if (logging_utility_share < 0 || logging_utility_share > 1) {
    Bad("logging_utility_share", "in [0, 1]", logging_utility_share);
  }
  RequireFinite("choice_temperature", choice_temperature);
  if (!(choice_temperature > 0)) Bad("choice_temperature", "> 0", choice_temperature);
  RequireFinite("no_click_utility", no_click_utility);
  RequireFinite("patience_init", patience_init);
  if (!(patience_init > 0)) Bad("patience_init", "> 0", patience_init);
  RequireFinite("patience_cost_no_click", patience_cost_no_click);
  if (patience_cost_no_click < 0) Bad("patience_cost_no_click", ">= 0", patience_cost_no_click);
  RequireFinite("patience_cost_click", patience_cost_click);
  if (patience_cost_click < 0) Bad("patience_cost_click", ">= 0", patience_cost_click);
  if (max_session_steps < 1) Bad("max_session_steps", ">= 1", max_session_steps);
  RequireFinite("item_topic_purity", item_topic_purity);
  if (item_topic_purity < 0 || item_topic_purity > 1) {
    Bad("item_topic_purity", "in [0, 1]", item_topic_purity);
  }
}

double SyntheticGroundTruth::Utility(UserId u, ItemId i) const {
  const size_t t = static_cast<size_t>(num_topics);
  const float* a = user_affinity.data() + static_cast<size_t>(u) * t;
  const float* x = item_topics.data() + static_cast<size_t>(i) * t;
  double dot = 0.0;
  for (size_t k = 0; k < t; ++k) dot += static_cast<double>(a[k]) * static_cast<double>(x[k]);
  return affinity_scale * dot + static_cast<double>(item_quality[static_cast<size_t>(i)]);
}

std::vector<double> SyntheticGroundTruth::UserUtilities(UserId u) const {
  std::vector<double> out(static_cast<size_t>(num_items));
  for (ItemId i = 0; i < num_items; ++i) out[static_cast<size_t>(i)] = Utility(u, i);
  return out;
}

void SyntheticGroundTruth::CheckShapes() const {
  if (num_users < 1 || num_items < 1 || num_topics < 1) {
    throw Error(
        fmt::format("synthetic ground truth: counts must be >= 1: got {} users, {} items, "
                    "{} topics",
                    num_users, num_items, num_topics));
  }
  const auto check = [](const char* name, const std::vector<float>& v, size_t expected) {
    if (v.size() != expected) {
      throw Error(fmt::format("synthetic ground truth: {} has {} values, expected {}", name,
                              v.size(), expected));
    }
    for (size_t j = 0; j < v.size(); ++j) {
      if (!std::isfinite(v[j])) {
        throw Error(
            fmt::format("synthetic ground truth: {}[{}] is not finite: got {}", name, j, v[j]));
      }
    }
  };
  const auto users = static_cast<size_t>(num_users);
  const auto items = static_cast<size_t>(num_items);
  const auto topics = static_cast<size_t>(num_topics);
  check("user_affinity", user_affinity, users * topics);
  check("item_topics", item_topics, items * topics);
  check("item_quality", item_quality, items);
  check("item_popularity", item_popularity, items);
  if (!std::isfinite(affinity_scale)) {
    throw Error(fmt::format("synthetic ground truth: affinity_scale is not finite: got {}",
                            affinity_scale));
  }
}

std::vector<double> ChoiceProbabilities(const std::vector<double>& utilities,
                                        double no_click_utility, double temperature) {
  if (!(temperature > 0.0)) {
    throw Error(fmt::format("ChoiceProbabilities: temperature must be > 0: got {}", temperature));
  }
  std::vector<double> p(utilities.size() + 1);
  for (size_t j = 0; j < utilities.size(); ++j) p[j] = utilities[j] / temperature;
  p.back() = no_click_utility / temperature;
  const double mx = *std::max_element(p.begin(), p.end());
  double z = 0.0;
  for (auto& x : p) {
    x = std::exp(x - mx);
    z += x;
  }
  for (auto& x : p) x /= z;
  return p;
}

int SampleChoice(const std::vector<double>& utilities, double no_click_utility, double temperature,
                 Rng& rng) {
  const size_t j = rng.Categorical(ChoiceProbabilities(utilities, no_click_utility, temperature));
  return j == utilities.size() ? -1 : static_cast<int>(j);
}

double PatienceAfterStep(const SyntheticConfig& cfg, double patience, bool clicked,
                         double utility) {
  if (!clicked) return patience - cfg.patience_cost_no_click;
  return patience - cfg.patience_cost_click * (1.0 - Sigmoid(utility));
}

SyntheticWorld GenerateSyntheticWorld(const SyntheticConfig& cfg, Rng& rng) {
  cfg.Validate();
  const Rng base(rng.NextU64());
  const int U = cfg.num_users, I = cfg.num_items, T = cfg.num_topics;
  const auto t_sz = static_cast<size_t>(T);

  SyntheticWorld world;
  SyntheticGroundTruth& truth = world.truth;
  truth.num_users = U;
  truth.num_items = I;
  truth.num_topics = T;
  truth.affinity_scale = cfg.affinity_scale;

  // Items: dominant topic (Zipf over topic index), topic mixture, quality.
  std::vector<int> dominant(static_cast<size_t>(I));
  {
    Rng r = base.Fork(kStreamItems);
    std::vector<double> topic_w(t_sz);
    for (int k = 0; k < T; ++k) topic_w[k] = std::pow(k + 1.0, -cfg.topic_skew);
    truth.item_topics.assign(static_cast<size_t>(I) * t_sz, 0.0f);
    truth.item_quality.resize(static_cast<size_t>(I));
    for (int i = 0; i < I; ++i) {
      const int k = static_cast<int>(r.Categorical(topic_w));
      dominant[i] = k;
      const std::vector<double> mix = SampleDirichlet(r, T, 1.0);
      float* row = truth.item_topics.data() + static_cast<size_t>(i) * t_sz;
      for (int j = 0; j < T; ++j) {
        row[j] = static_cast<float>((1.0 - cfg.item_topic_purity) * mix[j] +
                                    (j == k ? cfg.item_topic_purity : 0.0));
      }
      truth.item_quality[i] = static_cast<float>(r.Normal(0.0, cfg.quality_std));
    }
  }
  // Popularity: Zipf over a random permutation of the items.
  {
    Rng r = base.Fork(kStreamPopularity);
    std::vector<int> rank(static_cast<size_t>(I));
    for (int i = 0; i < I; ++i) rank[i] = i;
    r.Shuffle(rank);
    std::vector<double> pop(static_cast<size_t>(I));
    double total = 0.0;
    for (int i = 0; i < I; ++i) {
      pop[i] = std::pow(rank[i] + 1.0, -cfg.popularity_exponent);
      total += pop[i];
    }
    truth.item_popularity.resize(static_cast<size_t>(I));
    for (int i = 0; i < I; ++i) truth.item_popularity[i] = static_cast<float>(pop[i] / total);
  }
  // Users: Dirichlet affinities.
  {
    Rng r = base.Fork(kStreamUsers);
    truth.user_affinity.resize(static_cast<size_t>(U) * t_sz);
    for (int u = 0; u < U; ++u) {
      const std::vector<double> a = SampleDirichlet(r, T, cfg.affinity_concentration);
      for (int k = 0; k < T; ++k) {
        truth.user_affinity[static_cast<size_t>(u) * t_sz + k] = static_cast<float>(a[k]);
      }
    }
  }

  // The dataset's static part.
  Dataset& ds = world.dataset;
  ds.name = "synthetic";
  ds.value_kind = ValueKind::kClick;
  ds.parts = {"all"};
  ds.items.external_ids.resize(static_cast<size_t>(I));
  ds.items.titles.resize(static_cast<size_t>(I));
  ds.items.categories.resize(static_cast<size_t>(I));
  for (int i = 0; i < I; ++i) {
    ds.items.external_ids[i] = std::to_string(i);
    ds.items.titles[i] = fmt::format("item {} (topic {})", i, dominant[i]);
    ds.items.categories[i] = {fmt::format("topic_{}", dominant[i])};
  }
  ds.items.Normalize();
  ds.items.feature_dim = T;
  ds.items.features = truth.item_topics;
  for (int k = 0; k < T; ++k) ds.items.feature_names.push_back(fmt::format("topic_{}", k));
  ds.users.external_ids.resize(static_cast<size_t>(U));
  for (int u = 0; u < U; ++u) ds.users.external_ids[u] = std::to_string(u);
  ds.RebuildIndex();

  // Logged sessions. The popularity proposal is shared; the utility proposal is per user.
  CumulativeWeights pop_w;
  {
    std::vector<double> log_w(static_cast<size_t>(I));
    for (int i = 0; i < I; ++i) {
      log_w[i] = cfg.logging_pop_power * std::log(static_cast<double>(truth.item_popularity[i]));
    }
    pop_w.Build(log_w);
  }
  SyntheticLogStats& stats = world.stats;
  const Rng sessions_base = base.Fork(kStreamSessions);
  std::vector<char> blocked(static_cast<size_t>(I), 0);
  std::vector<ItemId> clicked_in_session;
  CumulativeWeights util_w;
  int64_t next_session_id = 0;
  for (UserId u = 0; u < U; ++u) {
    // One stream per user: a user's log does not depend on how many draws other users took.
    Rng r = sessions_base.Fork(static_cast<uint64_t>(u));
    const std::vector<double> utility = truth.UserUtilities(u);
    {
      std::vector<double> log_w(static_cast<size_t>(I));
      for (int i = 0; i < I; ++i) log_w[i] = utility[i] / cfg.choice_temperature;
      util_w.Build(log_w);
    }
    double now = kSyntheticEpoch + r.Uniform() * 7.0 * kSecondsPerDay;
    for (int s = 0; s < cfg.sessions_per_user; ++s) {
      if (s > 0) now += kSecondsPerHour * (1.0 + 47.0 * r.Uniform());
      ++stats.sessions;
      int64_t session_id = -1;
      const size_t session_exposures = ds.exposures.size();
      double patience = cfg.patience_init;
      clicked_in_session.clear();
      int step = 0;
      for (;;) {
        const std::vector<ItemId> slate =
            DrawSlate(cfg, pop_w, util_w, blocked, static_cast<int>(clicked_in_session.size()), r);
        if (slate.empty()) {
          ++stats.ended_by_exhaustion;
          break;
        }
        std::vector<double> slate_utility(slate.size());
        for (size_t j = 0; j < slate.size(); ++j) slate_utility[j] = utility[slate[j]];
        const int choice =
            SampleChoice(slate_utility, cfg.no_click_utility, cfg.choice_temperature, r);
        now += 30.0 + 90.0 * r.Uniform();
        ++step;
        ++stats.steps;
        if (cfg.log_exposures) {
          for (int j = 0; j < static_cast<int>(slate.size()); ++j) {
            if (j != choice) ds.exposures.push_back({u, slate[static_cast<size_t>(j)], now, -1, 0});
          }
        }
        if (choice >= 0) {
          const ItemId item = slate[static_cast<size_t>(choice)];
          if (session_id < 0) {
            session_id = next_session_id++;
            ++stats.sessions_with_clicks;
          }
          Interaction x;
          x.user = u;
          x.item = item;
          x.timestamp = now;
          x.value = 1.0f;
          x.session = session_id;
          x.part = 0;
          ds.interactions.push_back(x);
          ++stats.clicks;
          blocked[item] = 1;
          clicked_in_session.push_back(item);
          patience = PatienceAfterStep(cfg, patience, true, utility[item]);
        } else {
          patience = PatienceAfterStep(cfg, patience, false, 0.0);
        }
        if (patience <= 0.0) {
          ++stats.ended_by_patience;
          break;
        }
        if (step >= cfg.max_session_steps) {
          ++stats.ended_by_max_steps;
          break;
        }
      }
      for (ItemId i : clicked_in_session) blocked[i] = 0;
      // The session id exists once the session clicks, possibly after some of its steps.
      for (size_t e = session_exposures; e < ds.exposures.size(); ++e) {
        ds.exposures[e].session = session_id;
      }
    }
  }
  ds.CheckConsistency();
  return world;
}

// ---- Ground truth JSON ----------------------------------------------------------------------

namespace {

constexpr const char* kTruthFormat = "recarena.synthetic_ground_truth";
constexpr int kTruthVersion = 1;

}  // namespace

void SaveGroundTruth(const std::filesystem::path& file, const SyntheticGroundTruth& truth) {
  truth.CheckShapes();
  nlohmann::json j;
  j["format"] = kTruthFormat;
  j["version"] = kTruthVersion;
  j["num_users"] = truth.num_users;
  j["num_items"] = truth.num_items;
  j["num_topics"] = truth.num_topics;
  j["affinity_scale"] = truth.affinity_scale;
  // Floats widen exactly to double and nlohmann prints the shortest round-tripping decimal, so a
  // load gives back the identical float values.
  j["user_affinity"] = truth.user_affinity;
  j["item_topics"] = truth.item_topics;
  j["item_quality"] = truth.item_quality;
  j["item_popularity"] = truth.item_popularity;
  WriteFileAtomic(file, j.dump() + "\n");
}

SyntheticGroundTruth LoadGroundTruth(const std::filesystem::path& file) {
  const std::string name = file.string();
  const std::string text = ReadFile(file);
  const nlohmann::json j = ParseJson(text, name);
  if (!j.is_object()) throw FileError(name, 0, "expected a JSON object at the top level");
  const auto field = [&](const char* key) -> const nlohmann::json& {
    auto it = j.find(key);
    if (it == j.end()) throw FileError(name, 0, fmt::format("missing field '{}'", key));
    return *it;
  };
  const auto integer = [&](const char* key) -> int32_t {
    const auto& v = field(key);
    if (!v.is_number_integer()) {
      throw FileError(
          name, 0,
          fmt::format("field '{}' must be an integer: got {}", key, QuoteForError(v.dump())));
    }
    const auto x = v.get<int64_t>();
    if (x < 1 || x > std::numeric_limits<int32_t>::max()) {
      throw FileError(name, 0, fmt::format("field '{}' must be in [1, 2^31): got {}", key, x));
    }
    return static_cast<int32_t>(x);
  };
  const auto floats = [&](const char* key) -> std::vector<float> {
    const auto& v = field(key);
    if (!v.is_array()) {
      throw FileError(name, 0, fmt::format("field '{}' must be an array of numbers", key));
    }
    std::vector<float> out;
    out.reserve(v.size());
    for (size_t i = 0; i < v.size(); ++i) {
      if (!v[i].is_number()) {
        throw FileError(
            name, 0,
            fmt::format("{}[{}] must be a number: got {}", key, i, QuoteForError(v[i].dump())));
      }
      out.push_back(static_cast<float>(v[i].get<double>()));
    }
    return out;
  };

  const auto& format = field("format");
  if (!format.is_string() || format.get<std::string>() != kTruthFormat) {
    throw FileError(name, 0,
                    fmt::format("field 'format' must be \"{}\": got {}", kTruthFormat,
                                QuoteForError(format.dump())));
  }
  const auto& version = field("version");
  if (!version.is_number_integer() || version.get<int64_t>() != kTruthVersion) {
    throw FileError(name, 0,
                    fmt::format("unsupported version {} (expected {})",
                                QuoteForError(version.dump()), kTruthVersion));
  }
  SyntheticGroundTruth truth;
  truth.num_users = integer("num_users");
  truth.num_items = integer("num_items");
  truth.num_topics = integer("num_topics");
  const auto& scale = field("affinity_scale");
  if (!scale.is_number()) {
    throw FileError(name, 0,
                    fmt::format("field 'affinity_scale' must be a number: got {}",
                                QuoteForError(scale.dump())));
  }
  truth.affinity_scale = scale.get<double>();
  truth.user_affinity = floats("user_affinity");
  truth.item_topics = floats("item_topics");
  truth.item_quality = floats("item_quality");
  truth.item_popularity = floats("item_popularity");
  try {
    truth.CheckShapes();
  } catch (const FileError&) {
    throw;
  } catch (const Error& e) {
    throw FileError(name, 0, e.what());
  }
  return truth;
}

}  // namespace recarena::data
