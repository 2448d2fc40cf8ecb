// The config of `recarena train` (offline supervised training of a sequential recommender).
#pragma once

#include <string>
#include <vector>

#include "agents/cpft.h"
#include "agents/modt4r.h"
#include "agents/supervised.h"
#include "core/config.h"
#include "core/run_config.h"
#include "env/data_config.h"

namespace recarena::experiments {

// normal: encoder + CE; popularity: the floor; cpft: fine-tunes a trained normal/cpft run with
// CE + conformal losses (agents/cpft.h, docs/cpft.md); modt4r / mrdt: the multi-objective decision
// transformer with the (s, R, a) / (R, s, a) token order (agents/modt4r.h,
// docs/decision_transformer.md).
enum class OfflineModel { kNormal, kPopularity, kCpft, kModt4r, kMrdt };
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
  env::DataConfig data;
  OfflineModel model_kind = OfflineModel::kNormal;
  agents::SupervisedOptions model;
  TrainLoopConfig train;
  EvalConfig eval;
  agents::CpftOptions cpft;  // read only when model_kind is cpft
  agents::Modt4rOptions dt;  // read only when model_kind is modt4r or mrdt
  bool IsDecisionTransformer() const {
    return model_kind == OfflineModel::kModt4r || model_kind == OfflineModel::kMrdt;
  }
  template <class V>
  void Visit(V& v) {
    v("run", run);
    v("data", data);
    v("model_kind", model_kind);
    v("model", model);
    v("train", train);
    v("eval", eval);
    // Only cpft runs have (and accept) the section, so the resolved config.yaml of other runs is
    // unchanged (their resume check compares it textually). model_kind is visited first.
    if (model_kind == OfflineModel::kCpft) v("cpft", cpft);
    if (IsDecisionTransformer()) v("dt", dt);
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
        {experiments::OfflineModel::kModt4r, "modt4r"},
        {experiments::OfflineModel::kMrdt, "mrdt"}};
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
