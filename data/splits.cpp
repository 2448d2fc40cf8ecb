#include "data/splits.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <tuple>

#include "core/error.h"
#include "core/strings.h"

namespace recarena::data {

namespace {

// Round half up with a tolerance for float error, clamped to [0, n].
size_t RoundCount(double x, size_t n) {
  const double r = std::floor(x + 0.5 + 1e-9);
  if (r <= 0.0) return 0;
  return std::min(n, static_cast<size_t>(r));
}

// The first n items of s, with target_from as given.
Sequence Prefix(const Sequence& s, int32_t n, int32_t target_from) {
  Sequence out;
  out.user = s.user;
  out.session = s.session;
  out.items.assign(s.items.begin(), s.items.begin() + n);
  out.timestamps.assign(s.timestamps.begin(), s.timestamps.begin() + n);
  out.values.assign(s.values.begin(), s.values.begin() + n);
  out.target_from = target_from;
  return out;
}

void CheckSequence(const Sequence& s, size_t index) {
  if (s.timestamps.size() != s.items.size() || s.values.size() != s.items.size()) {
    throw Error(fmt::format(
        "SplitSequences: sequence {} (user {}) has {} items, {} timestamps and {} values", index,
        s.user, s.items.size(), s.timestamps.size(), s.values.size()));
  }
}

SequenceSplit SplitRandom(const std::vector<Sequence>& seqs, const SplitConfig& cfg, Rng& rng) {
  const size_t n = seqs.size();
  std::vector<size_t> order(n);
  for (size_t i = 0; i < n; ++i) order[i] = i;
  rng.Shuffle(order);
  const size_t cut1 = RoundCount(cfg.train * static_cast<double>(n), n);
  const size_t cut2 =
      std::max(cut1, RoundCount((cfg.train + cfg.valid) * static_cast<double>(n), n));
  std::vector<int> part(n, 0);
  for (size_t k = 0; k < n; ++k) part[order[k]] = k < cut1 ? 0 : (k < cut2 ? 1 : 2);
  SequenceSplit out;
  for (size_t i = 0; i < n; ++i) {
    (part[i] == 0 ? out.train : part[i] == 1 ? out.valid : out.test).push_back(seqs[i]);
  }
  return out;
}

SequenceSplit SplitLeaveOneOut(const std::vector<Sequence>& seqs) {
  SequenceSplit out;
  for (const auto& s : seqs) {
    const int32_t len = s.size();
    if (len < 3) {
      out.train.push_back(s);
      continue;
    }
    out.train.push_back(Prefix(s, len - 2, s.target_from));
    out.valid.push_back(Prefix(s, len - 1, len - 2));
    out.test.push_back(Prefix(s, len, len - 1));
  }
  return out;
}

SequenceSplit SplitLastSession(const std::vector<Sequence>& seqs) {
  std::map<UserId, std::vector<size_t>> by_user;
  for (size_t i = 0; i < seqs.size(); ++i) {
    if (seqs[i].session < 0) {
      throw Error(fmt::format(
          "last_session split needs sequences by session, but sequence {} (user {}) has no "
          "session id; build sequences with unit 'session' (sessionize the log if needed)",
          i, seqs[i].user));
    }
    if (seqs[i].items.empty()) {
      throw Error(
          fmt::format("last_session split: sequence {} (user {}) is empty", i, seqs[i].user));
    }
    by_user[seqs[i].user].push_back(i);
  }
  std::vector<int> part(seqs.size(), 0);
  for (auto& [user, idx] : by_user) {
    std::stable_sort(idx.begin(), idx.end(), [&](size_t a, size_t b) {
      return std::make_tuple(seqs[a].timestamps.front(), seqs[a].session) <
             std::make_tuple(seqs[b].timestamps.front(), seqs[b].session);
    });
    const size_t k = idx.size();
    if (k >= 2) part[idx[k - 1]] = 2;
    if (k >= 3) part[idx[k - 2]] = 1;
  }
  SequenceSplit out;
  for (size_t i = 0; i < seqs.size(); ++i) {
    (part[i] == 0 ? out.train : part[i] == 1 ? out.valid : out.test).push_back(seqs[i]);
  }
  return out;
}

SequenceSplit SplitTemporal(const std::vector<Sequence>& seqs, const SplitConfig& cfg) {
  SequenceSplit out;
  for (const auto& s : seqs) {
    const int32_t len = s.size();
    if (len == 0) continue;
    const double c = std::ceil(cfg.temporal_train_share * static_cast<double>(len) - 1e-9);
    const int32_t cut = std::clamp<int32_t>(static_cast<int32_t>(std::max(c, 1.0)), 1, len);
    out.train.push_back(Prefix(s, cut, s.target_from));
    if (cut < len) out.test.push_back(Prefix(s, len, std::max(cut, s.target_from)));
  }
  return out;
}

SequenceSplit SplitUser(const std::vector<Sequence>& seqs, const SplitConfig& cfg, Rng& rng) {
  std::vector<UserId> users;
  for (const auto& s : seqs) users.push_back(s.user);
  std::sort(users.begin(), users.end());
  users.erase(std::unique(users.begin(), users.end()), users.end());
  rng.Shuffle(users);
  const size_t n_train =
      RoundCount(cfg.user_train_share * static_cast<double>(users.size()), users.size());
  std::map<UserId, bool> is_train;
  for (size_t k = 0; k < users.size(); ++k) is_train[users[k]] = k < n_train;
  SequenceSplit out;
  for (const auto& s : seqs) (is_train[s.user] ? out.train : out.test).push_back(s);
  return out;
}

int FindPart(const Dataset& ds, const std::string& name, const std::string& key) {
  for (size_t i = 0; i < ds.parts.size(); ++i) {
    if (ds.parts[i] == name) return static_cast<int>(i);
  }
  throw ConfigError(
      key, fmt::format("{}: dataset '{}' has no part {}{}; its parts: {}", key, ds.name,
                       QuoteForError(name), DidYouMean(name, ds.parts), Join(ds.parts, ", ")));
}

SequenceSplit SplitPredefined(const Dataset& ds, const std::vector<Sequence>& seqs,
                              const SplitConfig& cfg) {
  SequenceUnit unit = SequenceUnit::kAuto;
  if (!seqs.empty()) {
    unit = SequenceUnit::kUser;
    for (const auto& s : seqs) {
      if (s.session >= 0) unit = SequenceUnit::kSession;
    }
  }
  SequenceSplit out;
  out.train = BuildSequences(ds, unit, {FindPart(ds, cfg.train_part, "split.train_part")});
  if (!cfg.valid_part.empty()) {
    out.valid = BuildSequences(ds, unit, {FindPart(ds, cfg.valid_part, "split.valid_part")});
  }
  out.test = BuildSequences(ds, unit, {FindPart(ds, cfg.test_part, "split.test_part")});
  return out;
}

}  // namespace

void SplitConfig::Validate() const { Validate("split"); }

void SplitConfig::Validate(const std::string& path) const {
  auto key = [&](const char* k) { return path.empty() ? std::string(k) : path + "." + k; };
  auto share = [&](const char* k, double v) {
    if (!(v >= 0.0 && v <= 1.0)) {
      throw ConfigError(key(k), fmt::format("{} must be in [0, 1], got {}", key(k), v));
    }
  };
  share("train", train);
  share("valid", valid);
  share("test", test);
  if (std::fabs(train + valid + test - 1.0) > 1e-9) {
    throw ConfigError(key("train"), fmt::format("{} + {} + {} must sum to 1, got {} + {} + {} = {}",
                                                key("train"), key("valid"), key("test"), train,
                                                valid, test, train + valid + test));
  }
  if (!(temporal_train_share > 0.0 && temporal_train_share <= 1.0)) {
    throw ConfigError(key("temporal_train_share"),
                      fmt::format("{} must be in (0, 1], got {}", key("temporal_train_share"),
                                  temporal_train_share));
  }
  share("user_train_share", user_train_share);
  if (kind == SplitKind::kPredefined) {
    if (train_part.empty()) {
      throw ConfigError(key("train_part"),
                        key("train_part") + " must name a dataset part for kind 'predefined'");
    }
    if (test_part.empty()) {
      throw ConfigError(key("test_part"),
                        key("test_part") + " must name a dataset part for kind 'predefined'");
    }
  }
}

SequenceSplit SplitSequences(const Dataset& ds, const std::vector<Sequence>& seqs,
                             const SplitConfig& cfg, Rng& rng) {
  cfg.Validate();
  for (size_t i = 0; i < seqs.size(); ++i) CheckSequence(seqs[i], i);
  switch (cfg.kind) {
    case SplitKind::kRandomBySequence:
      return SplitRandom(seqs, cfg, rng);
    case SplitKind::kLeaveOneOut:
      return SplitLeaveOneOut(seqs);
    case SplitKind::kLastSession:
      return SplitLastSession(seqs);
    case SplitKind::kTemporal:
      return SplitTemporal(seqs, cfg);
    case SplitKind::kUser:
      return SplitUser(seqs, cfg, rng);
    case SplitKind::kPredefined:
      return SplitPredefined(ds, seqs, cfg);
  }
  throw Error("SplitSequences: unknown split kind");
}

}  // namespace recarena::data
