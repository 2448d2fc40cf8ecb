// Sequence encoders: the common interface, their options, and the factory.
//
// A sequence encoder maps a batch of right-padded item sequences to per-position states and to the
// state at each sequence's last real item. Every recommender / RL agent in recarena uses one as its
// state encoder (GRU4Rec, SASRec, Caser, NextItNet, as in the thesis Sec. 5.4.2 / 6.4.5; BERT4Rec,
// as FINEST evaluates on it).
//
// Input contract (all encoders):
//   items   [B, L] int64, L <= options.state_len. Real items sit at positions 0..lengths[b]-1, the
//           padding id (= options.num_items) after them. Ids must lie in [0, num_items].
//   lengths [B] int64, 1 <= lengths[b] <= L, same device as items.
// Output contract (EncoderOutput):
//   states[b, t] depends only on items[b, 0..t] (causal) and is exactly 0 for t >= lengths[b];
//   last[b] == states[b, lengths[b]-1]. Neither depends on what is stored at positions >=
//   lengths[b] (the encoders mask by `lengths`, not by the padding id), nor on the other rows of
//   the batch.
//
// Parameters are initialised from LibTorch's global generator, like every LibTorch module: the
// caller seeds it once per run with torch::manual_seed(run seed) before building its modules (this
// is the one accepted exception to "RNGs are passed in"; dropout masks in train() mode use it too).
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/config_schema.h"

namespace recarena::models {

struct EncoderOutput {
  torch::Tensor last;    // [B, D] float: state at the last real position (lengths - 1)
  torch::Tensor states;  // [B, L, D] float: causal per-position states, 0 at padding positions
};

enum class EncoderKind { kGru4Rec, kSasRec, kCaser, kNextItNet, kBert4Rec };

// Config section `model.encoder`. num_items is not a config key: it comes from the dataset and the
// caller sets it before MakeEncoder (which checks it).
struct EncoderOptions {
  EncoderKind kind = EncoderKind::kSasRec;
  int64_t num_items = 0;   // catalog size; padding id = num_items (embedding rows num_items + 1)
  int64_t state_len = 10;  // L: the longest input sequence (SASRec positions, Caser window)
  int64_t hidden = 64;     // embedding size = hidden/state size D
  // Applied to the input embeddings of every encoder; also inside SASRec's attention and
  // feed-forward layers, and before Caser's output projection.
  double dropout = 0.1;
  // SASRec (Kang & McAuley 2018) and BERT4Rec (Sun et al. 2019).
  int64_t num_heads = 1;
  int64_t num_blocks = 1;
  // BERT4Rec's cloze objective (agents/supervised.h): the share of a training sequence's items
  // replaced by [MASK] (the paper's rho; 0.2 is its MovieLens value), besides the last item.
  double bert4rec_mask_prob = 0.2;
  // Caser (Tang & Wang 2018): caser_h_filters horizontal filters for each height, caser_v_filters
  // vertical filters spanning the whole state_len window.
  int64_t caser_h_filters = 16;
  std::vector<int64_t> caser_heights{2, 3, 4};
  int64_t caser_v_filters = 1;
  // NextItNet (Yuan et al. 2019): one residual block per entry d, each holding two causal dilated
  // convolutions with dilations d and 2d (as in the SNQN/SA2C reference code).
  std::vector<int64_t> nextitnet_dilations{1, 2, 1, 2, 1, 2};
  int64_t nextitnet_kernel = 3;

  template <class V>
  void Visit(V& v) {
    v("kind", kind);
    v("state_len", state_len);
    v("hidden", hidden);
    v("dropout", dropout);
    v("num_heads", num_heads);
    v("num_blocks", num_blocks);
    v("caser_h_filters", caser_h_filters);
    v("caser_heights", caser_heights);
    v("caser_v_filters", caser_v_filters);
    v("nextitnet_dilations", nextitnet_dilations);
    v("nextitnet_kernel", nextitnet_kernel);
    v("bert4rec_mask_prob", bert4rec_mask_prob);
  }
  // Checks the config fields (not num_items); throws ConfigError("model.encoder.<field>", ...).
  void Validate() const;
};

// Abstract base of all encoders. Owns the item embedding table (row num_items = padding, zero and
// never updated) so that output layers can tie their weights to it.
class SequenceEncoderImpl : public torch::nn::Module {
 public:
  explicit SequenceEncoderImpl(const EncoderOptions& options);
  ~SequenceEncoderImpl() override = default;

  // See the contract at the top of this file.
  virtual EncoderOutput forward(const torch::Tensor& items, const torch::Tensor& lengths) = 0;
  // forward(items, lengths).last alone, for encoders whose per-position states cost more than the
  // last one (BERT4Rec); equal to it up to floating-point rounding.
  virtual torch::Tensor Last(const torch::Tensor& items, const torch::Tensor& lengths) {
    return forward(items, lengths).last;
  }

  // The [num_items + 1, D] embedding table (a parameter: gradients flow through it).
  torch::Tensor item_embeddings() const { return item_embedding_->weight; }
  int64_t dim() const { return options_.hidden; }
  const EncoderOptions& options() const { return options_; }

 protected:
  // Throws recarena::Error when items/lengths break the input contract (one host sync).
  void CheckInputs(const torch::Tensor& items, const torch::Tensor& lengths) const;
  // Embeds items ([B, L] -> [B, L, D]), zeroes positions >= lengths, applies dropout.
  torch::Tensor EmbedInputs(const torch::Tensor& items, const torch::Tensor& lengths);

  EncoderOptions options_;
  torch::nn::Embedding item_embedding_{nullptr};
  torch::nn::Dropout input_dropout_{nullptr};
};

// The encoder registry: one row per kind (its config name and factory). Adding an encoder touches
// its own files (models/foo.{h,cpp}, the .cpp defining MakeFoo) and this header: an enumerator,
// its options fields, the factory's declaration and a row (docs/extending.md).
using EncoderFactory = std::shared_ptr<SequenceEncoderImpl> (*)(const EncoderOptions& options);
std::shared_ptr<SequenceEncoderImpl> MakeGru4Rec(const EncoderOptions& options);    // gru4rec.cpp
std::shared_ptr<SequenceEncoderImpl> MakeSasRec(const EncoderOptions& options);     // sasrec.cpp
std::shared_ptr<SequenceEncoderImpl> MakeCaser(const EncoderOptions& options);      // caser.cpp
std::shared_ptr<SequenceEncoderImpl> MakeNextItNet(const EncoderOptions& options);  // nextitnet.cpp
std::shared_ptr<SequenceEncoderImpl> MakeBert4Rec(const EncoderOptions& options);   // bert4rec.cpp
struct EncoderEntry {
  EncoderKind kind;
  const char* name;  // the spelling of encoder.kind in a config
  EncoderFactory make;
};
// Every encoder kind, in enum order.
inline const std::vector<EncoderEntry>& EncoderRegistry() {
  static const std::vector<EncoderEntry> registry = {
      {EncoderKind::kGru4Rec, "gru4rec", &MakeGru4Rec},
      {EncoderKind::kSasRec, "sasrec", &MakeSasRec},
      {EncoderKind::kCaser, "caser", &MakeCaser},
      {EncoderKind::kNextItNet, "nextitnet", &MakeNextItNet},
      {EncoderKind::kBert4Rec, "bert4rec", &MakeBert4Rec},
  };
  return registry;
}

// Builds the encoder options.kind describes; validates options (ConfigError) and num_items >= 1
// (recarena::Error). Parameters come from the global LibTorch generator (see top of file).
std::shared_ptr<SequenceEncoderImpl> MakeEncoder(const EncoderOptions& options);

// A new encoder with the same options and a copy of encoder's parameters and buffers (for target
// networks); the copy lives on the same device as the source and is in train() mode.
std::shared_ptr<SequenceEncoderImpl> CloneEncoder(const SequenceEncoderImpl& encoder);

// Copies src's parameters and buffers into dst's of the same names (same shapes and devices), in
// place and without gradient: a hard target-network update.
void CopyModuleState(const torch::nn::Module& src, torch::nn::Module& dst);

// [B, L] bool: true at positions t < lengths[b].
torch::Tensor LengthMask(const torch::Tensor& lengths, int64_t L);
// states [B, L, D], lengths [B] -> [B, D]: states[b, lengths[b] - 1].
torch::Tensor GatherLast(const torch::Tensor& states, const torch::Tensor& lengths);

}  // namespace recarena::models

namespace recarena::config {
template <>
struct EnumNames<recarena::models::EncoderKind> {
  static const std::vector<std::pair<recarena::models::EncoderKind, std::string>>& Table() {
    using recarena::models::EncoderKind;
    static const std::vector<std::pair<EncoderKind, std::string>> t = [] {
      std::vector<std::pair<EncoderKind, std::string>> names;
      for (const auto& e : recarena::models::EncoderRegistry()) names.emplace_back(e.kind, e.name);
      return names;
    }();
    return t;
  }
};
}  // namespace recarena::config
