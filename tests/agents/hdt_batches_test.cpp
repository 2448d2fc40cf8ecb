#include <catch2/catch.hpp>

#include <torch/torch.h>

#include "agents/hdt_batches.h"
#include "core/error.h"

using recarena::agents::HdtBatch;
using recarena::agents::HdtDataOptions;
using recarena::agents::HdtReturnInputs;
using recarena::agents::UserSessions;

namespace {
HdtReturnInputs Returns() {
  HdtReturnInputs r;
  r.item_vectors = {{1, 0}, {0, 1}, {1, 1}, {-1, 0}, {1, -1}};
  r.dis_max = 2.0;
  r.is_novel = {false, true, true, true, false};
  return r;
}
std::vector<UserSessions> ThreeUsers() {
  return {{10, {{0, 1}, {2, 3, 4}}}, {20, {{1, 2}, {3, 4}, {0, 2}}}, {30, {{4, 0, 1}, {2, 3}}}};
}
std::vector<int64_t> Ints(const torch::Tensor& t) {
  const torch::Tensor c = t.to(torch::kInt64).contiguous();
  return {c.data_ptr<int64_t>(), c.data_ptr<int64_t>() + c.numel()};
}
}  // namespace

TEST_CASE("hdt batches: user-parallel mini-batches of Fig. 5.2 on 3 users", "[agents][hdt]") {
  const HdtReturnInputs ret = Returns();
  const auto users = ThreeUsers();
  const auto batches = recarena::agents::BuildUserParallelBatches(users, ret, 2, 5);
  REQUIRE(batches.size() == 4);
  // 1: A's and B's first sessions.
  CHECK(Ints(batches[0].slots) == std::vector<int64_t>{0, 1});
  CHECK(Ints(batches[0].users) == std::vector<int64_t>{10, 20});
  CHECK(Ints(batches[0].new_user) == std::vector<int64_t>{1, 1});
  CHECK(Ints(batches[0].items.flatten()) == std::vector<int64_t>{0, 1, 1, 2});
  CHECK(Ints(batches[0].actions.flatten()) == std::vector<int64_t>{1, 2});
  // 2: second sessions, padded with num_items = 5.
  const HdtBatch& b2 = batches[1];
  CHECK(Ints(b2.users) == std::vector<int64_t>{10, 20});
  CHECK(Ints(b2.new_user) == std::vector<int64_t>{0, 0});
  CHECK(Ints(b2.items.flatten()) == std::vector<int64_t>{2, 3, 4, 3, 4, 5});
  CHECK(Ints(b2.lengths) == std::vector<int64_t>{3, 2});
  CHECK(Ints(b2.actions.flatten()) == std::vector<int64_t>{3, 4, 4, 5});
  CHECK(Ints(b2.first_items) == std::vector<int64_t>{2, 3});
  const auto inter_a =
      recarena::agents::InterSessionUnexpectedReturns(users[0].sessions, ret.item_vectors, 2.0);
  CHECK(b2.inter_returns[0].item<double>() == Approx(inter_a[1]));
  const auto unexp = recarena::agents::IntraSessionUnexpectedReturns({2, 3, 4}, ret.item_vectors);
  CHECK(b2.unexpected_returns[0][0].item<double>() == Approx(unexp[0]));
  CHECK(b2.unexpected_returns[0][1].item<double>() == Approx(unexp[1]));
  CHECK(b2.unexpected_returns[1][1].item<double>() == 0.0);  // padding
  // Novelty: A's {2, 3, 4}: x_{2..3} = {3 (novel), 4} -> 1, x_3 = {4} -> 0.
  CHECK(b2.novelty_returns[0][0].item<double>() == 1.0);
  CHECK(b2.novelty_returns[0][1].item<double>() == 0.0);
  // 3: A is done, C (new user) takes slot 0; B continues in slot 1.
  CHECK(Ints(batches[2].slots) == std::vector<int64_t>{0, 1});
  CHECK(Ints(batches[2].users) == std::vector<int64_t>{30, 20});
  CHECK(Ints(batches[2].new_user) == std::vector<int64_t>{1, 0});
  // 4: B is done and no user is left: the batch shrinks to C alone.
  CHECK(Ints(batches[3].slots) == std::vector<int64_t>{0});
  CHECK(Ints(batches[3].users) == std::vector<int64_t>{30});
  CHECK(Ints(batches[3].items.flatten()) == std::vector<int64_t>{2, 3});
  // Batch size 1: one user after the other.
  CHECK(recarena::agents::BuildUserParallelBatches(users, ret, 1, 5).size() == 7);
  CHECK_THROWS_AS(recarena::agents::BuildUserParallelBatches({{1, {{0}}}}, ret, 1, 5),
                  recarena::Error);
}

TEST_CASE("hdt batches: PrepareUsers truncates, drops short sessions and users", "[agents][hdt]") {
  HdtDataOptions opts;
  opts.min_sessions = 2;
  opts.max_session_len = 3;
  const std::vector<UserSessions> users = {{1, {{0, 1, 2, 3, 4}, {2}, {3, 4}}}, {2, {{0, 1}, {1}}}};
  const auto out = recarena::agents::PrepareUsers(users, opts, 5);
  REQUIRE(out.size() == 1);
  CHECK(out[0].user == 1);
  CHECK(out[0].sessions == std::vector<std::vector<int64_t>>{{2, 3, 4}, {3, 4}});
  CHECK_THROWS_AS(recarena::agents::PrepareUsers({{1, {{0, 9}}}}, opts, 5), recarena::Error);
  opts.max_session_len = 1;
  CHECK_THROWS_WITH(opts.Validate(), Catch::Contains("hdt_data.max_session_len"));
}

TEST_CASE("hdt batches: last-session split and test queries (Sec. 5.4.1)", "[agents][hdt]") {
  const HdtReturnInputs ret = Returns();
  const auto split = recarena::agents::SplitLastSession(ThreeUsers());
  REQUIRE(split.train.size() == 3);
  CHECK(split.train[1].sessions == std::vector<std::vector<int64_t>>{{1, 2}, {3, 4}});
  const auto queries = recarena::agents::BuildTestQueries(split.test, ret);
  // A's last session has 3 items (2 queries), B's and C's 2 items (1 query each).
  REQUIRE(queries.size() == 4);
  CHECK(queries[0].user == 10);
  CHECK(queries[0].history == std::vector<std::vector<int64_t>>{{0, 1}});
  CHECK(queries[0].current == std::vector<int64_t>{2});
  CHECK(queries[0].target == 3);
  CHECK(queries[1].current == std::vector<int64_t>{2, 3});
  CHECK(queries[1].target == 4);
  // Observed novelty of x_{k+1..t} plus 1 for the item to predict: k = 1 sees 3 (novel).
  CHECK(queries[1].novelty_returns == std::vector<double>{2.0, 1.0});
  CHECK(queries[0].history_returns[0] == Approx(1.0));  // 2 - dis({0, 1}) = 2 - 1
  CHECK(queries[1].inter_return ==
        Approx(2.0 - recarena::agents::AverageDissimilarity({0, 1, 2, 3}, ret.item_vectors)));
  const auto& b = queries[2];
  CHECK(b.user == 20);
  CHECK(b.history.size() == 2);
  CHECK(b.current == std::vector<int64_t>{0});
  CHECK(b.target == 2);
}
