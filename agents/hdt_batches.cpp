#include "agents/hdt_batches.h"

#include <algorithm>
#include <string>

#include "core/error.h"

namespace recarena::agents {

namespace {

void CheckItem(int64_t item, int64_t num_items) {
  if (item < 0 || item >= num_items) {
    throw Error("HDT data: item id " + std::to_string(item) + " outside [0, " +
                std::to_string(num_items) + ")");
  }
}

torch::Tensor ToFloat(const std::vector<double>& v) {
  return torch::tensor(v, torch::kDouble).to(torch::kFloat);
}

}  // namespace

void HdtDataOptions::Validate() const {
  auto fail = [](const std::string& key, const std::string& what) {
    throw ConfigError("hdt_data." + key, "hdt_data." + key + " " + what);
  };
  if (batch_size < 1) fail("batch_size", "must be >= 1, got " + std::to_string(batch_size));
  if (min_sessions < 1) fail("min_sessions", "must be >= 1, got " + std::to_string(min_sessions));
  if (max_session_len < 2) {
    fail("max_session_len", "must be >= 2, got " + std::to_string(max_session_len));
  }
  if (!(novel_share >= 0.0 && novel_share <= 1.0)) {
    fail("novel_share", "must lie in [0, 1], got " + std::to_string(novel_share));
  }
}

std::vector<UserSessions> PrepareUsers(const std::vector<UserSessions>& users,
                                       const HdtDataOptions& options, int64_t num_items) {
  options.Validate();
  std::vector<UserSessions> out;
  for (const auto& user : users) {
    UserSessions kept{user.user, {}};
    for (const auto& session : user.sessions) {
      for (int64_t item : session) CheckItem(item, num_items);
      if (session.size() < 2) continue;
      const size_t keep = std::min(session.size(), static_cast<size_t>(options.max_session_len));
      kept.sessions.emplace_back(session.end() - static_cast<std::ptrdiff_t>(keep), session.end());
    }
    if (static_cast<int64_t>(kept.sessions.size()) >= options.min_sessions) {
      out.push_back(std::move(kept));
    }
  }
  return out;
}

std::vector<int64_t> ItemCounts(const std::vector<UserSessions>& users, int64_t num_items) {
  std::vector<int64_t> counts(static_cast<size_t>(num_items), 0);
  for (const auto& user : users) {
    for (const auto& session : user.sessions) {
      for (int64_t item : session) {
        CheckItem(item, num_items);
        ++counts[static_cast<size_t>(item)];
      }
    }
  }
  return counts;
}

std::vector<HdtBatch> BuildUserParallelBatches(const std::vector<UserSessions>& users,
                                               const HdtReturnInputs& returns, int64_t batch_size,
                                               int64_t num_items) {
  if (batch_size < 1) throw Error("BuildUserParallelBatches: batch_size must be >= 1");
  std::vector<size_t> order;  // users that take a slot
  std::vector<std::vector<double>> inter(users.size());
  for (size_t u = 0; u < users.size(); ++u) {
    if (users[u].sessions.empty()) continue;
    for (const auto& session : users[u].sessions) {
      if (session.size() < 2) {
        throw Error("BuildUserParallelBatches: user " + std::to_string(users[u].user) +
                    " has a session with < 2 items (run PrepareUsers first)");
      }
      for (int64_t item : session) CheckItem(item, num_items);
    }
    inter[u] =
        InterSessionUnexpectedReturns(users[u].sessions, returns.item_vectors, returns.dis_max);
    order.push_back(u);
  }

  struct Slot {
    bool active = false;
    size_t user = 0;
    size_t session = 0;
  };
  std::vector<Slot> slots(static_cast<size_t>(batch_size));
  size_t next_user = 0;
  for (auto& slot : slots) {
    if (next_user < order.size()) slot = {true, order[next_user++], 0};
  }

  std::vector<HdtBatch> batches;
  while (true) {
    std::vector<int64_t> rows;
    for (size_t s = 0; s < slots.size(); ++s) {
      if (slots[s].active) rows.push_back(static_cast<int64_t>(s));
    }
    if (rows.empty()) break;
    const int64_t B = static_cast<int64_t>(rows.size());
    int64_t L = 0;
    for (int64_t s : rows) {
      const auto& slot = slots[static_cast<size_t>(s)];
      L = std::max<int64_t>(L, users[slot.user].sessions[slot.session].size());
    }
    const int64_t T = L - 1;
    HdtBatch batch;
    batch.slots = torch::tensor(rows, torch::kInt64);
    batch.new_user = torch::zeros({B}, torch::kBool);
    batch.users = torch::zeros({B}, torch::kInt64);
    batch.items = torch::full({B, L}, num_items, torch::kInt64);
    batch.lengths = torch::zeros({B}, torch::kInt64);
    batch.actions = torch::full({B, T}, num_items, torch::kInt64);
    batch.first_items = torch::zeros({B}, torch::kInt64);
    batch.inter_returns = torch::zeros({B}, torch::kFloat);
    batch.unexpected_returns = torch::zeros({B, T}, torch::kFloat);
    batch.novelty_returns = torch::zeros({B, T}, torch::kFloat);
    for (int64_t b = 0; b < B; ++b) {
      const auto& slot = slots[static_cast<size_t>(rows[b])];
      const auto& session = users[slot.user].sessions[slot.session];
      const int64_t len = static_cast<int64_t>(session.size());
      const torch::Tensor ids = torch::tensor(session, torch::kInt64);
      batch.new_user[b] = slot.session == 0;
      batch.users[b] = users[slot.user].user;
      batch.items[b].narrow(0, 0, len).copy_(ids);
      batch.lengths[b] = len;
      batch.actions[b].narrow(0, 0, len - 1).copy_(ids.narrow(0, 1, len - 1));
      batch.first_items[b] = session.front();
      batch.inter_returns[b] = inter[slot.user][slot.session];
      batch.unexpected_returns[b]
          .narrow(0, 0, len - 1)
          .copy_(ToFloat(IntraSessionUnexpectedReturns(session, returns.item_vectors))
                     .narrow(0, 0, len - 1));
      batch.novelty_returns[b]
          .narrow(0, 0, len - 1)
          .copy_(
              ToFloat(IntraSessionNoveltyReturns(session, returns.is_novel)).narrow(0, 0, len - 1));
    }
    batches.push_back(std::move(batch));
    for (auto& slot : slots) {
      if (!slot.active) continue;
      if (++slot.session < users[slot.user].sessions.size()) continue;
      if (next_user < order.size()) {
        slot = {true, order[next_user++], 0};
      } else {
        slot.active = false;
      }
    }
  }
  return batches;
}

HdtSplit SplitLastSession(const std::vector<UserSessions>& users) {
  HdtSplit split;
  for (const auto& user : users) {
    if (user.sessions.size() < 2) continue;
    split.test.push_back(user);
    split.train.push_back({user.user, {user.sessions.begin(), user.sessions.end() - 1}});
  }
  return split;
}

std::vector<HdtQuery> BuildTestQueries(const std::vector<UserSessions>& test_users,
                                       const HdtReturnInputs& returns) {
  std::vector<HdtQuery> out;
  if (returns.item_vectors.empty()) throw Error("BuildTestQueries: no item vectors");
  const int64_t dim = static_cast<int64_t>(returns.item_vectors.front().size());
  for (const auto& user : test_users) {
    if (user.sessions.size() < 2) continue;
    const std::vector<std::vector<int64_t>> history(user.sessions.begin(), user.sessions.end() - 1);
    const std::vector<int64_t>& last = user.sessions.back();
    const std::vector<double> history_returns =
        InterSessionUnexpectedReturns(history, returns.item_vectors, returns.dis_max);
    DissimilarityAccumulator seen(dim);
    for (const auto& session : history) {
      for (int64_t item : session) seen.Add(returns.item_vectors.at(static_cast<size_t>(item)));
    }
    for (size_t t = 1; t < last.size(); ++t) {
      seen.Add(returns.item_vectors.at(static_cast<size_t>(last[t - 1])));
      HdtQuery q;
      q.user = user.user;
      q.history = history;
      q.history_returns = history_returns;
      q.inter_return = returns.dis_max - seen.Value();
      q.current.assign(last.begin(), last.begin() + static_cast<std::ptrdiff_t>(t));
      // Observed novelty among x_{k+1..t} plus 1 for the (novel-by-assumption) item to predict.
      const std::vector<double> observed = IntraSessionNoveltyReturns(q.current, returns.is_novel);
      for (double r : observed) q.novelty_returns.push_back(r + 1.0);
      q.target = last[t];
      out.push_back(std::move(q));
    }
  }
  return out;
}

}  // namespace recarena::agents
