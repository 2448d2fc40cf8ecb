#include "experiments/train/session_data.h"

#include <fmt/format.h>

#include <map>
#include <set>

#include "agents/session_returns.h"
#include "core/error.h"
#include "core/log.h"
#include "core/rng.h"
#include "data/sequences.h"

namespace recarena::experiments {

namespace {

// Above this many distinct item vectors dis_max is the bound 2 (MaxPairwiseDissimilarity is
// quadratic).
constexpr size_t kMaxExactDisMax = 20000;

double DisMax(const agents::ItemVectors& vectors) {
  // Identical rows never give the maximum pair (their 1 - cos is 0), so distinct rows suffice.
  const std::set<std::vector<double>> distinct(vectors.begin(), vectors.end());
  if (distinct.size() > kMaxExactDisMax) return 2.0;
  return agents::MaxPairwiseDissimilarity(agents::ItemVectors(distinct.begin(), distinct.end()));
}

std::vector<agents::UserSessions> GroupByUser(const data::Dataset& ds) {
  for (const auto& x : ds.interactions) {
    if (x.session < 0) {
      throw ConfigError("data.preprocess.sessionize",
                        fmt::format("session models need sessions, but dataset '{}' has "
                                    "interactions without a session id; set "
                                    "data.preprocess.sessionize: true",
                                    ds.name));
    }
  }
  std::vector<agents::UserSessions> users;
  // Sequences come ordered by (user, first timestamp, session).
  for (const data::Sequence& s : data::BuildSequences(ds, data::SequenceUnit::kSession)) {
    if (users.empty() || users.back().user != s.user) users.push_back({s.user, {}});
    users.back().sessions.emplace_back(s.items.begin(), s.items.end());
  }
  return users;
}

agents::UserSessions DropLast(const agents::UserSessions& u, size_t n) {
  return {u.user, {u.sessions.begin(), u.sessions.end() - static_cast<std::ptrdiff_t>(n)}};
}

}  // namespace

agents::ItemVectors MakeItemVectors(const data::Dataset& ds, const SessionRunConfig& cfg,
                                    uint64_t seed) {
  const auto n = static_cast<size_t>(ds.items.size());
  agents::ItemVectors vectors;
  switch (cfg.item_vectors) {
    case ItemVectorSource::kCategories: {
      std::map<std::string, size_t> index;
      for (const auto& cats : ds.items.categories)
        for (const auto& c : cats) index.emplace(c, 0);
      if (index.empty()) {
        throw ConfigError("session.item_vectors",
                          fmt::format("session.item_vectors is categories, but dataset '{}' has no "
                                      "item categories; use features or random",
                                      ds.name));
      }
      size_t k = 0;
      for (auto& [name, col] : index) col = k++;
      vectors.assign(n, std::vector<double>(index.size(), 0.0));
      for (size_t i = 0; i < n && i < ds.items.categories.size(); ++i)
        for (const auto& c : ds.items.categories[i]) vectors[i][index.at(c)] = 1.0;
      break;
    }
    case ItemVectorSource::kFeatures: {
      const auto dim = static_cast<size_t>(ds.items.feature_dim);
      if (dim == 0 || ds.items.features.size() != n * dim) {
        throw ConfigError("session.item_vectors",
                          fmt::format("session.item_vectors is features, but dataset '{}' has no "
                                      "item feature rows; use categories or random",
                                      ds.name));
      }
      vectors.assign(n, std::vector<double>(dim, 0.0));
      for (size_t i = 0; i < n; ++i)
        for (size_t j = 0; j < dim; ++j) vectors[i][j] = ds.items.features[i * dim + j];
      break;
    }
    case ItemVectorSource::kRandom: {
      Rng rng = Rng(seed).Fork(7);
      vectors.assign(n, std::vector<double>(static_cast<size_t>(cfg.random_dim), 0.0));
      for (auto& v : vectors)
        for (double& x : v) x = rng.Normal();
      break;
    }
  }
  return vectors;
}

SessionData BuildSessionData(const OfflineTrainConfig& cfg) {
  SessionData sd;
  sd.prepared = data::PrepareDataset(cfg.data, cfg.run.seed);
  const data::Dataset& ds = sd.prepared.dataset;
  sd.num_items = ds.items.size();
  const agents::HdtDataOptions& data_opts = cfg.hdt_data;
  const auto grouped = GroupByUser(ds);
  sd.users = agents::PrepareUsers(grouped, data_opts, sd.num_items);
  if (sd.users.empty()) {
    throw Error(fmt::format(
        "dataset '{}': no user has >= {} sessions of >= 2 items after sessionization ({} users "
        "before); lower hdt_data.min_sessions or change data.preprocess",
        ds.name, data_opts.min_sessions, grouped.size()));
  }
  std::vector<agents::UserSessions> valid_users;
  int64_t n_sessions = 0;
  for (const auto& u : sd.users) {
    n_sessions += static_cast<int64_t>(u.sessions.size());
    sd.train.push_back(DropLast(u, 2));
    valid_users.push_back(DropLast(u, 1));
  }
  sd.returns.item_vectors = MakeItemVectors(ds, cfg.session, cfg.run.seed);
  sd.returns.dis_max = DisMax(sd.returns.item_vectors);
  sd.returns.is_novel =
      agents::NovelItemSet(agents::ItemCounts(sd.train, sd.num_items), cfg.hdt_data.novel_share);
  sd.valid_queries = agents::BuildTestQueries(valid_users, sd.returns);
  sd.test_queries = agents::BuildTestQueries(sd.users, sd.returns);
  sd.metrics_context.num_items = static_cast<int32_t>(sd.num_items);
  sd.metrics_context.long_tail.assign(sd.returns.is_novel.begin(), sd.returns.is_novel.end());
  sd.metrics_context.has_history = true;
  log::Info(
      "{}: {} items, {} of {} users with >= {} sessions, {} sessions, dis_max {:.4f}, "
      "queries valid {} / test {}",
      ds.name, sd.num_items, sd.users.size(), grouped.size(), data_opts.min_sessions, n_sessions,
      sd.returns.dis_max, sd.valid_queries.size(), sd.test_queries.size());
  return sd;
}

}  // namespace recarena::experiments
