#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <numeric>
#include <set>
#include <string>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/rng.h"
#include "data/synthetic_world.h"
#include "test_util.h"

using recarena::Rng;
using recarena::data::ChoiceProbabilities;
using recarena::data::GenerateSyntheticWorld;
using recarena::data::Interaction;
using recarena::data::SyntheticConfig;
using recarena::data::SyntheticGroundTruth;
using recarena::data::SyntheticWorld;

namespace {

SyntheticConfig SmallConfig() {
  SyntheticConfig cfg;
  cfg.num_users = 200;
  cfg.num_items = 300;
  return cfg;
}

SyntheticWorld Generate(const SyntheticConfig& cfg, uint64_t seed) {
  Rng rng(seed);
  return GenerateSyntheticWorld(cfg, rng);
}

// Clicks per session id.
std::map<int64_t, int> SessionLengths(const recarena::data::Dataset& ds) {
  std::map<int64_t, int> len;
  for (const auto& x : ds.interactions) ++len[x.session];
  return len;
}

// Binomial tolerance: 5 standard deviations of a frequency estimated from n draws.
double Tolerance(double p, int n) { return 5.0 * std::sqrt(p * (1.0 - p) / n) + 1e-9; }

}  // namespace

TEST_CASE("synthetic: same seed gives the identical dataset and truth", "[synthetic]") {
  const auto cfg = SmallConfig();
  const auto a = Generate(cfg, 5);
  const auto b = Generate(cfg, 5);
  REQUIRE(a.dataset.interactions.size() == b.dataset.interactions.size());
  REQUIRE(!a.dataset.interactions.empty());
  for (size_t k = 0; k < a.dataset.interactions.size(); ++k) {
    const Interaction& x = a.dataset.interactions[k];
    const Interaction& y = b.dataset.interactions[k];
    INFO("interaction " << k);
    REQUIRE(x.user == y.user);
    REQUIRE(x.item == y.item);
    REQUIRE(x.timestamp == y.timestamp);
    REQUIRE(x.value == y.value);
    REQUIRE(x.session == y.session);
    REQUIRE(x.part == y.part);
  }
  CHECK(a.dataset.items.titles == b.dataset.items.titles);
  CHECK(a.dataset.items.categories == b.dataset.items.categories);
  CHECK(a.dataset.items.features == b.dataset.items.features);
  CHECK(a.truth.user_affinity == b.truth.user_affinity);
  CHECK(a.truth.item_topics == b.truth.item_topics);
  CHECK(a.truth.item_quality == b.truth.item_quality);
  CHECK(a.truth.item_popularity == b.truth.item_popularity);
  CHECK(a.stats.steps == b.stats.steps);

  // The world depends on the rng's state, not only on its seed.
  Rng rng(5);
  const auto first = GenerateSyntheticWorld(cfg, rng);
  const auto second = GenerateSyntheticWorld(cfg, rng);
  CHECK(first.truth.user_affinity == a.truth.user_affinity);
  CHECK(second.truth.user_affinity != a.truth.user_affinity);
}

TEST_CASE("synthetic: different seeds give different worlds", "[synthetic]") {
  const auto cfg = SmallConfig();
  const auto a = Generate(cfg, 1);
  const auto b = Generate(cfg, 2);
  CHECK(a.truth.user_affinity != b.truth.user_affinity);
  CHECK(a.truth.item_quality != b.truth.item_quality);
  CHECK(a.truth.item_popularity != b.truth.item_popularity);
  const size_t n = std::min(a.dataset.interactions.size(), b.dataset.interactions.size());
  size_t same_item = 0;
  for (size_t k = 0; k < n; ++k) {
    same_item += a.dataset.interactions[k].item == b.dataset.interactions[k].item;
  }
  CHECK(same_item < n / 5);
}

TEST_CASE("synthetic: dataset layout, catalog and no leaked user features", "[synthetic]") {
  SyntheticConfig cfg = SmallConfig();
  cfg.num_topics = 4;
  const auto w = Generate(cfg, 3);
  const auto& ds = w.dataset;
  CHECK(ds.name == "synthetic");
  CHECK(ds.value_kind == recarena::data::ValueKind::kClick);
  CHECK(ds.parts == std::vector<std::string>{"all"});
  REQUIRE(ds.items.size() == cfg.num_items);
  REQUIRE(ds.users.size() == cfg.num_users);
  CHECK(ds.users.feature_dim == 0);
  CHECK(ds.users.features.empty());
  CHECK(ds.items.feature_dim == 4);
  CHECK(ds.items.feature_names ==
        std::vector<std::string>{"topic_0", "topic_1", "topic_2", "topic_3"});
  CHECK(ds.items.features == w.truth.item_topics);
  CHECK(ds.items.Find("17") == 17);
  CHECK(ds.users.Find("42") == 42);
  CHECK_NOTHROW(ds.CheckConsistency());
  for (int i = 0; i < cfg.num_items; ++i) {
    const float* row = w.truth.item_topics.data() + i * 4;
    const int dominant = static_cast<int>(std::max_element(row, row + 4) - row);
    INFO("item " << i);
    CHECK(ds.items.titles[i] ==
          "item " + std::to_string(i) + " (topic " + std::to_string(dominant) + ")");
    CHECK(ds.items.categories[i] == std::vector<std::string>{"topic_" + std::to_string(dominant)});
    CHECK(std::accumulate(row, row + 4, 0.0) == Approx(1.0).margin(1e-5));
    CHECK(row[dominant] >= cfg.item_topic_purity - 1e-6);
  }
  for (int u = 0; u < cfg.num_users; ++u) {
    const float* a = w.truth.user_affinity.data() + u * 4;
    CHECK(std::accumulate(a, a + 4, 0.0) == Approx(1.0).margin(1e-5));
  }
  CHECK(std::accumulate(w.truth.item_popularity.begin(), w.truth.item_popularity.end(), 0.0) ==
        Approx(1.0).margin(1e-5));
  // Utility is the documented formula, in double.
  double dot = 0.0;
  for (int k = 0; k < 4; ++k) {
    dot += double(w.truth.user_affinity[3 * 4 + k]) * double(w.truth.item_topics[7 * 4 + k]);
  }
  const double expected = cfg.affinity_scale * dot + w.truth.item_quality[7];
  CHECK(w.truth.Utility(3, 7) == Approx(expected).epsilon(1e-12));
}

TEST_CASE("synthetic: topic skew makes low topics more common", "[synthetic]") {
  SyntheticConfig cfg;
  cfg.num_users = 1;
  cfg.num_items = 3000;
  cfg.num_topics = 5;
  cfg.topic_skew = 1.0;
  cfg.sessions_per_user = 1;
  const auto w = Generate(cfg, 11);
  std::vector<int> count(5, 0);
  for (const auto& c : w.dataset.items.categories) ++count[c[0].back() - '0'];
  // Expected shares 1/k / H_5: 0.438, 0.219, 0.146, 0.109, 0.088.
  const double h = 1.0 + 1.0 / 2 + 1.0 / 3 + 1.0 / 4 + 1.0 / 5;
  for (int k = 0; k < 5; ++k) {
    const double p = 1.0 / (k + 1) / h;
    CHECK(count[k] / 3000.0 == Approx(p).margin(Tolerance(p, 3000)));
  }
}

TEST_CASE("synthetic: Validate rejects bad values with the key path", "[synthetic][config]") {
  const auto expect_bad = [](auto mutate, const std::string& key, const std::string& value) {
    SyntheticConfig cfg;
    mutate(cfg);
    INFO(key);
    try {
      cfg.Validate();
      FAIL("no error for " << key);
    } catch (const recarena::ConfigError& e) {
      CHECK(e.path() == "data.synthetic." + key);
      CHECK_THAT(e.what(), Catch::Contains("data.synthetic." + key) && Catch::Contains(value));
    }
  };
  CHECK_NOTHROW(SyntheticConfig{}.Validate());
  expect_bad([](SyntheticConfig& c) { c.num_users = 0; }, "num_users", "got 0");
  expect_bad([](SyntheticConfig& c) { c.num_items = -3; }, "num_items", "got -3");
  expect_bad([](SyntheticConfig& c) { c.num_topics = 0; }, "num_topics", "got 0");
  expect_bad([](SyntheticConfig& c) { c.topic_skew = -1.5; }, "topic_skew", "got -1.5");
  expect_bad([](SyntheticConfig& c) { c.affinity_concentration = 0; }, "affinity_concentration",
             "got 0");
  expect_bad([](SyntheticConfig& c) { c.affinity_scale = std::nan(""); }, "affinity_scale",
             "got nan");
  expect_bad([](SyntheticConfig& c) { c.quality_std = -0.25; }, "quality_std", "got -0.25");
  expect_bad([](SyntheticConfig& c) { c.popularity_exponent = -2; }, "popularity_exponent",
             "got -2");
  expect_bad([](SyntheticConfig& c) { c.sessions_per_user = 0; }, "sessions_per_user", "got 0");
  expect_bad([](SyntheticConfig& c) { c.slate_size = 0; }, "slate_size", "got 0");
  expect_bad([](SyntheticConfig& c) { c.slate_size = 501; }, "slate_size", "got 501");
  expect_bad([](SyntheticConfig& c) { c.logging_pop_power = -1; }, "logging_pop_power", "got -1");
  expect_bad([](SyntheticConfig& c) { c.logging_utility_share = 1.5; }, "logging_utility_share",
             "got 1.5");
  expect_bad([](SyntheticConfig& c) { c.choice_temperature = 0; }, "choice_temperature", "got 0");
  expect_bad([](SyntheticConfig& c) { c.no_click_utility = INFINITY; }, "no_click_utility",
             "got inf");
  expect_bad([](SyntheticConfig& c) { c.patience_init = 0; }, "patience_init", "got 0");
  expect_bad([](SyntheticConfig& c) { c.patience_cost_no_click = -1; }, "patience_cost_no_click",
             "got -1");
  expect_bad([](SyntheticConfig& c) { c.patience_cost_click = -0.5; }, "patience_cost_click",
             "got -0.5");
  expect_bad([](SyntheticConfig& c) { c.max_session_steps = 0; }, "max_session_steps", "got 0");
  expect_bad([](SyntheticConfig& c) { c.item_topic_purity = 1.25; }, "item_topic_purity",
             "got 1.25");
  // The generator validates too.
  SyntheticConfig bad;
  bad.num_users = 0;
  Rng rng(1);
  CHECK_THROWS_AS(GenerateSyntheticWorld(bad, rng), recarena::ConfigError);
}

TEST_CASE("synthetic: the log is popularity-biased", "[synthetic]") {
  const auto w = Generate(SmallConfig(), 7);
  const int n = w.truth.num_items;
  std::vector<int> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(),
            [&](int a, int b) { return w.truth.item_popularity[a] > w.truth.item_popularity[b]; });
  std::set<int> top(order.begin(), order.begin() + n / 10);
  int64_t top_clicks = 0;
  for (const auto& x : w.dataset.interactions) top_clicks += top.count(x.item);
  const double share = double(top_clicks) / w.dataset.interactions.size();
  INFO("click share of the top 10% items by popularity: " << share);
  CHECK(share > 0.3);

  // Without popularity in the logging policy the bias disappears (same catalog: the logging
  // parameters do not touch the catalog streams).
  SyntheticConfig flat = SmallConfig();
  flat.logging_pop_power = 0.0;
  const auto f = Generate(flat, 7);
  REQUIRE(f.truth.item_popularity == w.truth.item_popularity);
  int64_t flat_top = 0;
  for (const auto& x : f.dataset.interactions) flat_top += top.count(x.item);
  const double flat_share = double(flat_top) / f.dataset.interactions.size();
  INFO("same with logging_pop_power = 0: " << flat_share);
  CHECK(flat_share < 0.2);
}

TEST_CASE("synthetic: users click high-utility items", "[synthetic]") {
  const auto w = Generate(SmallConfig(), 9);
  double clicked = 0.0;
  for (const auto& x : w.dataset.interactions) clicked += w.truth.Utility(x.user, x.item);
  clicked /= w.dataset.interactions.size();
  double random = 0.0;
  for (int u = 0; u < w.truth.num_users; ++u) {
    for (int i = 0; i < w.truth.num_items; ++i) random += w.truth.Utility(u, i);
  }
  random /= double(w.truth.num_users) * w.truth.num_items;
  INFO("mean utility of clicked items " << clicked << ", of a random item " << random);
  CHECK(clicked > random + 0.5);
}

TEST_CASE("synthetic: sessions end by the patience rule and the step cap", "[synthetic]") {
  SECTION("every session is at most max_session_steps clicks, timestamps increase") {
    SyntheticConfig cfg = SmallConfig();
    cfg.max_session_steps = 6;
    cfg.patience_init = 1000.0;
    const auto w = Generate(cfg, 4);
    for (const auto& [session, len] : SessionLengths(w.dataset)) CHECK(len <= 6);
    CHECK(w.stats.ended_by_max_steps == w.stats.sessions);
    CHECK(w.stats.steps == 6 * w.stats.sessions);
    const auto& xs = w.dataset.interactions;
    for (size_t k = 1; k < xs.size(); ++k) {
      if (xs[k].user != xs[k - 1].user) continue;
      const double gap = xs[k].timestamp - xs[k - 1].timestamp;
      CHECK(gap >= 30.0);
      if (xs[k].session == xs[k - 1].session) {
        CHECK(gap < 6 * 120.0);
      } else {
        CHECK(gap >= 3600.0);
        CHECK(xs[k].session == xs[k - 1].session + 1);
      }
    }
  }
  SECTION("tiny patience: exactly one step per session") {
    SyntheticConfig cfg = SmallConfig();
    cfg.patience_init = 1e-3;
    const auto w = Generate(cfg, 4);
    CHECK(w.stats.sessions == int64_t(cfg.num_users) * cfg.sessions_per_user);
    CHECK(w.stats.steps == w.stats.sessions);
    CHECK(w.stats.ended_by_patience == w.stats.sessions);
    for (const auto& [session, len] : SessionLengths(w.dataset)) CHECK(len == 1);
  }
  SECTION("never skipping: each session's clicks drain exactly the documented patience") {
    // A no-click utility far below any item utility makes every step a click, so the session is
    // the shortest prefix whose summed costs 1 - sigmoid(utility) reach patience_init.
    SyntheticConfig cfg = SmallConfig();
    cfg.no_click_utility = -60.0;
    cfg.patience_init = 2.0;
    cfg.max_session_steps = 40;
    const auto w = Generate(cfg, 8);
    CHECK(w.stats.clicks == w.stats.steps);
    std::map<int64_t, std::vector<Interaction>> sessions;
    for (const auto& x : w.dataset.interactions) sessions[x.session].push_back(x);
    REQUIRE(int64_t(sessions.size()) == w.stats.sessions);
    for (const auto& [id, xs] : sessions) {
      double patience = cfg.patience_init;
      std::set<int> items;
      for (size_t k = 0; k < xs.size(); ++k) {
        INFO("session " << id << " click " << k);
        CHECK(patience > 0.0);  // the session was still going
        const double u = w.truth.Utility(xs[k].user, xs[k].item);
        patience -= 1.0 / (1.0 + std::exp(u));   // 1 - sigmoid(u)
        CHECK(items.insert(xs[k].item).second);  // no repeated click within a session
      }
      if (xs.size() < 40) CHECK(patience <= 0.0);
    }
  }
}

TEST_CASE("synthetic: the patience step rule", "[synthetic]") {
  SyntheticConfig cfg;
  cfg.patience_cost_no_click = 0.75;
  cfg.patience_cost_click = 2.0;
  CHECK(recarena::data::PatienceAfterStep(cfg, 5.0, false, 123.0) == Approx(4.25));
  // sigmoid(0) = 0.5: cost 2 * 0.5.
  CHECK(recarena::data::PatienceAfterStep(cfg, 5.0, true, 0.0) == Approx(4.0));
  // sigmoid(ln 3) = 0.75: cost 2 * 0.25.
  CHECK(recarena::data::PatienceAfterStep(cfg, 5.0, true, std::log(3.0)) == Approx(4.5));
}

TEST_CASE("synthetic: multinomial-logit choice probabilities and draws", "[synthetic]") {
  // Hand-computed: utilities {1, 0}, no click 0.5, temperature 1.
  const double z = std::exp(1.0) + 1.0 + std::exp(0.5);
  const auto p = ChoiceProbabilities({1.0, 0.0}, 0.5, 1.0);
  REQUIRE(p.size() == 3);
  CHECK(p[0] == Approx(std::exp(1.0) / z));  // 0.5065
  CHECK(p[1] == Approx(1.0 / z));            // 0.1863
  CHECK(p[2] == Approx(std::exp(0.5) / z));  // 0.3072
  // Temperature 2 halves every utility; huge utilities stay finite.
  const auto q = ChoiceProbabilities({2.0, 0.0}, 1.0, 2.0);
  CHECK(q[0] == Approx(p[0]));
  const auto big = ChoiceProbabilities({1000.0, 999.0}, 0.0, 1.0);
  CHECK(big[0] == Approx(1.0 / (1.0 + std::exp(-1.0))));
  CHECK(big[2] == Approx(0.0).margin(1e-300));
  CHECK_THROWS_AS(ChoiceProbabilities({1.0}, 0.0, 0.0), recarena::Error);

  Rng rng(77);
  const int n = 100000;
  std::vector<int> count(3, 0);
  for (int k = 0; k < n; ++k) {
    const int c = recarena::data::SampleChoice({1.0, 0.0}, 0.5, 1.0, rng);
    ++count[c < 0 ? 2 : c];
  }
  for (int j = 0; j < 3; ++j)
    CHECK(count[j] / double(n) == Approx(p[j]).margin(Tolerance(p[j], n)));
}

TEST_CASE("synthetic: the generator's clicks follow the choice model on a 2-item slate",
          "[synthetic]") {
  // One user, two items, both always on the slate; tiny patience makes every session a single
  // step, so each session shows the full slate once and logs item 0, item 1 or nothing.
  SyntheticConfig cfg;
  cfg.num_users = 1;
  cfg.num_items = 2;
  cfg.num_topics = 2;
  cfg.slate_size = 2;
  cfg.sessions_per_user = 20000;
  cfg.patience_init = 1e-3;
  cfg.no_click_utility = 2.0;
  cfg.choice_temperature = 1.5;
  const auto w = Generate(cfg, 21);
  const auto p = ChoiceProbabilities({w.truth.Utility(0, 0), w.truth.Utility(0, 1)},
                                     cfg.no_click_utility, cfg.choice_temperature);
  std::vector<int> count(3, 0);
  for (const auto& x : w.dataset.interactions) ++count[x.item];
  count[2] = cfg.sessions_per_user - int(w.dataset.interactions.size());
  CHECK(w.stats.sessions_with_clicks == int64_t(w.dataset.interactions.size()));
  const int n = cfg.sessions_per_user;
  for (int j = 0; j < 3; ++j) {
    INFO("outcome " << j << ": expected " << p[j]);
    CHECK(count[j] / double(n) == Approx(p[j]).margin(Tolerance(p[j], n)));
  }
}

TEST_CASE("synthetic: ground truth save/load round-trips exactly", "[synthetic][io]") {
  recarena::testing::TempDir dir;
  const auto w = Generate(SmallConfig(), 13);
  const auto file = dir.path() / "sub" / "truth.json";
  recarena::data::SaveGroundTruth(file, w.truth);
  const SyntheticGroundTruth t = recarena::data::LoadGroundTruth(file);
  CHECK(t.num_users == w.truth.num_users);
  CHECK(t.num_items == w.truth.num_items);
  CHECK(t.num_topics == w.truth.num_topics);
  CHECK(t.affinity_scale == w.truth.affinity_scale);
  CHECK(t.user_affinity == w.truth.user_affinity);
  CHECK(t.item_topics == w.truth.item_topics);
  CHECK(t.item_quality == w.truth.item_quality);
  CHECK(t.item_popularity == w.truth.item_popularity);
  CHECK(t.Utility(5, 9) == w.truth.Utility(5, 9));
}

TEST_CASE("synthetic: corrupted ground truth files give errors naming the file",
          "[synthetic][io]") {
  recarena::testing::TempDir dir;
  const auto w = Generate(SmallConfig(), 13);
  const auto good = dir.path() / "truth.json";
  recarena::data::SaveGroundTruth(good, w.truth);
  const std::string text = recarena::ReadFile(good);

  const auto truncated = dir.Write("truncated.json", text.substr(0, text.size() / 2));
  CHECK_THROWS_AS(recarena::data::LoadGroundTruth(truncated), recarena::FileError);
  CHECK_THROWS_WITH(recarena::data::LoadGroundTruth(truncated),
                    Catch::Contains("truncated.json") && Catch::Contains("invalid JSON"));

  const auto syntax =
      dir.Write("syntax.json", "{\n\"format\": \"recarena.synthetic_ground_truth\",\n  oops\n}\n");
  CHECK_THROWS_WITH(recarena::data::LoadGroundTruth(syntax), Catch::Contains("syntax.json:3"));

  std::string wrong_size = text;
  const auto pos = wrong_size.find("\"item_quality\":[");
  REQUIRE(pos != std::string::npos);
  wrong_size.insert(pos + std::string("\"item_quality\":[").size(), "0.5,");
  const auto sized = dir.Write("sized.json", wrong_size);
  CHECK_THROWS_WITH(
      recarena::data::LoadGroundTruth(sized),
      Catch::Contains("sized.json") && Catch::Contains("item_quality has 301 values"));

  const auto missing = dir.Write(
      "missing.json", "{\"format\": \"recarena.synthetic_ground_truth\", \"version\": 1}");
  CHECK_THROWS_WITH(
      recarena::data::LoadGroundTruth(missing),
      Catch::Contains("missing.json") && Catch::Contains("missing field 'num_users'"));

  std::string typed = text;
  const auto q = typed.find("\"item_popularity\":[");
  REQUIRE(q != std::string::npos);
  typed.insert(q + std::string("\"item_popularity\":[").size(), "\"x\",");
  const auto bad_type = dir.Write("typed.json", typed);
  CHECK_THROWS_WITH(
      recarena::data::LoadGroundTruth(bad_type),
      Catch::Contains("typed.json") && Catch::Contains("item_popularity[0] must be a number"));

  CHECK_THROWS_WITH(recarena::data::LoadGroundTruth(dir.path() / "absent.json"),
                    Catch::Contains("absent.json"));
}

TEST_CASE("synthetic: default world size and speed", "[synthetic]") {
  const auto start = std::chrono::steady_clock::now();
  const auto w = Generate(SyntheticConfig{}, 42);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double clicks = double(w.stats.clicks);
  const double per_session = clicks / double(w.stats.sessions_with_clicks);
  WARN("default synthetic world: "
       << w.stats.clicks << " clicks, " << w.stats.sessions << " sessions ("
       << w.stats.sessions_with_clicks << " with clicks), " << w.stats.steps << " steps, "
       << per_session << " clicks/session; ended by patience " << w.stats.ended_by_patience
       << ", by max steps " << w.stats.ended_by_max_steps << "; " << seconds << " s");
  CHECK(clicks >= 15000);
  CHECK(clicks <= 60000);
  CHECK(per_session >= 5.0);
  CHECK(per_session <= 15.0);
  CHECK(seconds < 5.0);  // generous for sanitizer/debug builds; Release is far below 1 s
}
