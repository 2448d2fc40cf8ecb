// Reference models of the fidelity reports (env/reference_models.h) and the negative sampler.
#include <catch2/catch.hpp>

#include <cmath>

#include "core/rng.h"
#include "env/calibration.h"
#include "env/reference_models.h"
#include "env/sim_fit.h"
#include "sim_fixtures.h"

using namespace recarena;
using recarena::testing::Seq;

namespace {

env::ResponseRows OneRow(std::vector<int64_t> history, int64_t L, int64_t num_items,
                         int64_t action) {
  env::ResponseRows r;
  r.state_len = L;
  for (int64_t j = 0; j < L; ++j) {
    r.items.push_back(j < static_cast<int64_t>(history.size()) ? history[static_cast<size_t>(j)]
                                                               : num_items);
  }
  r.lengths.push_back(static_cast<int64_t>(history.size()));
  r.users.push_back(0);
  r.actions.push_back(action);
  r.targets.push_back(1.0f);
  return r;
}

}  // namespace

TEST_CASE("item kNN golden similarities and scores", "[env][reference]") {
  // counts: item 0 twice, 1 twice, 2 once; c(0->1) = 2, c(0->2) = 1, c(1->2) = 1 (window 2).
  const std::vector<data::Sequence> seqs = {Seq(0, {0, 1, 2}), Seq(1, {0, 1})};
  env::ItemKnn knn(seqs, 3, 2);
  CHECK(knn.Similarity(0, 1) == Approx(2.0 / std::sqrt(2.0 * 2.0)));
  CHECK(knn.Similarity(0, 2) == Approx(1.0 / std::sqrt(2.0)));
  CHECK(knn.Similarity(1, 2) == Approx(1.0 / std::sqrt(2.0)));
  CHECK(knn.Similarity(1, 0) == 0.0);  // directed: 0 never follows 1
  CHECK(knn.Similarity(2, 0) == 0.0);
  CHECK(knn.Score(OneRow({0, 1}, 3, 3, 2))[0] == Approx(2.0 / std::sqrt(2.0)));
  // A repeated history item counts once.
  CHECK(knn.Score(OneRow({0, 0}, 3, 3, 1))[0] == Approx(1.0));
  CHECK_THROWS_AS(env::ItemKnn(seqs, 3, 0), Error);
}

TEST_CASE("the popularity negative sampler follows counts + 1", "[env][reference]") {
  env::NegativeSampler pop(env::NegativeSampling::kPopularity, 2, {0, 9});  // weights 1 : 10
  Rng rng(3);
  int ones = 0;
  const int n = 20000;
  for (int i = 0; i < n; ++i) ones += pop.Draw(rng) == 1;
  CHECK(static_cast<double>(ones) / n == Approx(10.0 / 11.0).margin(0.01));
  // The uniform sampler makes exactly the draws MakeResponseRows always made.
  env::NegativeSampler uni(env::NegativeSampling::kUniform, 7);
  Rng a(5), b(5);
  for (int i = 0; i < 100; ++i) CHECK(uni.Draw(a) == static_cast<int64_t>(b.UniformInt(7)));
  CHECK_THROWS_AS(env::NegativeSampler(env::NegativeSampling::kPopularity, 3, {1, 2}), Error);
}

TEST_CASE("reference models rank a planted successor structure", "[env][reference]") {
  // 40 items; in every user's log item (i + 1) mod 40 follows item i. Popularity is flat, so
  // it cannot rank the logged next item, while item kNN and the factored model can.
  const int64_t I = 40, L = 3;
  std::vector<data::Sequence> seqs;
  Rng start_rng(11);
  for (data::UserId u = 0; u < 60; ++u) {
    std::vector<data::ItemId> items;
    int64_t i = static_cast<int64_t>(start_rng.UniformInt(I));
    for (int t = 0; t < 20; ++t, i = (i + 1) % I) items.push_back(static_cast<data::ItemId>(i));
    seqs.push_back(Seq(u, items));
  }
  env::ResponseConfig cfg;
  cfg.negatives = 4;
  Rng rng(7);
  env::ReferenceModels refs(seqs, cfg, I, L, rng);
  std::vector<data::Sequence> held;
  for (data::UserId u = 100; u < 110; ++u) {
    std::vector<data::ItemId> items;
    int64_t i = static_cast<int64_t>(start_rng.UniformInt(I));
    for (int t = 0; t < 20; ++t, i = (i + 1) % I) items.push_back(static_cast<data::ItemId>(i));
    held.push_back(Seq(u, items));
  }
  Rng row_rng(8);
  const auto rows = env::MakeResponseRows(held, cfg, I, L, row_rng);
  std::vector<uint8_t> positive(rows.size());
  for (size_t r = 0; r < rows.size(); ++r) positive[r] = r % 5 == 0;
  const double knn = env::RocAuc(refs.Predict("item_knn", rows), positive);
  const double mf = env::RocAuc(refs.Predict("mf", rows), positive);
  const double pop = env::RocAuc(refs.Predict("popularity", rows), positive);
  CHECK(knn > 0.95);
  CHECK(mf > 0.8);  // 0.84 here: 28 Adam steps on 5,700 rows
  CHECK(pop < 0.7);
  for (float p : refs.Predict("mf", rows)) {
    CHECK(p >= 0.0f);
    CHECK(p <= 1.0f);
  }
  CHECK_THROWS_AS(refs.Predict("nope", rows), Error);
}
