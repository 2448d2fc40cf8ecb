// The config of `recarena train` (offline supervised training of a sequential recommender).
#pragma once

#include <string>
#include <vector>

#include "agents/cpft.h"
#include "agents/finest.h"
#include "agents/hdt.h"
#include "agents/hdt_batches.h"
#include "agents/modt4r.h"
#include "agents/offline_q.h"
#include "agents/sqn.h"
#include "agents/supervised.h"
#include "core/config_schema.h"
#include "core/run_config.h"
#include "data/data_config.h"

namespace recarena::experiments {

// normal: encoder + CE; popularity: the floor; cpft: fine-tunes a trained normal/cpft run with
// CE + conformal losses (agents/cpft.h, docs/cpft.md); modt4r / mrdt: the multi-objective decision
// transformer with the (s, R, a) / (R, s, a) token order (agents/modt4r.h,
// docs/decision_transformer.md); hdt: the hierarchical decision transformer on sessionized data
// (agents/hdt.h, docs/hdt.md); session_normal: the same encoder trained by plain next-item CE on
// the same sessions and evaluated with the same last-session queries (HDT's "Normal" baseline);
// sqn / sac / snqn / sa2c: Xin et al.'s supervised Q-learning family with an `rl` section, and
// smorl, its multi-objective form (agents/sqn.h, docs/offline_rl.md); cql / bcq: discrete
// conservative and batch-constrained Q-learning with an `offline_q` section (agents/offline_q.h);
// finest: fine-tunes a trained normal run with CE + FINEST's rank-preserving regulariser under
// simulated perturbations (agents/finest.h, docs/stability.md).
enum class OfflineModel {
  kNormal,
  kPopularity,
  kCpft,
  kModt4r,
  kMrdt,
  kHdt,
  kSessionNormal,
  kSqn,
  kSac,
  kSnqn,
  kSa2c,
  kSmorl,
  kCql,
  kBcq,
  kFinest
};

// Where HDT's item vectors (HdtReturnInputs::item_vectors, the unexpectedness returns) come from.
enum class ItemVectorSource {
  kCategories,  // multi-hot of the catalog categories (MovieLens genres, synthetic topics, ...)
  kFeatures,    // the catalog's dense feature rows (coat attributes, synthetic topic mixtures)
  kRandom       // seeded standard-normal vectors of size session.random_dim (no side information)
};

// Section `session` of the session models (hdt, session_normal): how their returns and metrics
// are computed. The split is fixed (docs/hdt.md): test = each user's last session, validation =
// the second-last, training = the rest.
struct SessionRunConfig {
  ItemVectorSource item_vectors = ItemVectorSource::kCategories;
  int64_t random_dim = 32;  // item_vectors: random only
  template <class V>
  void Visit(V& v) {
    v("item_vectors", item_vectors);
    v("random_dim", random_dim);
  }
  void Validate() const;
};
enum class EvalProtocol {
  kSplit,
  kLast
};  // split: targets as the split defines; last: last item only

struct TrainLoopConfig {
  int64_t batch_size = 256;
  int64_t max_steps = 20000;
  int64_t max_epochs = 50;
  int64_t eval_every = 500;  // steps between validations (and checkpoints)
  int64_t patience = 5;      // validations without improvement of NDCG@10 before stopping
  int64_t max_valid_queries =
      5000;  // validation subsample (deterministic) to keep evaluation cheap
  double valid_fraction_if_missing =
      0.1;              // split without a validation set: hold out train sequences
  int64_t threads = 0;  // torch intra-op threads; 0 = leave LibTorch's default
  template <class V>
  void Visit(V& v) {
    v("batch_size", batch_size);
    v("max_steps", max_steps);
    v("max_epochs", max_epochs);
    v("eval_every", eval_every);
    v("patience", patience);
    v("max_valid_queries", max_valid_queries);
    v("valid_fraction_if_missing", valid_fraction_if_missing);
    v("threads", threads);
  }
  void Validate() const;
};

struct EvalConfig {
  std::vector<int> ks{5, 10, 20};
  EvalProtocol protocol = EvalProtocol::kSplit;
  int64_t batch_size = 512;
  template <class V>
  void Visit(V& v) {
    v("ks", ks);
    v("protocol", protocol);
    v("batch_size", batch_size);
  }
  void Validate() const;
};

struct OfflineTrainConfig {
  RunConfig run;
  data::DataConfig data;
  OfflineModel model_kind = OfflineModel::kNormal;
  agents::SupervisedOptions model;
  TrainLoopConfig train;
  EvalConfig eval;
  agents::CpftOptions cpft;           // read only when model_kind is cpft
  agents::FinestOptions finest;       // read only when model_kind is finest
  agents::Modt4rOptions dt;           // read only when model_kind is modt4r or mrdt
  agents::SqnOptions rl;              // read only when model_kind is sqn, sac, snqn or sa2c
  agents::OfflineQOptions offline_q;  // read only when model_kind is cql or bcq
  // model_kind hdt reads its `model` section into hdt_model (a superset of the supervised keys:
  // encoder, lr, weight_decay, grad_clip, plus hdt, alpha, beta, lambda, scoring).
  agents::HdtAgentOptions hdt_model;
  agents::HdtDataOptions hdt_data;  // hdt and session_normal
  SessionRunConfig session;         // hdt and session_normal
  bool IsDecisionTransformer() const {
    return model_kind == OfflineModel::kModt4r || model_kind == OfflineModel::kMrdt;
  }
  bool IsOfflineRl() const {
    return model_kind == OfflineModel::kSqn || model_kind == OfflineModel::kSac ||
           model_kind == OfflineModel::kSnqn || model_kind == OfflineModel::kSa2c ||
           model_kind == OfflineModel::kSmorl;
  }
  bool IsOfflineQ() const {
    return model_kind == OfflineModel::kCql || model_kind == OfflineModel::kBcq;
  }
  bool IsSessionModel() const {
    return model_kind == OfflineModel::kHdt || model_kind == OfflineModel::kSessionNormal;
  }
  template <class V>
  void Visit(V& v) {
    v("run", run);
    v("data", data);
    v("model_kind", model_kind);
    if (model_kind == OfflineModel::kHdt) {
      v("model", hdt_model);
    } else {
      v("model", model);
    }
    v("train", train);
    v("eval", eval);
    // Only cpft runs have (and accept) the section, so the resolved config.yaml of other runs is
    // unchanged (their resume check compares it textually). model_kind is visited first.
    if (model_kind == OfflineModel::kCpft) v("cpft", cpft);
    if (model_kind == OfflineModel::kFinest) v("finest", finest);
    if (IsDecisionTransformer()) v("dt", dt);
    if (IsOfflineRl()) v("rl", rl);
    if (IsOfflineQ()) v("offline_q", offline_q);
    if (IsSessionModel()) {
      v("hdt_data", hdt_data);
      v("session", session);
    }
  }
  void Validate() const;
};

}  // namespace recarena::experiments

namespace recarena::config {
template <>
struct EnumNames<experiments::OfflineModel> {
  static const std::vector<std::pair<experiments::OfflineModel, std::string>>& Table() {
    static const std::vector<std::pair<experiments::OfflineModel, std::string>> t = {
        {experiments::OfflineModel::kNormal, "normal"},
        {experiments::OfflineModel::kPopularity, "popularity"},
        {experiments::OfflineModel::kCpft, "cpft"},
        {experiments::OfflineModel::kFinest, "finest"},
        {experiments::OfflineModel::kModt4r, "modt4r"},
        {experiments::OfflineModel::kMrdt, "mrdt"},
        {experiments::OfflineModel::kHdt, "hdt"},
        {experiments::OfflineModel::kSessionNormal, "session_normal"},
        {experiments::OfflineModel::kSqn, "sqn"},
        {experiments::OfflineModel::kSac, "sac"},
        {experiments::OfflineModel::kSnqn, "snqn"},
        {experiments::OfflineModel::kSa2c, "sa2c"},
        {experiments::OfflineModel::kSmorl, "smorl"},
        {experiments::OfflineModel::kCql, "cql"},
        {experiments::OfflineModel::kBcq, "bcq"}};
    return t;
  }
};
template <>
struct EnumNames<experiments::ItemVectorSource> {
  static const std::vector<std::pair<experiments::ItemVectorSource, std::string>>& Table() {
    static const std::vector<std::pair<experiments::ItemVectorSource, std::string>> t = {
        {experiments::ItemVectorSource::kCategories, "categories"},
        {experiments::ItemVectorSource::kFeatures, "features"},
        {experiments::ItemVectorSource::kRandom, "random"}};
    return t;
  }
};
template <>
struct EnumNames<experiments::EvalProtocol> {
  static const std::vector<std::pair<experiments::EvalProtocol, std::string>>& Table() {
    static const std::vector<std::pair<experiments::EvalProtocol, std::string>> t = {
        {experiments::EvalProtocol::kSplit, "split"}, {experiments::EvalProtocol::kLast, "last"}};
    return t;
  }
};
}  // namespace recarena::config
