#include <torch/torch.h>

#include <catch2/catch.hpp>

#include <cmath>

#include "agents/cpft.h"
#include "agents/supervised.h"
#include "core/error.h"
#include "test_util.h"

using namespace recarena::agents;

namespace {

torch::Tensor F(std::initializer_list<float> v) { return torch::tensor(std::vector<float>(v)); }

}  // namespace

TEST_CASE("BatchQuantileIndex is ceil((n+1)(1-alpha)) clamped to n", "[cpft]") {
  CHECK(BatchQuantileIndex(9, 0.7) == 3);    // exactly 3, not 4 from 3.0000000000000004
  CHECK(BatchQuantileIndex(10, 0.1) == 10);  // ceil(9.9)
  CHECK(BatchQuantileIndex(5, 0.3) == 5);    // ceil(4.2)
  CHECK(BatchQuantileIndex(5, 0.5) == 3);
  CHECK(BatchQuantileIndex(3, 0.01) == 3);  // ceil(3.96) = 4 > n: clamped
  CHECK_THROWS_AS(BatchQuantileIndex(0, 0.1), recarena::Error);
}

TEST_CASE("BatchConformalThreshold picks the k-th smallest label value, detached", "[cpft]") {
  auto v = F({0.5f, 0.1f, 0.3f, 0.2f, 0.4f}).requires_grad_(true);
  auto t5 = BatchConformalThreshold(v, 0.3);  // k = 5
  CHECK(t5.item<float>() == Approx(0.5f));
  CHECK_FALSE(t5.requires_grad());
  CHECK(BatchConformalThreshold(v, 0.5).item<float>() == Approx(0.3f));  // k = 3
}

TEST_CASE("SoftSetSize approaches the exact set size as the temperature goes to 0", "[cpft]") {
  auto logits =
      torch::tensor({{3.0f, 2.0f, 1.0f, 0.0f, -1.0f, -3.0f}, {0.5f, 0.4f, 0.3f, 0.2f, 0.1f, 0.0f}});
  auto lp = torch::log_softmax(logits, 1);
  // -log p of row 0: ~0.45, 1.45, 2.45, 3.45, 4.45, 6.45; of row 1: ~1.556 .. 2.056 (step 0.1).
  auto t = torch::tensor(1.9f);
  auto hard = HardSetMask(lp, t);
  // Row 0: items with -log p <= 1.9 -> {0, 1}. Row 1: -log p = 1.5563 + 0.1 j <= 1.9 -> j = 0..3.
  CHECK(hard[0].sum().item<int64_t>() == 2);
  CHECK(hard[1].sum().item<int64_t>() == 4);
  double prev_err = 1e9;
  for (double temp : {1.0, 0.3, 0.1, 0.01, 0.001}) {
    auto soft = SoftSetSize(lp, t, temp);
    const double err =
        std::abs(soft[0].item<float>() - 2.0) + std::abs(soft[1].item<float>() - 4.0);
    CHECK(err < prev_err);
    prev_err = err;
  }
  CHECK(prev_err < 1e-3);
  CHECK(SoftSetSize(lp, t, 1.0)[1].item<float>() <
        3.5f);  // a warm relaxation is far from exact (~3.14)
  CHECK_THROWS_AS(SoftSetSize(lp, t, 0.0), recarena::Error);
}

TEST_CASE("SoftSetSize gives gradient to every item's logit, in-set items included", "[cpft]") {
  auto logits = torch::tensor({{2.0f, 1.5f, 1.0f, 0.0f, -1.0f}}).requires_grad_(true);
  auto lp = torch::log_softmax(logits, 1);
  auto t = torch::tensor(1.6f);  // -log p ~ 0.85, 1.35, 1.85, 2.85, 3.85: items 0, 1 in the set
  auto hard = HardSetMask(lp.detach(), t);
  REQUIRE(hard[0][0].item<bool>());
  REQUIRE(hard[0][1].item<bool>());
  REQUIRE_FALSE(hard[0][2].item<bool>());
  SoftSetSize(lp, t, 0.5).sum().backward();
  auto g = logits.grad();
  for (int j = 0; j < 5; ++j) CHECK(std::abs(g[0][j].item<float>()) > 1e-6);
  // Softmax gradients sum to zero over the row.
  CHECK(g.sum().item<float>() == Approx(0.0f).margin(1e-5));
  // Shrinking the set: the in-set item near the threshold (1) is pushed down, the top item up.
  CHECK(g[0][1].item<float>() > 0.0f);
  CHECK(g[0][0].item<float>() < 0.0f);
}

TEST_CASE("CpdLoss: 1 - cosine of the K set items closest to the target", "[cpft]") {
  // Item 0 is the target; 1 and 2 point the same way, 3 is orthogonal, 4 opposite.
  auto e = torch::tensor({{1.0f, 0.0f}, {2.0f, 0.0f}, {0.5f, 0.0f}, {0.0f, 3.0f}, {-1.0f, 0.0f}});
  auto targets = torch::tensor(std::vector<int64_t>{0});
  auto all = torch::ones({1, 5}, torch::kBool);
  // K = 2: the two nearest (items 1, 2) coincide in direction with the target -> 0.
  CHECK(CpdLoss(e, all, targets, 2).item<float>() == Approx(0.0f).margin(1e-6));
  // K = 3 adds item 3: (0 + 0 + 1) / 3.
  CHECK(CpdLoss(e, all, targets, 3).item<float>() == Approx(1.0f / 3.0f));
  // K = 4 adds item 4 (cos -1): (0 + 0 + 1 + 2) / 4.
  CHECK(CpdLoss(e, all, targets, 4).item<float>() == Approx(0.75f));
  // Only set members count; the sum is still divided by K * B (Eq. 5).
  auto only3 = torch::tensor({{true, false, false, true, false}});
  CHECK(CpdLoss(e, only3, targets, 2).item<float>() == Approx(0.5f));
  // The target itself never counts: a set of just the target gives 0.
  auto self = torch::tensor({{true, false, false, false, false}});
  CHECK(CpdLoss(e, self, targets, 2).item<float>() == Approx(0.0f));
  // Two rows: row 1's target is item 3, its set {3, 4}: cos(e4, e3) = 0 -> 1. Mean over K * B = 4.
  auto t2 = torch::tensor(std::vector<int64_t>{0, 3});
  auto m2 = torch::tensor({{true, true, true, false, false}, {false, false, false, true, true}});
  CHECK(CpdLoss(e, m2, t2, 2).item<float>() == Approx(1.0f / 4.0f));
  // Gradient reaches the chosen item and the target.
  auto ev = e.clone().requires_grad_(true);
  CpdLoss(ev, all, targets, 3).backward();
  CHECK(ev.grad()[3].abs().sum().item<float>() > 0.0f);
  CHECK(ev.grad()[0].abs().sum().item<float>() > 0.0f);
}

TEST_CASE("CpftLoss combines CE + beta CPS + gamma CPD (Eq. 6)", "[cpft]") {
  torch::manual_seed(3);
  auto train_logits = torch::randn({4, 6}).requires_grad_(true);
  auto calib_logits = torch::randn({5, 6}).requires_grad_(true);
  auto train_t = torch::tensor(std::vector<int64_t>{0, 1, 2, 3});
  auto calib_t = torch::tensor(std::vector<int64_t>{5, 4, 3, 2, 1});
  auto vecs = torch::randn({6, 3}).requires_grad_(true);
  CpftOptions o;
  o.alpha = 0.5;
  o.beta = 2.0;
  o.gamma = 3.0;
  o.k = 2;
  o.temperature = 0.2;
  auto r = CpftLoss(train_logits, train_t, calib_logits, calib_t, vecs, o);
  const double ce = torch::nn::functional::cross_entropy(train_logits, train_t).item<double>();
  CHECK(r.ce.item<double>() == Approx(ce));
  CHECK(r.total.item<double>() ==
        Approx(ce + 2.0 * r.cps.item<double>() + 3.0 * r.cpd.item<double>()));
  // alpha 0.5, B = 5: k = 3, so 3 of the 5 labels are in their set (no ties in random logits).
  CHECK(r.coverage == Approx(0.6));
  auto lp = torch::log_softmax(calib_logits.detach(), 1);
  auto lv = -lp.gather(1, calib_t.unsqueeze(1)).squeeze(1);
  const double t = std::get<0>(torch::kthvalue(lv, 3)).item<double>();
  CHECK(r.threshold_q == Approx(1.0 - std::exp(-t)));
  CHECK(r.hard_set_size == Approx(HardSetMask(lp, torch::tensor(t)).sum().item<double>() / 5.0));
  r.total.backward();
  CHECK(calib_logits.grad().abs().sum().item<float>() > 0.0f);
  CHECK(train_logits.grad().abs().sum().item<float>() > 0.0f);
}

TEST_CASE("L_CPS is the mean relaxed set size, or its catalog fraction when normalised", "[cpft]") {
  torch::manual_seed(4);
  auto train_logits = torch::randn({3, 8});
  auto calib_logits = torch::randn({6, 8});
  auto train_t = torch::tensor(std::vector<int64_t>{0, 1, 2});
  auto calib_t = torch::tensor(std::vector<int64_t>{7, 6, 5, 4, 3, 2});
  auto vecs = torch::randn({8, 3});
  CpftOptions o;
  o.cps_normalization = CpsNormalization::kNone;
  auto raw = CpftLoss(train_logits, train_t, calib_logits, calib_t, vecs, o);
  auto lp = torch::log_softmax(calib_logits, 1);
  auto lv = -lp.gather(1, calib_t.unsqueeze(1)).squeeze(1);
  auto t = BatchConformalThreshold(lv, o.alpha);
  CHECK(raw.cps.item<double>() == Approx(SoftSetSize(lp, t, o.temperature).mean().item<double>()));
  o.cps_normalization = CpsNormalization::kCatalog;
  auto norm = CpftLoss(train_logits, train_t, calib_logits, calib_t, vecs, o);
  CHECK(norm.cps.item<double>() == Approx(raw.cps.item<double>() / 8.0));
  CHECK(norm.cps.item<double>() <= 1.0);
  CHECK(norm.hard_set_size == Approx(raw.hard_set_size));  // reported in items either way
}

TEST_CASE("CpftOptions validation names the key", "[cpft]") {
  CpftOptions o;
  CHECK_NOTHROW(o.Validate());
  o.alpha = 1.0;
  CHECK_THROWS_WITH(o.Validate(), Catch::Contains("cpft.alpha"));
  o = CpftOptions{};
  o.temperature = 0.0;
  CHECK_THROWS_WITH(o.Validate(), Catch::Contains("cpft.temperature"));
  o = CpftOptions{};
  o.k = 0;
  CHECK_THROWS_WITH(o.Validate(), Catch::Contains("cpft.k"));
}

TEST_CASE("CpftAgent starts from a supervised checkpoint and takes CPFT steps", "[cpft]") {
  recarena::testing::TempDir dir;
  SupervisedOptions so;
  so.encoder.kind = recarena::models::EncoderKind::kGru4Rec;
  so.encoder.num_items = 12;
  so.encoder.state_len = 4;
  so.encoder.hidden = 8;
  so.encoder.dropout = 0.0;
  torch::manual_seed(1);
  SupervisedAgent base(so, torch::kCPU);
  auto items = torch::tensor({{1, 2, 3, 12}, {4, 5, 12, 12}, {6, 7, 8, 9}}, torch::kInt64);
  auto lengths = torch::tensor(std::vector<int64_t>{3, 2, 4});
  auto targets = torch::tensor(std::vector<int64_t>{4, 6, 10});
  base.Update({items, lengths, targets});
  const auto file = dir.path() / "base.pt";
  {
    torch::serialize::OutputArchive a;
    base.Save(a);
    a.save_to(file.string());
  }
  torch::manual_seed(99);  // different initial weights
  CpftOptions co;
  co.k = 3;
  CpftAgent agent(so, co, torch::kCPU);
  CHECK_FALSE(torch::allclose(agent.Scores(items, lengths), base.Scores(items, lengths)));
  agent.InitFrom(file);
  CHECK(torch::allclose(agent.Scores(items, lengths), base.Scores(items, lengths)));
  CHECK(agent.step() == 0);  // fine-tuning starts its own count
  const auto m = agent.UpdateCpft({items, lengths, targets}, {items, lengths, targets});
  REQUIRE(m.size() == 8);
  CHECK(m[0].first == "loss");
  CHECK(std::isfinite(m[0].second));
  CHECK(m[1].first == "ce");
  CHECK(m[4].first == "set_size");
  CHECK(agent.step() == 1);
  CHECK_FALSE(torch::allclose(agent.Scores(items, lengths), base.Scores(items, lengths)));
  CHECK_THROWS_AS(agent.InitFrom(dir.path() / "missing.pt"), recarena::FileError);
}
