// Data for HDT (thesis Ch. 5): user-parallel mini-batches (Fig. 5.2), the last-session test
// protocol (Sec. 5.4.1) and the per-user inference query.
//
// Sessionization (the 60-minute gap of Sec. 5.4.1) is the data layer's job: env::PreprocessOptions
// has sessionize / session_gap_minutes (default 60; a gap strictly greater starts a new session).
// Here a user is already a chronological list of sessions, each a list of item ids.
//
// User-parallel mini-batches (Fig. 5.2). Slots 0..batch_size-1 are filled with the first users (in
// the given order; shuffle beforehand with your own RNG if wanted). Each batch holds one row per
// occupied slot (in slot order) with that user's next session; then every slot advances by one
// session. When a user has no session left, the next unused user takes over the slot (the row is
// flagged new_user, so the agent resets s_c to 0). When no user is left to take over, the slot
// stays empty and later batches are simply smaller (rows are only ever real sessions: no padding
// rows); the sequence ends when every slot is empty.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <vector>

#include "agents/session_returns.h"
#include "core/config_schema.h"

namespace recarena::agents {

// One user's sessions in chronological order, each a list of item ids in [0, num_items).
struct UserSessions {
  int64_t user = 0;
  std::vector<std::vector<int64_t>> sessions;
};

// Config section `hdt_data`.
struct HdtDataOptions {
  int64_t batch_size = 100;      // users per mini-batch (thesis: 100 Album, 200 Reddit)
  int64_t min_sessions = 5;      // users with fewer usable sessions are dropped (thesis: 5)
  int64_t max_session_len = 20;  // longer sessions keep their most recent items (thesis: 20)
  double novel_share = 0.9;      // I_nov = the bottom 90% of items by training frequency

  template <class V>
  void Visit(V& v) {
    v("batch_size", batch_size);
    v("min_sessions", min_sessions);
    v("max_session_len", max_session_len);
    v("novel_share", novel_share);
  }
  // Throws ConfigError("hdt_data.<key>", ...): batch_size >= 1, min_sessions >= 1,
  // max_session_len >= 2, novel_share in [0, 1].
  void Validate() const;
};

// What the returns are computed from.
struct HdtReturnInputs {
  ItemVectors item_vectors;    // row i = vector of item i (e.g. a pre-trained item embedding)
  double dis_max = 2.0;        // Eq. 5.2 (see MaxPairwiseDissimilarity)
  std::vector<bool> is_novel;  // I_nov (see NovelItemSet), size num_items
};

// A user-parallel mini-batch: row b = the session C_c of one user. CPU tensors (the agent moves
// them). With L = the longest session of the batch and T = L - 1 steps:
struct HdtBatch {
  torch::Tensor slots;          // [B] int64: the slot of each row (carries s_c between batches)
  torch::Tensor new_user;       // [B] bool: C_c is the user's first session (s_c := 0)
  torch::Tensor users;          // [B] int64: UserSessions::user
  torch::Tensor items;          // [B, L] int64: x_{c,1..len}, right-padded with num_items
  torch::Tensor lengths;        // [B] int64: session length len >= 2 (steps = len - 1)
  torch::Tensor actions;        // [B, T] int64: a_{c,t} = x_{c,t+1}, padded with num_items
  torch::Tensor first_items;    // [B] int64: x_{c,1}, the target of L_g (Eq. 5.16)
  torch::Tensor inter_returns;  // [B] float: R_c (Eq. 5.2)
  torch::Tensor unexpected_returns;  // [B, T] float: R_{c,t} (Eq. 5.8), 0 at padding
  torch::Tensor novelty_returns;     // [B, T] float: R^n_{c,t} (Eq. 5.7), 0 at padding
};

// Cleans users: truncates every session to its last max_session_len items, drops sessions with
// fewer than 2 items (no action to predict), then drops users left with < min_sessions sessions.
// Item ids must lie in [0, num_items) (else recarena::Error).
std::vector<UserSessions> PrepareUsers(const std::vector<UserSessions>& users,
                                       const HdtDataOptions& options, int64_t num_items);

// Per-item interaction counts over all sessions (for NovelItemSet).
std::vector<int64_t> ItemCounts(const std::vector<UserSessions>& users, int64_t num_items);

// The user-parallel mini-batches of Fig. 5.2 (see top of file) over users as given (normally the
// output of PrepareUsers or SplitLastSession(...).train; no user is dropped here). Every session
// must hold >= 2 items in [0, num_items) (else recarena::Error); users without sessions take no
// slot. batch_size >= 1. Returns are computed per user from that user's sessions as given.
std::vector<HdtBatch> BuildUserParallelBatches(const std::vector<UserSessions>& users,
                                               const HdtReturnInputs& returns, int64_t batch_size,
                                               int64_t num_items);

// Last-session split (Sec. 5.4.1): train = each user's sessions but the last; test = the whole
// user, whose last session is the test session. Users with < 2 sessions have no test session and
// are left out of both parts. Apply PrepareUsers first (min_sessions counts all sessions, the test
// one included, as in the thesis' "users with at least five sessions").
struct HdtSplit {
  std::vector<UserSessions> train;
  std::vector<UserSessions> test;
};
HdtSplit SplitLastSession(const std::vector<UserSessions>& users);

// One inference query: the next item of the last (current) session given the earlier sessions.
struct HdtQuery {
  int64_t user = 0;
  std::vector<std::vector<int64_t>> history;  // C_1..C_{c-1} (each >= 1 item; may be empty)
  std::vector<double> history_returns;        // R_1..R_{c-1} (Eq. 5.2), one per history session
  double inter_return = 0.0;                  // the target R_c of the current session
  std::vector<int64_t> current;               // x_{c,1..t}, 1 <= t <= max_session_len - 1
  std::vector<double> novelty_returns;        // the targets R^n_{c,1..t}, size t
  int64_t target = -1;                        // x_{c,t+1} when known (evaluation), else -1
};

// The test queries of Sec. 5.4.1 for the users of split.test: for each user with sessions
// C_1..C_m and each t = 1..len(C_m) - 1, history = C_1..C_{m-1}, current = x_{m,1..t}, target =
// x_{m,t+1}. history_returns are Eq. 5.2 over the history. The unknown targets are set as:
// inter_return = dis_max - dis(C_1..C_{m-1} and x_{m,1..t}) (the return observed so far);
// novelty_returns[k-1] = (novel items among x_{m,k+1..t}) + 1, the item to predict counted as novel
// (Sec. 5.3.4: "the predicted item is treated as novel during inference").
std::vector<HdtQuery> BuildTestQueries(const std::vector<UserSessions>& test_users,
                                       const HdtReturnInputs& returns);

}  // namespace recarena::agents
