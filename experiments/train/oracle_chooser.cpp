#include "experiments/train/oracle_chooser.h"

#include <chrono>
#include <string>

#include "core/error.h"

namespace recarena::experiments {

env::Observation HistoryObservation(const std::vector<std::vector<int64_t>>& histories,
                                    const std::vector<int64_t>& users, int64_t L, int64_t pad,
                                    int64_t step) {
  const int64_t B = static_cast<int64_t>(histories.size());
  auto items = torch::full({B, L}, pad, torch::kInt64);
  auto lengths = torch::empty({B}, torch::kInt64);
  auto* ip = items.data_ptr<int64_t>();
  auto* lp = lengths.data_ptr<int64_t>();
  for (int64_t b = 0; b < B; ++b) {
    const auto& h = histories[static_cast<size_t>(b)];
    const int64_t n = std::min<int64_t>(L, static_cast<int64_t>(h.size()));
    for (int64_t j = 0; j < n; ++j) ip[b * L + j] = h[h.size() - static_cast<size_t>(n - j)];
    lp[b] = n;
  }
  env::Observation o;
  o.items = items;
  o.lengths = lengths;
  o.users = torch::tensor(users, torch::kInt64);
  o.step = torch::full({B}, step, torch::kInt64);
  return o;
}

OracleChooser::OracleChooser(std::shared_ptr<const env::Simulator> truth, double min_reward)
    : truth_(std::move(truth)), min_reward_(min_reward) {
  if (!truth_) throw Error("OracleChooser: no simulator");
}

std::vector<agents::ChoiceResult> OracleChooser::Choose(const std::vector<agents::ChoiceQuery>& q) {
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<std::vector<int64_t>> hist;
  std::vector<int64_t> users;
  for (const auto& query : q) {
    hist.push_back(query.history);
    users.push_back(std::max<int64_t>(query.user, 0));
  }
  const auto obs = HistoryObservation(hist, users, truth_->state_len, truth_->num_items, 0);
  torch::Tensor expected;
  {
    torch::NoGradGuard ng;
    expected =
        truth_->response->ExpectedAll(env::ResponseInput{obs.items, obs.lengths, obs.users, {}})
            .to(torch::kCPU, torch::kDouble)
            .contiguous();
  }
  const int64_t N = expected.size(1);
  const double* ep = expected.data_ptr<double>();
  std::vector<llm_bridge::Choice> choices(q.size());
  last_answers_.assign(q.size(), std::string());
  for (size_t b = 0; b < q.size(); ++b) {
    const auto& c = q[b].candidates;
    int64_t best = -1;
    double best_v = 0;
    for (size_t j = 0; j < c.size(); ++j) {
      const double v = ep[static_cast<int64_t>(b) * N + c[j]];
      if (best < 0 || v > best_v) {
        best = static_cast<int64_t>(j);
        best_v = v;
      }
    }
    if (best >= 0 && best_v >= min_reward_) {
      choices[b] = {llm_bridge::ChoiceKind::kLetter, best};
      last_answers_[b] = std::string(1, static_cast<char>('a' + best));
    } else {
      choices[b] = {llm_bridge::ChoiceKind::kNone, -1};
      last_answers_[b] = "none";
    }
  }
  return Record(std::move(choices),
                std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
}

}  // namespace recarena::experiments
