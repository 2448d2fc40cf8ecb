// The logged policy replayed: sequence matching at an episode's first step, step-by-step replay,
// the popularity fallback when the log runs out, a masked item or an unknown start.
#include <catch2/catch.hpp>

#include "policies/logged_replay.h"

using namespace recarena;

namespace {

data::Sequence Seq(int64_t user, std::vector<int64_t> items) {
  data::Sequence s;
  s.user = static_cast<data::UserId>(user);
  for (auto i : items) s.items.push_back(static_cast<data::ItemId>(i));
  s.timestamps.assign(items.size(), 0.0);
  s.values.assign(items.size(), 1.0f);
  return s;
}

// Two slots, state length 2, catalog of 10 items, every item allowed unless listed.
env::StepResult Result(std::vector<std::vector<int64_t>> histories, std::vector<int64_t> users,
                       std::vector<int64_t> steps, std::vector<int64_t> episodes,
                       std::vector<int64_t> masked = {}) {
  const int64_t B = static_cast<int64_t>(histories.size()), L = 2, N = 10;
  env::StepResult r;
  r.observation.items = torch::full({B, L}, N, torch::kInt64);
  r.observation.lengths = torch::empty({B}, torch::kInt64);
  for (int64_t b = 0; b < B; ++b) {
    const auto& h = histories[static_cast<size_t>(b)];
    for (size_t j = 0; j < h.size(); ++j) r.observation.items[b][static_cast<int64_t>(j)] = h[j];
    r.observation.lengths[b] = static_cast<int64_t>(h.size());
  }
  r.observation.users = torch::tensor(users, torch::kInt64);
  r.observation.step = torch::tensor(steps, torch::kInt64);
  r.candidate_mask = torch::ones({B, N}, torch::kBool);
  for (auto item : masked) r.candidate_mask.select(1, item).fill_(false);
  r.episode_id = episodes;
  return r;
}

}  // namespace

TEST_CASE("logged replay: each episode follows its start user's logged sequence", "[policies]") {
  // User 0 logged two sessions starting with 5 and with 8; user 1 one session.
  const std::vector<data::Sequence> seqs = {Seq(0, {5, 6, 7}), Seq(1, {2, 3}), Seq(0, {8, 4})};
  auto popularity = torch::zeros({10});
  popularity[9] = 5.0;  // the fallback: item 9, then item 0 (ties to the smaller id)
  policies::LoggedReplay replay(seqs, /*initial_items=*/1, popularity);
  // Episode 0 starts from user 0's first session, episode 1 from user 1's.
  auto a = replay.Act(Result({{5}, {2}}, {0, 1}, {0, 0}, {0, 1}));
  CHECK(a[0].item<int64_t>() == 6);
  CHECK(a[1].item<int64_t>() == 3);
  // Next step: user 0 goes on to 7; user 1's log has run out -> most popular.
  a = replay.Act(Result({{5, 6}, {2, 3}}, {0, 1}, {1, 1}, {0, 1}));
  CHECK(a[0].item<int64_t>() == 7);
  CHECK(a[1].item<int64_t>() == 9);
  CHECK(replay.replayed() == 3);
  CHECK(replay.fallback() == 1);
  // A new episode of user 0 from the second session; an unknown start falls back.
  a = replay.Act(Result({{8}, {1}}, {0, 1}, {0, 0}, {2, 3}));
  CHECK(a[0].item<int64_t>() == 4);
  CHECK(a[1].item<int64_t>() == 9);
  // A masked logged item is never recommended: the fallback (9 masked too -> 0) takes its place.
  a = replay.Act(Result({{5}, {2}}, {0, 1}, {0, 0}, {4, 5}, {6, 9}));
  CHECK(a[0].item<int64_t>() == 0);
  CHECK(a[1].item<int64_t>() == 3);
}
