#include <catch2/catch.hpp>

#include <torch/torch.h>

#include "agents/finest.h"
#include "core/error.h"

using namespace recarena::agents;

namespace {
torch::Tensor Rows(std::vector<std::vector<double>> rows) {
  std::vector<torch::Tensor> t;
  for (auto& r : rows) t.push_back(torch::tensor(r, torch::kFloat64));
  return torch::stack(t);
}
torch::Tensor Ids(std::vector<std::vector<int64_t>> rows) {
  std::vector<torch::Tensor> t;
  for (auto& r : rows) t.push_back(torch::tensor(r, torch::kInt64));
  return torch::stack(t);
}
}  // namespace

TEST_CASE("finest: reference lists are the top K and the next K, ties by smaller id", "[finest]") {
  const auto logits = Rows({{3.0, 2.95, 1.0, 0.5, 0.0}, {0.0, 1.0, 1.0, 2.0, 1.0}});
  const auto [r, c] = ReferenceLists(logits, 2);
  CHECK(torch::equal(r, Ids({{0, 1}, {3, 1}})));
  CHECK(torch::equal(c, Ids({{2, 3}, {2, 4}})));
  CHECK_THROWS_AS(ReferenceLists(logits, 3), recarena::Error);  // N = 5 < 2K
  // A tie across the boundary of the 2K chosen: the smaller ids are chosen.
  const auto [tr, tc] = ReferenceLists(Rows({{1.0, 1.0, 1.0, 0.0}, {0.0, 2.0, 2.0, 2.0}}), 1);
  CHECK(torch::equal(tr, Ids({{0}, {1}})));
  CHECK(torch::equal(tc, Ids({{1}, {2}})));
}

TEST_CASE("finest: golden values of the rank-preserving regulariser (Eqs. 3-4)", "[finest]") {
  // References recorded on the pre-trained logits [3, 2.95, 1, 0.5, 0]: R = [0, 1], C = [2, 3].
  const auto reference = Ids({{0, 1}, {0, 1}});
  const auto competitive = Ids({{2, 3}, {2, 3}});
  // Row 0 is the pre-trained model itself: L1 = max(0, 0.1 - 0.05) = 0.05; L2 = mean(max(0,
  // 0.1 - 2), max(0, 0.1 - 2.45)) = 0. Row 1 after drift [1, 2, 1.5, 0, 0]: L1 = max(0, 0.1 -
  // (1 - 2)) = 1.1; L2 = mean(max(0, 0.1 - (1 - 1.5)), max(0, 0.1 - (2 - 0))) = mean(0.6, 0) = 0.3.
  const auto logits = Rows({{3.0, 2.95, 1.0, 0.5, 0.0}, {1.0, 2.0, 1.5, 0.0, 0.0}});
  const auto per_row = RankPreservingPerRow(logits, reference, competitive, 0.1);
  CHECK(per_row[0].item<double>() == Approx(0.05));
  CHECK(per_row[1].item<double>() == Approx(1.4));
  FinestOptions opts;
  opts.margin = 0.1;
  opts.weight = 2.0;
  const auto targets = torch::tensor({0, 2}, torch::kInt64);
  const auto all =
      FinestLoss(logits, targets, reference, competitive, torch::tensor({true, true}), opts);
  CHECK(all.reg.item<double>() == Approx(0.725));
  const double ce = torch::nn::functional::cross_entropy(logits, targets).item<double>();
  CHECK(all.ce.item<double>() == Approx(ce));
  CHECK(all.total.item<double>() == Approx(ce + 2.0 * 0.725));
  // A simulated row (include false) leaves the regulariser; none included gives 0.
  const auto one =
      FinestLoss(logits, targets, reference, competitive, torch::tensor({true, false}), opts);
  CHECK(one.reg.item<double>() == Approx(0.05));
  const auto none =
      FinestLoss(logits, targets, reference, competitive, torch::tensor({false, false}), opts);
  CHECK(none.reg.item<double>() == 0.0);
  // The gradient pushes a reversed reference pair back into order.
  auto z = logits.clone().requires_grad_(true);
  FinestLoss(z, targets, reference, competitive, torch::tensor({false, true}), opts).reg.backward();
  CHECK(z.grad()[1][0].item<double>() < 0.0);  // raise z_R1 (descent direction is -grad)
  CHECK(z.grad()[1][1].item<double>() > 0.0);  // lower z_R2
  // Options are checked.
  opts.simulation_ratio = 2.0;
  CHECK_THROWS_WITH(opts.Validate(), Catch::Contains("finest.simulation_ratio"));
}

TEST_CASE("finest: simulated perturbation of a window deletes, replaces or inserts", "[finest]") {
  recarena::Rng rng(5);
  int deleted = 0, replaced = 0, inserted = 0;
  for (int trial = 0; trial < 300; ++trial) {
    auto items = torch::tensor({4, 5, 6, 9, 9}, torch::kInt64);  // length 3, padding 9
    const int64_t len = SimulatePerturbation(items, 3, 7, 9, rng);
    auto a = items.accessor<int64_t, 1>();
    for (int64_t i = len; i < 5; ++i) CHECK(a[i] == 9);  // right-padded
    if (len == 2) {
      ++deleted;
    } else if (len == 4) {
      ++inserted;
      int sevens = 0;
      for (int64_t i = 0; i < 4; ++i) sevens += a[i] == 7;
      CHECK(sevens == 1);
    } else {
      REQUIRE(len == 3);
      ++replaced;
      CHECK(((a[0] == 7) + (a[1] == 7) + (a[2] == 7)) == 1);
    }
  }
  CHECK(deleted > 60);
  CHECK(replaced > 60);
  CHECK(inserted > 60);
  // A full state drops its oldest item on insertion; a single item is never deleted.
  for (int trial = 0; trial < 50; ++trial) {
    auto full = torch::tensor({1, 2, 3}, torch::kInt64);
    const int64_t len = SimulatePerturbation(full, 3, 7, 9, rng);
    CHECK(len >= 2);
    auto one = torch::tensor({1, 9, 9}, torch::kInt64);
    CHECK(SimulatePerturbation(one, 1, 7, 9, rng) >= 1);
  }
}
