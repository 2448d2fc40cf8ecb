#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "core/config.h"
#include "core/error.h"
#include "data/prep_fixtures.h"
#include "data/preprocess.h"
#include "data/sequences.h"

using recarena::data::Dataset;
using recarena::data::KeepInteractions;
using recarena::data::Preprocess;
using recarena::data::PreprocessConfig;
using recarena::data::PreprocessReport;
using recarena::data::RewardMapping;
using recarena::data::SequenceUnit;
using recarena::testing::MakeDataset;
using recarena::testing::Row;

namespace {

// The log as "user:item" external ids, in output order.
std::vector<std::string> Log(const Dataset& ds) {
  std::vector<std::string> out;
  for (const auto& x : ds.interactions) {
    out.push_back(ds.users.external_ids[x.user] + ":" + ds.items.external_ids[x.item]);
  }
  return out;
}

std::vector<int64_t> Sessions(const Dataset& ds) {
  std::vector<int64_t> out;
  for (const auto& x : ds.interactions) out.push_back(x.session);
  return out;
}

std::vector<float> Values(const Dataset& ds) {
  std::vector<float> out;
  for (const auto& x : ds.interactions) out.push_back(x.value);
  return out;
}

using Strings = std::vector<std::string>;

struct Top {
  PreprocessConfig preprocess;
  template <class V>
  void Visit(V& v) {
    v("preprocess", preprocess);
  }
  void Validate() const { preprocess.Validate(); }
};

}  // namespace

TEST_CASE("preprocess: no filters keeps ids and the whole catalog, sorts by user then time",
          "[preprocess]") {
  // Items 3 and 4 are never interacted with; user 2 has no interactions.
  Dataset in = MakeDataset(3, 5,
                           {{1, 2, 50.0},
                            {0, 1, 20.0},
                            {0, 0, 10.0},
                            {1, 0, 50.0},  // same time as the first row: keeps log order after it
                            {0, 2, 15.0}});
  PreprocessReport rep;
  Dataset out = Preprocess(in, PreprocessConfig{}, &rep);
  CHECK(out.items.size() == 5);
  CHECK(out.users.size() == 3);
  CHECK(out.items.titles == Strings{"T0", "T1", "T2", "T3", "T4"});
  CHECK(Log(out) == Strings{"u0:i0", "u0:i2", "u0:i1", "u1:i2", "u1:i0"});
  CHECK(rep.input_interactions == 5);
  CHECK(rep.output_interactions == 5);
  CHECK(rep.removed_items == 0);
  CHECK(rep.removed_sequences == 0);
  CHECK(rep.removed_repeats == 0);
  CHECK(rep.rounds == 0);
  CHECK(rep.sessions == 0);
  CHECK(out.items.Find("i4") == 4);
  CHECK(out.users.Find("u2") == 2);
}

TEST_CASE("preprocess: item frequency filter drops rare and unused items, titles stay aligned",
          "[preprocess]") {
  // counts: i0 = 3, i1 = 2, i2 = 1, i3 = 0.
  Dataset in =
      MakeDataset(3, 4, {{0, 0, 1}, {0, 1, 2}, {0, 2, 3}, {1, 0, 1}, {1, 1, 2}, {2, 0, 1}});
  in.items.feature_dim = 2;
  in.items.features = {0, 0, 1, 1, 2, 2, 3, 3};
  in.items.feature_names = {"a", "b"};
  PreprocessConfig cfg;
  cfg.min_item_freq = 2;
  PreprocessReport rep;
  Dataset out = Preprocess(in, cfg, &rep);
  CHECK(out.items.external_ids == Strings{"i0", "i1"});
  CHECK(out.items.titles == Strings{"T0", "T1"});
  CHECK(out.items.texts == Strings{"X0", "X1"});
  CHECK(out.items.categories == std::vector<Strings>{{"c0"}, {"c1"}});
  CHECK(out.items.features == std::vector<float>{0, 0, 1, 1});
  CHECK(out.items.feature_names == Strings{"a", "b"});
  CHECK(Log(out) == Strings{"u0:i0", "u0:i1", "u1:i0", "u1:i1", "u2:i0"});
  CHECK(out.items.Find("i1") == 1);
  CHECK(out.items.Find("i2") == -1);
  CHECK(rep.removed_items == 2);
  CHECK(rep.removed_sequences == 0);
  CHECK(rep.rounds == 1);
  CHECK(rep.output_interactions == 5);
}

TEST_CASE("preprocess: compaction renumbers users and items in their previous order",
          "[preprocess]") {
  // User 1 only has the rare item i1, so min_item_freq=2 removes user 1 as well.
  Dataset in = MakeDataset(3, 3, {{2, 2, 1}, {0, 0, 1}, {1, 1, 1}, {2, 0, 2}, {0, 2, 2}});
  in.users.feature_dim = 1;
  in.users.features = {10, 11, 12};
  PreprocessConfig cfg;
  cfg.min_item_freq = 2;
  Dataset out = Preprocess(in, cfg, nullptr);
  CHECK(out.users.external_ids == Strings{"u0", "u2"});
  CHECK(out.users.features == std::vector<float>{10, 12});
  CHECK(out.items.external_ids == Strings{"i0", "i2"});
  CHECK(out.items.titles == Strings{"T0", "T2"});
  // Dense ids: u0 -> 0, u2 -> 1; i0 -> 0, i2 -> 1.
  REQUIRE(out.interactions.size() == 4);
  CHECK(out.interactions[0].user == 0);
  CHECK(out.interactions[0].item == 0);
  CHECK(out.interactions[1].item == 1);
  CHECK(out.interactions[2].user == 1);
  CHECK(out.interactions[2].item == 1);
  CHECK(out.interactions[3].item == 0);
  CHECK(out.users.Find("u2") == 1);
  CHECK_NOTHROW(out.CheckConsistency());
}

TEST_CASE("preprocess: sequence length filter", "[preprocess]") {
  Dataset in = MakeDataset(3, 3, {{0, 0, 1}, {0, 1, 2}, {1, 2, 1}, {2, 0, 1}, {2, 1, 2}});
  PreprocessConfig cfg;
  cfg.min_seq_len = 2;
  PreprocessReport rep;
  Dataset out = Preprocess(in, cfg, &rep);
  CHECK(out.users.external_ids == Strings{"u0", "u2"});
  CHECK(out.items.external_ids == Strings{"i0", "i1"});  // i2 was only in u1's log
  CHECK(Log(out) == Strings{"u0:i0", "u0:i1", "u2:i0", "u2:i1"});
  CHECK(rep.removed_sequences == 1);
  CHECK(rep.removed_items == 1);
}

TEST_CASE("preprocess: filter_until_stable needs several rounds and differs from one pass",
          "[preprocess]") {
  // u0: i0 i1, u1: i0 i1, u2: i2 i3, u3: i2 i0 i1; i4 unused.
  // Pass 1: i3 (1 interaction) goes, so u2 = [i2] is too short and goes; i2 is left with 1.
  // Pass 2 (stable only): i2 goes; u3 = [i0 i1] still has 2. Pass 3 removes nothing.
  Dataset in = MakeDataset(4, 5,
                           {{0, 0, 1},
                            {0, 1, 2},
                            {1, 0, 1},
                            {1, 1, 2},
                            {2, 2, 1},
                            {2, 3, 2},
                            {3, 2, 1},
                            {3, 0, 2},
                            {3, 1, 3}});
  PreprocessConfig cfg;
  cfg.min_item_freq = 2;
  cfg.min_seq_len = 2;

  PreprocessReport plain_rep;
  Dataset plain = Preprocess(in, cfg, &plain_rep);
  CHECK(Log(plain) == Strings{"u0:i0", "u0:i1", "u1:i0", "u1:i1", "u3:i2", "u3:i0", "u3:i1"});
  CHECK(plain.items.external_ids == Strings{"i0", "i1", "i2"});
  CHECK(plain_rep.rounds == 1);
  CHECK(plain_rep.removed_items == 2);
  CHECK(plain_rep.removed_sequences == 1);

  cfg.filter_until_stable = true;
  PreprocessReport rep;
  Dataset stable = Preprocess(in, cfg, &rep);
  CHECK(Log(stable) == Strings{"u0:i0", "u0:i1", "u1:i0", "u1:i1", "u3:i0", "u3:i1"});
  CHECK(stable.items.external_ids == Strings{"i0", "i1"});
  CHECK(stable.items.titles == Strings{"T0", "T1"});
  CHECK(stable.users.external_ids == Strings{"u0", "u1", "u3"});
  CHECK(rep.rounds == 3);
  CHECK(rep.removed_items == 3);
  CHECK(rep.removed_sequences == 1);
  CHECK(rep.output_interactions == 6);
}

TEST_CASE("preprocess: consecutive repeats are removed within a sequence, in time order",
          "[preprocess]") {
  // u0 in time order: i0 i0 i1 i0 i0 (rows given out of order); u1: i0 i1 i1.
  Dataset in = MakeDataset(
      2, 2,
      {{0, 0, 5}, {0, 0, 1}, {0, 1, 3}, {0, 0, 2}, {0, 0, 4}, {1, 0, 1}, {1, 1, 2}, {1, 1, 3}});
  PreprocessConfig cfg;
  cfg.remove_consecutive_repeats = true;
  PreprocessReport rep;
  Dataset out = Preprocess(in, cfg, &rep);
  // u0's last i0 and u1's first i0 are adjacent in the log but belong to different users.
  CHECK(Log(out) == Strings{"u0:i0", "u0:i1", "u0:i0", "u1:i0", "u1:i1"});
  CHECK(rep.removed_repeats == 3);
  CHECK(out.interactions[0].timestamp == 1.0);
  CHECK(out.interactions[1].timestamp == 3.0);
  CHECK(out.interactions[2].timestamp == 4.0);
}

TEST_CASE("preprocess: repeats are judged per session when the unit is session", "[preprocess]") {
  // One user, session 0: i0 i0, session 1: i0 i1.
  Dataset in =
      MakeDataset(1, 2, {{0, 0, 1, 1, 0}, {0, 0, 2, 1, 0}, {0, 0, 3, 1, 1}, {0, 1, 4, 1, 1}});
  PreprocessConfig cfg;
  cfg.remove_consecutive_repeats = true;
  PreprocessReport rep;
  Dataset by_session = Preprocess(in, cfg, &rep);  // auto -> session (ids present)
  CHECK(Log(by_session) == Strings{"u0:i0", "u0:i0", "u0:i1"});
  CHECK(Sessions(by_session) == std::vector<int64_t>{0, 1, 1});
  CHECK(rep.removed_repeats == 1);
  CHECK(rep.sessions == 2);
  cfg.sequence_unit = SequenceUnit::kUser;
  Dataset by_user = Preprocess(in, cfg, &rep);
  CHECK(Log(by_user) == Strings{"u0:i0", "u0:i1"});
  CHECK(rep.removed_repeats == 2);
}

TEST_CASE("preprocess: sessionization splits at gaps strictly greater than the threshold",
          "[preprocess]") {
  // u0: 0, 3600 (gap exactly 60 min: same session), 7201 (gap 3601 s: new), 7300;
  // u1: 100, 5000 (gap 4900 s: new). Pre-existing session ids are overwritten.
  Dataset in = MakeDataset(2, 3,
                           {{1, 0, 100, 1, 7},
                            {0, 0, 0, 1, 7},
                            {0, 1, 3600, 1, 7},
                            {0, 2, 7201, 1, 7},
                            {0, 0, 7300, 1, 7},
                            {1, 1, 5000, 1, 7}});
  PreprocessConfig cfg;
  cfg.sessionize = true;
  cfg.session_gap_minutes = 60.0;
  PreprocessReport rep;
  Dataset out = Preprocess(in, cfg, &rep);
  CHECK(Log(out) == Strings{"u0:i0", "u0:i1", "u0:i2", "u0:i0", "u1:i0", "u1:i1"});
  CHECK(Sessions(out) == std::vector<int64_t>{0, 0, 1, 1, 2, 3});
  CHECK(rep.sessions == 4);
  // The sequences by (auto-resolved) session.
  auto seqs = recarena::data::BuildSequences(out, SequenceUnit::kAuto);
  REQUIRE(seqs.size() == 4);
  CHECK(seqs[0].items == std::vector<recarena::data::ItemId>{0, 1});
  CHECK(seqs[1].items == std::vector<recarena::data::ItemId>{2, 0});
  CHECK(seqs[2].user == 1);
  CHECK(seqs[2].session == 2);

  // One second less of threshold makes the 3600 s gap a split too.
  cfg.session_gap_minutes = 3599.0 / 60.0;
  out = Preprocess(in, cfg, &rep);
  CHECK(Sessions(out) == std::vector<int64_t>{0, 1, 2, 2, 3, 4});
  CHECK(rep.sessions == 5);
}

TEST_CASE("preprocess: session ids are dense after filters remove whole sessions", "[preprocess]") {
  // u0 sessions: [0: i0 i1] [1: i2] [2: i0 i1]; min_seq_len=2 removes the middle session.
  Dataset in =
      MakeDataset(1, 3, {{0, 0, 0}, {0, 1, 10}, {0, 2, 10000}, {0, 0, 20000}, {0, 1, 20010}});
  PreprocessConfig cfg;
  cfg.sessionize = true;
  cfg.min_seq_len = 2;
  PreprocessReport rep;
  Dataset out = Preprocess(in, cfg, &rep);
  CHECK(Log(out) == Strings{"u0:i0", "u0:i1", "u0:i0", "u0:i1"});
  CHECK(Sessions(out) == std::vector<int64_t>{0, 0, 1, 1});
  CHECK(rep.removed_sequences == 1);
  CHECK(rep.sessions == 2);
  CHECK(out.items.external_ids == Strings{"i0", "i1"});
}

TEST_CASE("preprocess: reward mappings and the positive keep filter", "[preprocess]") {
  Dataset in = MakeDataset(
      1, 5, {{0, 0, 1, 1.0f}, {0, 1, 2, 2.0f}, {0, 2, 3, 3.0f}, {0, 3, 4, 4.0f}, {0, 4, 5, 5.0f}});
  in.value_kind = recarena::data::ValueKind::kRating;
  PreprocessConfig cfg;
  cfg.positive_threshold = 4.0;
  CHECK(Values(Preprocess(in, cfg, nullptr)) == std::vector<float>{1, 2, 3, 4, 5});
  cfg.reward = RewardMapping::kBinary;
  CHECK(Values(Preprocess(in, cfg, nullptr)) == std::vector<float>{0, 0, 0, 1, 1});
  cfg.reward = RewardMapping::kCentered;
  Dataset centered = Preprocess(in, cfg, nullptr);
  CHECK(Values(centered) == std::vector<float>{-3, -2, -1, 0, 1});
  CHECK(centered.value_kind == recarena::data::ValueKind::kRating);

  cfg.reward = RewardMapping::kRaw;
  cfg.keep = KeepInteractions::kPositive;
  PreprocessReport rep;
  Dataset pos = Preprocess(in, cfg, &rep);
  CHECK(Values(pos) == std::vector<float>{4, 5});
  // The keep filter is a removing filter: items left without interactions leave the catalog.
  CHECK(pos.items.external_ids == Strings{"i3", "i4"});
  CHECK(pos.items.titles == Strings{"T3", "T4"});
  CHECK(rep.removed_items == 3);
  CHECK(rep.output_interactions == 2);
}

TEST_CASE("preprocess: session unit without session ids is an error", "[preprocess]") {
  Dataset in = MakeDataset(1, 1, {{0, 0, 1}});
  PreprocessConfig cfg;
  cfg.sequence_unit = SequenceUnit::kSession;
  CHECK_THROWS_WITH(Preprocess(in, cfg, nullptr), Catch::Contains("has no session id"));
  CHECK_THROWS_AS(recarena::data::BuildSequences(in, SequenceUnit::kSession), recarena::Error);
}

TEST_CASE("preprocess: config validation and YAML names", "[preprocess][config]") {
  PreprocessConfig cfg;
  CHECK_NOTHROW(cfg.Validate());
  cfg.min_item_freq = 0;
  CHECK_THROWS_WITH(cfg.Validate(), Catch::Contains("preprocess.min_item_freq"));
  cfg = PreprocessConfig{};
  cfg.session_gap_minutes = 0;
  CHECK_THROWS_AS(cfg.Validate(), recarena::ConfigError);
  cfg = PreprocessConfig{};
  cfg.long_tail_top_share = 1.5;
  CHECK_THROWS_WITH(cfg.Validate("data.preprocess"),
                    Catch::Contains("data.preprocess.long_tail_top_share"));

  Top top;
  recarena::config::Document::FromString(
      "preprocess:\n  sequence_unit: session\n  keep: positive\n  reward: centered\n"
      "  min_item_freq: 5\n",
      "test.yaml")
      .Read(top);
  CHECK(top.preprocess.sequence_unit == SequenceUnit::kSession);
  CHECK(top.preprocess.keep == KeepInteractions::kPositive);
  CHECK(top.preprocess.reward == RewardMapping::kCentered);
  CHECK(top.preprocess.min_item_freq == 5);
  Top bad;
  CHECK_THROWS_WITH(
      recarena::config::Document::FromString("preprocess:\n  reward: binray\n", "t.yaml").Read(bad),
      Catch::Contains("binary"));
  CHECK_THROWS_WITH(
      recarena::config::Document::FromString("preprocess:\n  min_seq_len: 0\n", "t.yaml").Read(bad),
      Catch::Contains("preprocess.min_seq_len"));
}

TEST_CASE("item stats: head by count with ties to the smaller id, the rest long-tail",
          "[preprocess][stats]") {
  // counts: i0 = 3, i1 = 5, i2 = 3, i3 = 3, i4 = 0, i5 = 1 (15 interactions, 5 active items).
  std::vector<Row> rows;
  auto add = [&](int item, int n) {
    for (int k = 0; k < n; ++k) rows.push_back({0, item, static_cast<double>(rows.size())});
  };
  add(0, 3);
  add(1, 5);
  add(2, 3);
  add(3, 3);
  add(5, 1);
  Dataset ds = MakeDataset(1, 6, rows);
  // ceil(0.4 * 5) = 2 head items: i1 (5), then i0 wins the 3-way tie with i2 and i3.
  auto st = recarena::data::ComputeItemStats(ds, 0.4);
  CHECK(st.counts == std::vector<int64_t>{3, 5, 3, 3, 0, 1});
  CHECK(st.long_tail == std::vector<uint8_t>{0, 0, 1, 1, 1, 1});
  CHECK(st.num_long_tail == 4);
  CHECK(st.long_tail_interaction_share == Approx(7.0 / 15.0));
  // ceil(0.5 * 5) = 3: i1, i0, i2.
  st = recarena::data::ComputeItemStats(ds, 0.5);
  CHECK(st.long_tail == std::vector<uint8_t>{0, 0, 0, 1, 1, 1});
  CHECK(st.long_tail_interaction_share == Approx(4.0 / 15.0));
  // Share 1: every active item is head; only the never-seen i4 is long-tail.
  st = recarena::data::ComputeItemStats(ds, 1.0);
  CHECK(st.long_tail == std::vector<uint8_t>{0, 0, 0, 0, 1, 0});
  CHECK(st.long_tail_interaction_share == 0.0);
  st = recarena::data::ComputeItemStats(ds, 0.0);
  CHECK(st.num_long_tail == 6);
  CHECK(st.long_tail_interaction_share == 1.0);
  CHECK_THROWS_AS(recarena::data::ComputeItemStats(ds, -0.1), recarena::Error);
}

TEST_CASE("item stats: 0.14 of 50 items is exactly 7 head items despite float error",
          "[preprocess][stats]") {
  // 0.14 * 50 == 7.000000000000001 in doubles; a bare ceil would give 8.
  std::vector<Row> rows;
  for (int i = 0; i < 50; ++i) rows.push_back({0, i, static_cast<double>(i)});
  Dataset ds = MakeDataset(1, 50, rows);
  auto st = recarena::data::ComputeItemStats(ds, 0.14);
  CHECK(st.num_long_tail == 43);
  CHECK(st.long_tail[0] == 0);
  CHECK(st.long_tail[6] == 0);
  CHECK(st.long_tail[7] == 1);
}

TEST_CASE("sequences: grouping, ordering, parts", "[sequences]") {
  // u1 session 5 starts at t=100, session 2 at t=200: session 5 comes first.
  Dataset ds = MakeDataset(2, 4,
                           {{1, 0, 210, 1, 2},
                            {1, 1, 200, 2, 2},
                            {1, 2, 100, 3, 5},
                            {0, 3, 50, 4, 9, 1},
                            {0, 0, 40, 5, 9, 0},
                            {0, 1, 40, 6, 9, 1}});
  ds.parts = {"train", "test"};
  auto seqs = recarena::data::BuildSequences(ds, SequenceUnit::kAuto);
  REQUIRE(seqs.size() == 3);
  CHECK(seqs[0].user == 0);
  CHECK(seqs[0].session == 9);
  CHECK(seqs[0].items == std::vector<recarena::data::ItemId>{0, 1, 3});  // tie at t=40: log order
  CHECK(seqs[0].values == std::vector<float>{5, 6, 4});
  CHECK(seqs[0].timestamps == std::vector<double>{40, 40, 50});
  CHECK(seqs[0].target_from == 1);
  CHECK(seqs[1].session == 5);
  CHECK(seqs[2].session == 2);
  CHECK(seqs[2].items == std::vector<recarena::data::ItemId>{1, 0});

  auto by_user = recarena::data::BuildSequences(ds, SequenceUnit::kUser);
  REQUIRE(by_user.size() == 2);
  CHECK(by_user[1].items == std::vector<recarena::data::ItemId>{2, 1, 0});
  CHECK(by_user[1].session == -1);

  auto test_part = recarena::data::BuildSequences(ds, SequenceUnit::kUser, {1});
  REQUIRE(test_part.size() == 1);
  CHECK(test_part[0].items == std::vector<recarena::data::ItemId>{1, 3});
  CHECK_THROWS_AS(recarena::data::BuildSequences(ds, SequenceUnit::kUser, {2}), recarena::Error);
}
