#include <catch2/catch.hpp>

#include <fstream>
#include <map>
#include <set>
#include <tuple>
#include <vector>

#include "core/error.h"
#include "core/rng.h"
#include "data/exposures.h"
#include "data/prep_fixtures.h"
#include "data/prepared_io.h"
#include "data/preprocess.h"
#include "data/synthetic_world.h"
#include "test_util.h"

using recarena::Rng;
using recarena::data::Dataset;
using recarena::data::Exposure;
using recarena::data::ExposureIndex;
using recarena::data::SequenceUnit;

namespace {

recarena::data::SyntheticConfig WorldConfig(bool log_exposures) {
  recarena::data::SyntheticConfig cfg;
  cfg.num_users = 80;
  cfg.num_items = 200;  // >= slate_size + max_session_steps: every slate is full
  cfg.log_exposures = log_exposures;
  return cfg;
}

Dataset World(bool log_exposures) {
  Rng rng(11);
  return recarena::data::GenerateSyntheticWorld(WorldConfig(log_exposures), rng).dataset;
}

}  // namespace

TEST_CASE("synthetic: logged exposures are the rest of every slate and change no click",
          "[synthetic][exposures]") {
  const Dataset plain = World(false);
  Rng rng(11);
  const auto world = recarena::data::GenerateSyntheticWorld(WorldConfig(true), rng);
  const Dataset& ds = world.dataset;
  CHECK(plain.exposures.empty());
  REQUIRE(ds.interactions.size() == plain.interactions.size());
  for (size_t i = 0; i < ds.interactions.size(); ++i) {
    CHECK(ds.interactions[i].item == plain.interactions[i].item);
    CHECK(ds.interactions[i].timestamp == plain.interactions[i].timestamp);
  }
  // Every step showed slate_size items: one was clicked or none.
  const auto slate = static_cast<int64_t>(WorldConfig(true).slate_size);
  CHECK(static_cast<int64_t>(ds.exposures.size()) ==
        world.stats.steps * slate - world.stats.clicks);
  // A step's exposures share its time; a click's step shows slate - 1 others, never the click.
  std::map<std::pair<int, double>, std::set<int>> shown;
  for (const auto& e : ds.exposures) {
    CHECK(shown[{e.user, e.timestamp}].insert(e.item).second);
  }
  std::map<std::tuple<int, double>, int64_t> click_session;
  for (const auto& x : ds.interactions) {
    const auto it = shown.find({x.user, x.timestamp});
    REQUIRE(it != shown.end());
    CHECK(it->second.size() == static_cast<size_t>(slate - 1));
    CHECK(it->second.count(x.item) == 0);
    click_session[{x.user, x.timestamp}] = x.session;
  }
  // Exposures of a clicking step carry the click's session; a session without clicks has -1.
  int64_t no_session = 0;
  for (const auto& e : ds.exposures) {
    const auto it = click_session.find({e.user, e.timestamp});
    if (it != click_session.end()) CHECK(e.session == it->second);
    no_session += e.session < 0;
  }
  CHECK(no_session < static_cast<int64_t>(ds.exposures.size()) / 2);
}

TEST_CASE("exposure index: grouped by sequence, in time order, parts selected",
          "[data][exposures]") {
  Dataset ds = recarena::testing::MakeDataset(2, 4, {{0, 0, 10, 1, 0}, {1, 1, 20, 1, 1}});
  ds.parts = {"a", "b"};
  ds.exposures = {{0, 2, 30, 0, 0}, {0, 3, 5, 0, 0}, {0, 1, 7, 4, 0}, {1, 0, 9, 1, 1}};
  const ExposureIndex by_session(ds, SequenceUnit::kSession);
  CHECK(by_session.size() == 4);
  REQUIRE(by_session.Of(0, 0).size() == 2);
  CHECK(by_session.Of(0, 0)[0].item == 3);  // t = 5 before t = 30
  CHECK(by_session.Of(0, 0)[1].item == 2);
  CHECK(by_session.Of(0, 4).size() == 1);
  CHECK(by_session.Of(1, 0).empty());
  const ExposureIndex by_user(ds, SequenceUnit::kUser);
  CHECK(by_user.Of(0, -1).size() == 3);
  CHECK(by_user.Of(0, 123).size() == 3);  // the session is ignored
  const ExposureIndex part_b(ds, SequenceUnit::kUser, {1});
  CHECK(part_b.size() == 1);
  CHECK(part_b.Of(1, -1).front().item == 0);
  CHECK_THROWS_AS(ExposureIndex(ds, SequenceUnit::kUser, {2}), recarena::Error);
  // An exposure out of range fails the dataset's consistency check.
  ds.exposures.push_back({0, 9, 1, 0, 0});
  CHECK_THROWS_WITH(ds.CheckConsistency(), Catch::Contains("exposure 4 refers to user 0 / item 9"));
}

TEST_CASE("preprocess carries exposures through compaction and sessionization",
          "[preprocess][exposures]") {
  // u0 clicks i0 (t 0) and i1 (t 100); u1 clicks i2 once and is dropped by min_seq_len 2, and i2
  // with it; i3 is never clicked but shown.
  Dataset in = recarena::testing::MakeDataset(2, 4, {{0, 0, 0}, {0, 1, 100}, {1, 2, 50}});
  in.exposures = {{0, 3, 0, -1, 0}, {0, 2, 100, -1, 0}, {0, 3, 5000, -1, 0}, {1, 3, 50, -1, 0}};
  recarena::data::PreprocessConfig cfg;
  cfg.min_seq_len = 2;
  cfg.sessionize = true;
  cfg.session_gap_minutes = 30;
  const Dataset out = recarena::data::Preprocess(in, cfg, nullptr);
  CHECK(out.items.external_ids == std::vector<std::string>{"i0", "i1"});
  // Only u0's exposures of kept items survive (i3 and i2 are not in the catalog any more).
  CHECK(out.exposures.empty());

  cfg.min_seq_len = 1;
  const Dataset all = recarena::data::Preprocess(in, cfg, nullptr);
  REQUIRE(all.exposures.size() == 4);
  // Sessions: u0's clicks form session 0; the exposure at 5000 s follows the click at 100 s (the
  // last one before it); u1's click is session 1.
  CHECK(all.exposures[0].session == 0);
  CHECK(all.exposures[1].session == 0);
  CHECK(all.exposures[2].session == 0);
  CHECK(all.exposures[3].user == 1);
  CHECK(all.exposures[3].session == 1);
  Dataset early = in;
  early.exposures = {{0, 3, -10, -1, 0}};
  CHECK(recarena::data::Preprocess(early, cfg, nullptr).exposures.at(0).session == -1);
}

TEST_CASE("prepared directories keep exposures bit for bit", "[prepared][exposures]") {
  recarena::data::DataConfig data;
  data.dataset = recarena::data::DatasetKind::kSynthetic;
  data.synthetic = WorldConfig(true);
  const auto prepared = recarena::data::PrepareDataset(data, 5);
  REQUIRE_FALSE(prepared.dataset.exposures.empty());
  recarena::testing::TempDir dir;
  recarena::data::SavePrepared(dir.path(), prepared);
  const auto back = recarena::data::LoadPrepared(dir.path());
  REQUIRE(back.dataset.exposures.size() == prepared.dataset.exposures.size());
  for (size_t i = 0; i < back.dataset.exposures.size(); ++i) {
    const auto& a = back.dataset.exposures[i];
    const auto& b = prepared.dataset.exposures[i];
    CHECK(std::tie(a.user, a.item, a.timestamp, a.session, a.part) ==
          std::tie(b.user, b.item, b.timestamp, b.session, b.part));
  }
  // A malformed row names the file and line.
  {
    std::ofstream f(dir.path() / "exposures.tsv", std::ios::app);
    f << "0\t1\tnot-a-time\t0\t0\n";
  }
  CHECK_THROWS_WITH(recarena::data::LoadPrepared(dir.path()),
                    Catch::Contains("exposures.tsv") && Catch::Contains("not-a-time"));
}
