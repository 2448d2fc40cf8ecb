#include <catch2/catch.hpp>

#include <filesystem>

#include "core/config.h"
#include "core/error.h"
#include "data/perturb.h"
#include "data/prepare.h"
#include "data/prepared_io.h"
#include "test_util.h"

using namespace recarena::data;
using recarena::Rng;
using Pos = std::pair<int64_t, int32_t>;

namespace {

Sequence Seq(std::vector<ItemId> items, std::vector<double> ts) {
  Sequence s;
  s.items = std::move(items);
  s.timestamps = std::move(ts);
  s.values.assign(s.items.size(), 1.0f);
  return s;
}

// A hand-built interaction graph. Sequence edges 0.0 -> 0.1 -> 0.2, 1.0 -> 1.1, 2.0 -> 2.1; item
// edges (by time) item 0: 0.0 (t 1) -> 2.1 (t 6), item 1: 0.1 (t 2) -> 1.0 (t 4). Roots: 0.0,
// reaching 0.0 0.1 0.2 1.0 1.1 2.1 (6), and 2.0, reaching 2.0 2.1 (2).
std::vector<Sequence> Graph() {
  return {Seq({0, 1, 2}, {1, 2, 3}), Seq({1, 3}, {4, 5}), Seq({4, 0}, {0.5, 6})};
}

}  // namespace

TEST_CASE("perturb: CASPER picks the roots that reach the most later interactions", "[perturb]") {
  Rng rng(1);
  CHECK(CasperSelect(Graph(), 1, 50, rng) == std::vector<Pos>{{0, 0}});
  CHECK(CasperSelect(Graph(), 2, 50, rng) == std::vector<Pos>{{0, 0}, {2, 0}});
  // Beyond the roots the rest come at random, each node once.
  auto all = CasperSelect(Graph(), 7, 50, rng);
  REQUIRE(all.size() == 7);
  std::sort(all.begin() + 2, all.end());
  CHECK(std::vector<Pos>(all.begin() + 2, all.end()) ==
        std::vector<Pos>{{0, 1}, {0, 2}, {1, 0}, {1, 1}, {2, 1}});
  // A window of 1 keeps the last interaction of each sequence: no sequence edges, item 0 occurs
  // once among them, so every node is a root reaching itself; ties go by sequence.
  CHECK(CasperSelect(Graph(), 3, 1, rng) == std::vector<Pos>{{0, 2}, {1, 1}, {2, 1}});
}

TEST_CASE("perturb: deletion, insertion of the least-popular item, replacement", "[perturb]") {
  PerturbConfig cfg;
  cfg.select = PerturbSelect::kCasper;
  cfg.ratio = 0.1;  // round(0.1 * 7) = 1 interaction: the root 0.0
  Rng rng(3);
  // Deletion.
  auto train = Graph();
  cfg.kind = PerturbKind::kDeletion;
  auto rows = Perturb(&train, 5, cfg, rng);
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].sequence == 0);
  CHECK(rows[0].position == 0);
  CHECK(rows[0].item == 0);
  CHECK(rows[0].new_item == -1);
  CHECK(train[0].items == std::vector<ItemId>{1, 2});
  CHECK(train[0].timestamps == std::vector<double>{2, 3});
  CHECK(train[1].items == Graph()[1].items);
  // Insertion: training counts 0:2 1:2 2:1 3:1 4:1, so the least-popular item is 2, inserted
  // before 0.0 at time 1 - 1.
  train = Graph();
  cfg.kind = PerturbKind::kInsertion;
  rows = Perturb(&train, 5, cfg, rng);
  CHECK(rows[0].new_item == 2);
  CHECK(train[0].items == std::vector<ItemId>{2, 0, 1, 2});
  CHECK(train[0].timestamps == std::vector<double>{0, 1, 2, 3});
  // Replacement with a random item: never the item replaced.
  cfg.kind = PerturbKind::kReplacement;
  cfg.with = PerturbItem::kRandom;
  for (int i = 0; i < 50; ++i) {
    train = Graph();
    rows = Perturb(&train, 5, cfg, rng);
    CHECK(rows[0].new_item != 0);
    CHECK(train[0].items[0] == rows[0].new_item);
    CHECK(train[0].items.size() == 3);
  }
  // Earliest / latest: first or last position of a sequence.
  cfg.kind = PerturbKind::kDeletion;
  cfg.ratio = 0.4;  // 3 rows
  cfg.select = PerturbSelect::kLatestRandom;
  train = Graph();
  rows = Perturb(&train, 5, cfg, rng);
  // Deleting would leave sequences 1 and 2 with one item, so only sequence 0 is perturbed.
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].sequence == 0);
  CHECK(rows[0].position == 2);
  cfg.select = PerturbSelect::kEarliestRandom;
  cfg.kind = PerturbKind::kReplacement;
  cfg.with = PerturbItem::kLeastPopular;
  train = Graph();
  rows = Perturb(&train, 5, cfg, rng);
  REQUIRE(rows.size() == 3);
  for (const auto& r : rows) CHECK(r.position == 0);
  // A bad ratio names its key.
  cfg.ratio = 0.0;
  CHECK_THROWS_WITH(cfg.Validate(), Catch::Contains("data.perturb.ratio"));
}

TEST_CASE("perturb: through data prepare, deterministic, test data untouched, saved and reloaded",
          "[perturb]") {
  DataPrepareConfig base;
  recarena::config::Document::FromString(
      "run:\n  seed: 5\ndata:\n  dataset: synthetic\n  synthetic:\n    num_users: 60\n"
      "    num_items: 30\n",
      "p.yaml")
      .Read(base);
  const PreparedDataset plain = PrepareDataset(base.data, base.run.seed);
  DataPrepareConfig perturbed = base;
  perturbed.data.perturb.kind = PerturbKind::kDeletion;
  perturbed.data.perturb.ratio = 0.05;
  const PreparedDataset a = PrepareDataset(perturbed.data, perturbed.run.seed);
  const PreparedDataset b = PrepareDataset(perturbed.data, perturbed.run.seed);
  int64_t total = 0, left = 0;
  for (const auto& s : plain.split.train) total += s.size();
  for (const auto& s : a.split.train) left += s.size();
  const auto n = std::llround(0.05 * static_cast<double>(total));
  CHECK(static_cast<int64_t>(a.perturbation.size()) == n);
  CHECK(left == total - n);
  for (size_t i = 0; i < a.perturbation.size(); ++i) {
    CHECK(a.perturbation[i].sequence == b.perturbation[i].sequence);
    CHECK(a.perturbation[i].position == b.perturbation[i].position);
  }
  // Validation and test sequences are the unperturbed ones.
  REQUIRE(a.split.test.size() == plain.split.test.size());
  for (size_t i = 0; i < a.split.test.size(); ++i)
    CHECK(a.split.test[i].items == plain.split.test[i].items);
  // Another perturbation seed, another draw; the run seed's split stays.
  perturbed.data.perturb.seed = 99;
  const PreparedDataset c = PrepareDataset(perturbed.data, perturbed.run.seed);
  bool differs = false;
  for (size_t i = 0; i < c.perturbation.size(); ++i) {
    differs = differs || c.perturbation[i].sequence != a.perturbation[i].sequence ||
              c.perturbation[i].position != a.perturbation[i].position;
  }
  CHECK(differs);
  CHECK(c.split.test.size() == plain.split.test.size());
  // Saved with perturbation.tsv and reloaded.
  recarena::testing::TempDir dir;
  SavePrepared(dir.path(), a);
  const PreparedDataset back = LoadPrepared(dir.path());
  REQUIRE(back.perturbation.size() == a.perturbation.size());
  CHECK(back.perturbation.front().item == a.perturbation.front().item);
  CHECK(back.split.train.size() == a.split.train.size());
}
