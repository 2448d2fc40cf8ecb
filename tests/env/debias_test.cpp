// Naive vs IPS matrix factorisation (env/debias.h) on a planted missing-not-at-random world, and
// the IPS weights of simulator rows.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>

#include "core/rng.h"
#include "data/prepare.h"
#include "env/debias.h"
#include "env/sim_fit.h"
#include "sim_fixtures.h"
#include "test_util.h"

using namespace recarena;

namespace {

// 40 users x 30 items; true ratings from a rank-1 model plus noise, rounded to 1..5. A rating is
// observed in part 0 with propensity 0.05 * rating^2 / 1.25 (liked items are rated far more
// often, as in Coat); part 1 holds 10 uniformly exposed ratings per user.
struct World {
  data::Dataset ds;
  data::CoatPropensities prop;
};

World Planted() {
  World w;
  const int U = 40, I = 30;
  for (int u = 0; u < U; ++u) w.ds.users.Intern(std::to_string(u));
  for (int i = 0; i < I; ++i) w.ds.items.Intern(std::to_string(i));
  w.ds.items.Normalize();
  w.ds.parts = {"train", "test"};
  w.prop.users = U;
  w.prop.items = I;
  w.prop.p.assign(static_cast<size_t>(U * I), 0.0);
  Rng rng(5);
  std::vector<double> a(U), b(I);
  for (auto& x : a) x = rng.Normal(0.0, 1.0);
  for (auto& x : b) x = rng.Normal(0.0, 1.0);
  for (int u = 0; u < U; ++u) {
    for (int i = 0; i < I; ++i) {
      const double r = std::clamp(std::round(3.0 + a[u] * b[i] + rng.Normal(0.0, 0.5)), 1.0, 5.0);
      const double p = 0.04 * r * r;  // 0.04 .. 1.0
      w.prop.p[static_cast<size_t>(u * I + i)] = p;
      if (rng.Uniform() < p) {
        data::Interaction x;
        x.user = u;
        x.item = i;
        x.value = static_cast<float>(r);
        x.part = 0;
        w.ds.interactions.push_back(x);
      }
      if (i % 3 == u % 3) {  // 10 random-exposure ratings per user
        data::Interaction x;
        x.user = u;
        x.item = i;
        x.value = static_cast<float>(r);
        x.timestamp = 1;
        x.part = 1;
        w.ds.interactions.push_back(x);
      }
    }
  }
  return w;
}

}  // namespace

TEST_CASE("IPS corrects a planted self-selection bias", "[env][debias]") {
  const auto w = Planted();
  env::DebiasOptions o;
  o.seeds = 3;
  o.steps = 300;
  const auto r = env::CompareNaiveIps(w.ds, w.prop, 0, 1, 9, o);
  REQUIRE(r.naive.rmse.size() == 3u);
  REQUIRE(r.ips.rmse.size() == 3u);
  CHECK(r.test_ratings == 400);
  double naive = 0, ips = 0;
  for (size_t s = 0; s < 3; ++s) {
    naive += r.naive.rmse[s];
    ips += r.ips.rmse[s];
    CHECK(r.ips.rmse[s] < r.naive.rmse[s]);  // every seed
  }
  INFO("naive " << naive / 3 << " ips " << ips / 3);
  CHECK(ips / 3 < naive / 3 - 0.05);
  for (double l : r.ips.lambda)
    CHECK(std::find(o.lambdas.begin(), o.lambdas.end(), l) != o.lambdas.end());
  // Same seed, same numbers.
  const auto again = env::CompareNaiveIps(w.ds, w.prop, 0, 1, 9, o);
  CHECK(again.ips.rmse == r.ips.rmse);
  CHECK_THROWS_AS(env::CompareNaiveIps(w.ds, w.prop, 0, 2, 9, o), Error);
}

TEST_CASE("IPS weights of Coat rows are inverse propensities", "[env][debias][data]") {
  RECARENA_REQUIRE_DATASET(dir, "coat");
  const auto prop = data::LoadCoatPropensities(dir);
  CHECK(prop.users == 290);
  CHECK(prop.items == 300);
  data::DataConfig data;
  data.dataset = data::DatasetKind::kCoat;
  data.source = dir.string();
  const auto prepared = data::PrepareDataset(data, 1);
  env::ResponseRows rows;
  rows.state_len = 1;
  rows.items = {300, 300};
  rows.lengths = {1, 1};
  rows.users = {prepared.dataset.users.Find("3"), prepared.dataset.users.Find("7")};
  rows.actions = {prepared.dataset.items.Find("10"), prepared.dataset.items.Find("250")};
  rows.targets = {4, 2};
  const auto w = env::IpsWeights(prepared.dataset, data, rows, 0);
  CHECK(w[0] == Approx(1.0 / prop.at(3, 10)));
  CHECK(w[1] == Approx(1.0 / prop.at(7, 250)));
  // sim.response.ips_clip caps a weight above it and leaves one below it alone.
  const double big = std::max(w[0], w[1]), small = std::min(w[0], w[1]);
  REQUIRE(big > small);
  const double cap = 0.5 * (big + small);
  const auto clipped = env::IpsWeights(prepared.dataset, data, rows, 0, cap);
  CHECK(std::max(clipped[0], clipped[1]) == Approx(cap));
  CHECK(std::min(clipped[0], clipped[1]) == Approx(small));
  data::DataConfig other;
  other.dataset = data::DatasetKind::kSynthetic;
  CHECK_THROWS_WITH(env::IpsWeights(prepared.dataset, other, rows, 0),
                    Catch::Contains("sim.response.ips"));
}

TEST_CASE("ips_clip is checked", "[simulator][ips][errors]") {
  auto cfg = recarena::testing::TinySimConfig();
  cfg.sim.response.ips_clip = 20.0;
  CHECK_NOTHROW(cfg.Validate());
  cfg.sim.response.ips_clip = 0.5;  // below every weight 1 / P >= 1
  CHECK_THROWS_WITH(cfg.Validate(), Catch::Contains("sim.response.ips_clip"));
  cfg.sim.response.ips_clip = -1.0;
  CHECK_THROWS_WITH(cfg.Validate(), Catch::Contains("sim.response.ips_clip"));
}
