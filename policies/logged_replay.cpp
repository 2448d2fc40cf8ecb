#include "policies/logged_replay.h"

#include <algorithm>

#include "policies/baseline_policies.h"

namespace recarena::policies {

LoggedReplay::LoggedReplay(const std::vector<data::Sequence>& seqs, int64_t initial_items,
                           torch::Tensor popularity)
    : seqs_(&seqs), initial_items_(initial_items), popularity_(std::move(popularity)) {
  for (size_t i = 0; i < seqs.size(); ++i) {
    if (seqs[i].size() > 0) by_user_[seqs[i].user].push_back(i);
  }
}

torch::Tensor LoggedReplay::Act(const env::StepResult& r) {
  const auto& obs = r.observation;
  const int64_t B = obs.items.size(0);
  auto items = obs.items.to(torch::kCPU).contiguous();
  auto lengths = obs.lengths.to(torch::kCPU).contiguous();
  auto users = obs.users.to(torch::kCPU).contiguous();
  auto steps = obs.step.to(torch::kCPU).contiguous();
  auto mask = r.candidate_mask.to(torch::kCPU).contiguous();
  const int64_t L = items.size(1), N = mask.size(1);
  const int64_t* ip = items.data_ptr<int64_t>();
  const bool* mp = mask.data_ptr<bool>();
  auto fallback = PopularActions(r.candidate_mask, popularity_).to(torch::kCPU).contiguous();
  std::vector<int64_t> out(static_cast<size_t>(B));
  for (int64_t b = 0; b < B; ++b) {
    const int64_t episode = r.episode_id[static_cast<size_t>(b)];
    const int64_t step = steps.data_ptr<int64_t>()[b];
    if (step == 0 && !episode_seq_.count(episode)) {
      // The observed history is the last (up to L) start items: find the sequence it came from.
      const int64_t len = lengths.data_ptr<int64_t>()[b];
      const int64_t user = users.data_ptr<int64_t>()[b];
      int64_t match = -1;
      auto it = by_user_.find(user);
      if (it != by_user_.end()) {
        for (size_t idx : it->second) {
          const auto& s = (*seqs_)[idx];
          const int64_t k = std::min<int64_t>(initial_items_, s.size());
          if (std::min(k, L) != len) continue;
          bool same = true;
          for (int64_t j = 0; j < len && same; ++j) {
            same = s.items[static_cast<size_t>(k - len + j)] == ip[b * L + j];
          }
          if (same) {
            match = static_cast<int64_t>(idx);
            break;
          }
        }
      }
      episode_seq_[episode] = match;
    }
    const auto found = episode_seq_.find(episode);
    const int64_t seq = found == episode_seq_.end() ? -1 : found->second;
    int64_t action = -1;
    if (seq >= 0) {
      const auto& s = (*seqs_)[static_cast<size_t>(seq)];
      const int64_t pos = std::min<int64_t>(initial_items_, s.size()) + step;
      if (pos < s.size()) {
        const int64_t item = s.items[static_cast<size_t>(pos)];
        if (item >= 0 && item < N && mp[b * N + item]) action = item;
      }
    }
    if (action >= 0) {
      ++replayed_;
    } else {
      action = fallback.data_ptr<int64_t>()[b];
      ++fallback_;
    }
    out[static_cast<size_t>(b)] = action;
  }
  return torch::tensor(out, torch::kInt64).to(r.candidate_mask.device());
}

}  // namespace recarena::policies
