#include <catch2/catch.hpp>

#include <algorithm>
#include <set>
#include <vector>

#include "core/config_schema.h"
#include "core/error.h"
#include "core/rng.h"
#include "data/prep_fixtures.h"
#include "data/splits.h"
#include "data/windows.h"

using recarena::Rng;
using recarena::data::Dataset;
using recarena::data::ItemId;
using recarena::data::Sequence;
using recarena::data::SequenceSplit;
using recarena::data::SplitConfig;
using recarena::data::SplitKind;
using recarena::data::SplitSequences;
using recarena::data::UserId;
using recarena::testing::MakeDataset;
using recarena::testing::MakeSequence;

namespace {

// n user sequences; sequence u has user u and items {u, u + 1}.
std::vector<Sequence> UserSequences(int n) {
  std::vector<Sequence> seqs;
  for (int u = 0; u < n; ++u) seqs.push_back(MakeSequence(u, {u, u + 1}));
  return seqs;
}

std::vector<UserId> Users(const std::vector<Sequence>& seqs) {
  std::vector<UserId> out;
  for (const auto& s : seqs) out.push_back(s.user);
  return out;
}

SequenceSplit Split(const std::vector<Sequence>& seqs, const SplitConfig& cfg, uint64_t seed,
                    const Dataset& ds = Dataset{}) {
  Rng rng(seed);
  return SplitSequences(ds, seqs, cfg, rng);
}

// Users of train / valid / test as one comparable value.
std::vector<std::vector<UserId>> Assignment(const SequenceSplit& s) {
  return {Users(s.train), Users(s.valid), Users(s.test)};
}

}  // namespace

TEST_CASE("split random: exact counts, disjoint, deterministic per seed", "[splits]") {
  const auto seqs = UserSequences(10);
  SplitConfig cfg;  // 0.8 / 0.1 / 0.1
  auto a = Split(seqs, cfg, 1);
  CHECK(a.train.size() == 8);
  CHECK(a.valid.size() == 1);
  CHECK(a.test.size() == 1);
  std::vector<UserId> all;
  for (const auto& part : Assignment(a)) {
    CHECK(std::is_sorted(part.begin(), part.end()));  // each part keeps input order
    all.insert(all.end(), part.begin(), part.end());
  }
  std::sort(all.begin(), all.end());
  CHECK(all == Users(seqs));  // disjoint and complete

  CHECK(Assignment(Split(seqs, cfg, 1)) == Assignment(a));
  // Other seeds give other splits (at least one of a few; each differs with prob. 89/90).
  bool differs = false;
  for (uint64_t seed = 2; seed < 6; ++seed)
    differs |= Assignment(Split(seqs, cfg, seed)) != Assignment(a);
  CHECK(differs);
}

TEST_CASE("split random: cumulative round-half-up rule", "[splits]") {
  SplitConfig cfg;
  cfg.train = 0.5;
  cfg.valid = 0.25;
  cfg.test = 0.25;
  // n = 5: cuts 2.5 -> 3 and 3.75 -> 4.
  auto s = Split(UserSequences(5), cfg, 3);
  CHECK(s.train.size() == 3);
  CHECK(s.valid.size() == 1);
  CHECK(s.test.size() == 1);
  // n = 7 with 0.8/0.1/0.1: cuts 5.6 -> 6 and 6.3 -> 6.
  s = Split(UserSequences(7), SplitConfig{}, 3);
  CHECK(s.train.size() == 6);
  CHECK(s.valid.size() == 0);
  CHECK(s.test.size() == 1);
  // n = 0 is fine.
  s = Split({}, SplitConfig{}, 3);
  CHECK(s.train.empty());
  CHECK(s.test.empty());
}

TEST_CASE("split leave_one_out: prefixes and single-target eval sequences", "[splits]") {
  std::vector<Sequence> seqs = {MakeSequence(0, {10, 11, 12, 13}), MakeSequence(1, {20, 21}),
                                MakeSequence(2, {30, 31, 32})};
  SplitConfig cfg;
  cfg.kind = SplitKind::kLeaveOneOut;
  auto s = Split(seqs, cfg, 1);
  REQUIRE(s.train.size() == 3);
  REQUIRE(s.valid.size() == 2);
  REQUIRE(s.test.size() == 2);
  CHECK(s.train[0].items == std::vector<ItemId>{10, 11});
  CHECK(s.train[0].timestamps == std::vector<double>{0, 1});
  CHECK(s.train[0].target_from == 1);
  CHECK(s.train[1].items == std::vector<ItemId>{20, 21});  // too short: train only, unchanged
  CHECK(s.train[2].items == std::vector<ItemId>{30});
  CHECK(s.valid[0].items == std::vector<ItemId>{10, 11, 12});
  CHECK(s.valid[0].target_from == 2);
  CHECK(s.valid[1].items == std::vector<ItemId>{30, 31});
  CHECK(s.valid[1].target_from == 1);
  CHECK(s.test[0].items == std::vector<ItemId>{10, 11, 12, 13});
  CHECK(s.test[0].target_from == 3);
  CHECK(s.test[1].user == 2);
  CHECK(s.test[1].target_from == 2);

  // Targets as windows: train 11, 21; valid 12, 31; test 13, 32; one target per eval sequence.
  auto tr = recarena::data::MakeWindows(s.train, 5, 99);
  auto va = recarena::data::MakeWindows(s.valid, 5, 99);
  auto te = recarena::data::MakeWindows(s.test, 5, 99);
  CHECK(tr.targets == std::vector<ItemId>{11, 21});
  CHECK(va.targets == std::vector<ItemId>{12, 31});
  CHECK(te.targets == std::vector<ItemId>{13, 32});
  CHECK(te.positions == std::vector<int32_t>{3, 2});
  CHECK(te.lengths == std::vector<int32_t>{3, 2});
  // Deterministic and independent of the rng.
  CHECK(Users(Split(seqs, cfg, 2).test) == Users(s.test));
}

TEST_CASE("split temporal: first ceil(share * len) items train, rest test targets", "[splits]") {
  std::vector<Sequence> seqs = {MakeSequence(0, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}),
                                MakeSequence(1, {0, 1, 2, 3, 4}), MakeSequence(2, {7})};
  SplitConfig cfg;
  cfg.kind = SplitKind::kTemporal;  // 0.9
  auto s = Split(seqs, cfg, 1);
  REQUIRE(s.train.size() == 3);
  CHECK(s.train[0].size() == 9);  // ceil(9.0) = 9 despite float error
  CHECK(s.train[1].size() == 5);  // ceil(4.5) = 5: all train, no test sequence
  CHECK(s.train[2].size() == 1);
  CHECK(s.valid.empty());
  REQUIRE(s.test.size() == 1);
  CHECK(s.test[0].user == 0);
  CHECK(s.test[0].size() == 10);
  CHECK(s.test[0].target_from == 9);

  cfg.temporal_train_share = 0.5;
  s = Split(seqs, cfg, 1);
  CHECK(s.train[0].size() == 5);
  CHECK(s.train[1].size() == 3);  // ceil(2.5)
  REQUIRE(s.test.size() == 2);
  CHECK(s.test[1].target_from == 3);
  // 0.28 * 25 == 7.000000000000001 in doubles: the cut is 7, not 8.
  std::vector<Sequence> long_seq = {MakeSequence(0, std::vector<ItemId>(25, 1))};
  cfg.temporal_train_share = 0.28;
  auto l = Split(long_seq, cfg, 1);
  CHECK(l.train[0].size() == 7);
  CHECK(l.test[0].target_from == 7);
  // Train targets and test targets of a user never overlap.
  auto tr = recarena::data::MakeWindows({s.train[1]}, 3, 99);
  auto te = recarena::data::MakeWindows({s.test[1]}, 3, 99);
  CHECK(tr.positions == std::vector<int32_t>{1, 2});
  CHECK(te.positions == std::vector<int32_t>{3, 4});
}

TEST_CASE("split last_session: last session test, second-last valid, rest train", "[splits]") {
  // User 0: sessions 4 (t 0..), 2 (t 10..), 9 (t 20..): by time 4, 2, 9.
  // User 1: two sessions; user 2: one session.
  auto sess = [](UserId u, int64_t id, double t0, std::vector<ItemId> items) {
    Sequence s = MakeSequence(u, items, id);
    for (auto& t : s.timestamps) t += t0;
    return s;
  };
  std::vector<Sequence> seqs = {sess(0, 4, 0, {1, 2}),  sess(0, 2, 10, {3, 4}),
                                sess(0, 9, 20, {5, 6}), sess(1, 7, 0, {1, 2}),
                                sess(1, 3, 5, {2, 3}),  sess(2, 8, 0, {4, 5})};
  SplitConfig cfg;
  cfg.kind = SplitKind::kLastSession;
  auto s = Split(seqs, cfg, 1);
  REQUIRE(s.train.size() == 3);
  REQUIRE(s.valid.size() == 1);
  REQUIRE(s.test.size() == 2);
  CHECK(s.train[0].session == 4);
  CHECK(s.train[1].session == 7);
  CHECK(s.train[2].session == 8);
  CHECK(s.valid[0].session == 2);
  CHECK(s.test[0].session == 9);
  CHECK(s.test[0].items == std::vector<ItemId>{5, 6});  // only the session's own items
  CHECK(s.test[0].target_from == 1);
  CHECK(s.test[1].session == 3);

  std::vector<Sequence> by_user = {MakeSequence(0, {1, 2, 3})};
  CHECK_THROWS_WITH(Split(by_user, cfg, 1), Catch::Contains("needs sequences by session"));
}

TEST_CASE("split user: whole users go to train or test, disjoint, seeded", "[splits]") {
  // 10 users with two sequences each.
  std::vector<Sequence> seqs;
  for (int u = 0; u < 10; ++u) {
    seqs.push_back(MakeSequence(u, {1, 2}, 2 * u));
    seqs.push_back(MakeSequence(u, {3, 4}, 2 * u + 1));
  }
  SplitConfig cfg;
  cfg.kind = SplitKind::kUser;  // 0.8
  auto a = Split(seqs, cfg, 11);
  CHECK(a.train.size() == 16);
  CHECK(a.test.size() == 4);
  CHECK(a.valid.empty());
  std::set<UserId> train_users, test_users;
  for (const auto& s : a.train) train_users.insert(s.user);
  for (const auto& s : a.test) test_users.insert(s.user);
  CHECK(train_users.size() == 8);
  CHECK(test_users.size() == 2);
  for (UserId u : test_users) CHECK(train_users.count(u) == 0);

  CHECK(Assignment(Split(seqs, cfg, 11)) == Assignment(a));
  bool differs = false;
  for (uint64_t seed = 12; seed < 16; ++seed)
    differs |= Assignment(Split(seqs, cfg, seed)) != Assignment(a);
  CHECK(differs);

  cfg.user_train_share = 0.25;  // 2.5 users -> 3
  auto b = Split(seqs, cfg, 11);
  CHECK(b.train.size() == 6);
  CHECK(b.test.size() == 14);
}

TEST_CASE("split predefined: sequences built from named parts", "[splits]") {
  Dataset ds = MakeDataset(2, 4,
                           {{0, 0, 1, 1, -1, 0},
                            {0, 1, 2, 1, -1, 0},
                            {0, 2, 3, 1, -1, 1},
                            {1, 3, 1, 1, -1, 1},
                            {1, 0, 2, 1, -1, 2}});
  ds.parts = {"train", "test", "valid"};
  auto seqs = recarena::data::BuildSequences(ds, recarena::data::SequenceUnit::kUser);
  SplitConfig cfg;
  cfg.kind = SplitKind::kPredefined;
  auto s = Split(seqs, cfg, 1, ds);
  REQUIRE(s.train.size() == 1);
  CHECK(s.train[0].items == std::vector<ItemId>{0, 1});
  CHECK(s.valid.empty());
  REQUIRE(s.test.size() == 2);
  CHECK(s.test[0].items == std::vector<ItemId>{2});
  CHECK(s.test[1].items == std::vector<ItemId>{3});
  cfg.valid_part = "valid";
  s = Split(seqs, cfg, 1, ds);
  REQUIRE(s.valid.size() == 1);
  CHECK(s.valid[0].user == 1);
  CHECK(s.valid[0].items == std::vector<ItemId>{0});

  cfg.test_part = "tset";
  CHECK_THROWS_AS(Split(seqs, cfg, 1, ds), recarena::ConfigError);
  CHECK_THROWS_WITH(Split(seqs, cfg, 1, ds), Catch::Contains("'test'") && Catch::Contains("tset"));
}

TEST_CASE("split config: validation and YAML names", "[splits][config]") {
  SplitConfig cfg;
  CHECK_NOTHROW(cfg.Validate());
  cfg.train = 0.7;
  CHECK_THROWS_WITH(cfg.Validate(), Catch::Contains("must sum to 1"));
  cfg = SplitConfig{};
  cfg.valid = -0.1;
  cfg.train = 1.0;
  CHECK_THROWS_WITH(cfg.Validate(), Catch::Contains("split.valid"));
  cfg = SplitConfig{};
  cfg.temporal_train_share = 0.0;
  CHECK_THROWS_AS(cfg.Validate(), recarena::ConfigError);
  cfg = SplitConfig{};
  cfg.kind = SplitKind::kPredefined;
  cfg.test_part = "";
  CHECK_THROWS_WITH(cfg.Validate(), Catch::Contains("split.test_part"));

  CHECK(recarena::config::ParseEnum<SplitKind>("leave_one_out", "split.kind") ==
        SplitKind::kLeaveOneOut);
  CHECK(recarena::config::ParseEnum<SplitKind>("random", "split.kind") ==
        SplitKind::kRandomBySequence);
  CHECK(recarena::config::EnumToString(SplitKind::kLastSession) == "last_session");
  CHECK_THROWS_AS(recarena::config::ParseEnum<SplitKind>("temporl", "split.kind"),
                  recarena::ConfigError);
}
