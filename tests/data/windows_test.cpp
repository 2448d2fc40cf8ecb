#include <catch2/catch.hpp>

#include <vector>

#include "core/error.h"
#include "data/prep_fixtures.h"
#include "data/windows.h"

using recarena::data::ItemId;
using recarena::data::MakeWindows;
using recarena::data::Sequence;
using recarena::testing::MakeSequence;

TEST_CASE("windows: right padding, lengths, truncation to state_len", "[windows]") {
  Sequence s = MakeSequence(7, {10, 11, 12, 13});
  s.values = {0.5f, 1.5f, 2.5f, 3.5f};
  auto w = MakeWindows({s}, 2, 99);
  REQUIRE(w.size() == 3);
  CHECK(w.state_len == 2);
  CHECK(w.padding_id == 99);
  CHECK(w.states == std::vector<ItemId>{10, 99,    // t=1
                                        10, 11,    // t=2
                                        11, 12});  // t=3: truncated to the last 2
  CHECK(w.lengths == std::vector<int32_t>{1, 2, 2});
  CHECK(w.targets == std::vector<ItemId>{11, 12, 13});
  CHECK(w.values == std::vector<float>{1.5f, 2.5f, 3.5f});
  CHECK(w.users == std::vector<int32_t>{7, 7, 7});
  CHECK(w.positions == std::vector<int32_t>{1, 2, 3});
  CHECK(w.sequence_index == std::vector<int32_t>{0, 0, 0});

  auto wide = MakeWindows({s}, 4, 99);
  CHECK(wide.states == std::vector<ItemId>{10, 99, 99, 99,  //
                                           10, 11, 99, 99,  //
                                           10, 11, 12, 99});
  CHECK(wide.lengths == std::vector<int32_t>{1, 2, 3});
}

TEST_CASE("windows: target_from, short sequences, sequence index", "[windows]") {
  Sequence a = MakeSequence(1, {5, 6, 7, 8});
  a.target_from = 3;
  Sequence empty = MakeSequence(2, {});
  Sequence single = MakeSequence(3, {4});
  Sequence b = MakeSequence(4, {1, 2});
  b.target_from = 0;  // treated as 1: position 0 has no history
  auto w = MakeWindows({a, empty, single, b}, 3, 50);
  REQUIRE(w.size() == 2);
  CHECK(w.targets == std::vector<ItemId>{8, 2});
  CHECK(w.positions == std::vector<int32_t>{3, 1});
  CHECK(w.sequence_index == std::vector<int32_t>{0, 3});
  CHECK(w.users == std::vector<int32_t>{1, 4});
  CHECK(w.states == std::vector<ItemId>{5, 6, 7, 1, 50, 50});
  CHECK(w.lengths == std::vector<int32_t>{3, 1});

  a.target_from = 4;  // past the end: no targets
  CHECK(MakeWindows({a}, 3, 50).size() == 0);
}

TEST_CASE("windows: invalid state_len", "[windows][config]") {
  CHECK_THROWS_AS(MakeWindows({MakeSequence(0, {1, 2})}, 0, 9), recarena::Error);
  recarena::data::WindowConfig cfg;
  CHECK_NOTHROW(cfg.Validate());
  cfg.state_len = 0;
  CHECK_THROWS_WITH(cfg.Validate(), Catch::Contains("window.state_len"));
  CHECK_THROWS_AS(cfg.Validate(), recarena::ConfigError);
}
