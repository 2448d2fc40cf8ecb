#include <torch/torch.h>

#include <catch2/catch.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/error.h"
#include "models/bert4rec.h"
#include "models/caser.h"
#include "models/encoder.h"
#include "models/gru4rec.h"
#include "models/nextitnet.h"
#include "models/output_layer.h"
#include "models/sasrec.h"

namespace {

using recarena::models::EncoderKind;
using recarena::models::EncoderOptions;
using recarena::models::EncoderOutput;
using recarena::models::MakeEncoder;
using recarena::models::SequenceEncoderImpl;

constexpr int64_t kNumItems = 30;

EncoderOptions Options(EncoderKind kind) {
  EncoderOptions o;
  o.kind = kind;
  o.num_items = kNumItems;
  return o;
}

// Every kind with defaults, plus variants that exercise the non-default code paths.
std::vector<EncoderOptions> AllVariants() {
  std::vector<EncoderOptions> out;
  for (const auto& entry : recarena::models::EncoderRegistry()) {
    const EncoderKind k = entry.kind;
    out.push_back(Options(k));
  }
  EncoderOptions sas = Options(EncoderKind::kSasRec);
  sas.num_heads = 2;
  sas.num_blocks = 2;
  out.push_back(sas);
  EncoderOptions caser = Options(EncoderKind::kCaser);
  caser.caser_v_filters = 0;
  caser.caser_heights = {1, 10};
  out.push_back(caser);
  EncoderOptions nin = Options(EncoderKind::kNextItNet);
  nin.nextitnet_dilations = {1, 4};
  nin.nextitnet_kernel = 2;
  out.push_back(nin);
  EncoderOptions bert = Options(EncoderKind::kBert4Rec);
  bert.num_heads = 2;
  bert.num_blocks = 2;
  out.push_back(bert);
  return out;
}

std::string Describe(const EncoderOptions& o) {
  return recarena::config::EnumToString(o.kind) + " heads=" + std::to_string(o.num_heads) +
         " blocks=" + std::to_string(o.num_blocks) + " v=" + std::to_string(o.caser_v_filters) +
         " dilations=" + std::to_string(o.nextitnet_dilations.size());
}

torch::Tensor Long(const std::vector<int64_t>& v) { return torch::tensor(v, torch::kLong); }

// A random right-padded batch: lengths in [1, L], real ids in [0, kNumItems), padding after.
struct Batch {
  torch::Tensor items, lengths;
};
Batch RandomBatch(int64_t B, int64_t L, const std::vector<int64_t>& lengths) {
  torch::Tensor items = torch::randint(0, kNumItems, {B, L}, torch::kLong);
  torch::Tensor len = Long(lengths);
  items.masked_fill_(recarena::models::LengthMask(len, L).logical_not(), kNumItems);
  return {items, len};
}

struct ModelConfig {
  EncoderOptions encoder;
  template <class V>
  void Visit(V& v) {
    v("encoder", encoder);
  }
  void Validate() const { encoder.Validate(); }
};
struct TopConfig {
  ModelConfig model;
  template <class V>
  void Visit(V& v) {
    v("model", model);
  }
  void Validate() const { model.Validate(); }
};

bool Same(const torch::Tensor& a, const torch::Tensor& b, double atol = 1e-6) {
  return a.sizes() == b.sizes() && torch::allclose(a, b, /*rtol=*/1e-5, atol);
}

}  // namespace

TEST_CASE("encoder options: defaults validate, bad values name model.encoder.<field>",
          "[models][encoder]") {
  EncoderOptions o;
  REQUIRE_NOTHROW(o.Validate());
  CHECK(o.kind == EncoderKind::kSasRec);
  CHECK(o.state_len == 10);
  CHECK(o.hidden == 64);
  CHECK(o.caser_heights == std::vector<int64_t>{2, 3, 4});
  CHECK(o.nextitnet_dilations == std::vector<int64_t>{1, 2, 1, 2, 1, 2});

  auto path_of = [](EncoderOptions bad) {
    try {
      bad.Validate();
    } catch (const recarena::ConfigError& e) {
      return e.path();
    }
    return std::string("(no error)");
  };
  EncoderOptions b = o;
  b.hidden = 0;
  CHECK(path_of(b) == "model.encoder.hidden");
  b = o;
  b.num_heads = 3;  // does not divide 64
  CHECK(path_of(b) == "model.encoder.num_heads");
  b = o;
  b.dropout = 1.0;
  CHECK(path_of(b) == "model.encoder.dropout");
  b = o;
  b.caser_heights = {2, 11};  // taller than state_len: fine unless the encoder is Caser
  CHECK_NOTHROW(b.Validate());
  b.kind = recarena::models::EncoderKind::kCaser;
  CHECK(path_of(b) == "model.encoder.caser_heights");
  b = o;
  b.nextitnet_dilations = {1, 0};
  CHECK(path_of(b) == "model.encoder.nextitnet_dilations");
  b = o;
  b.state_len = 0;
  CHECK(path_of(b) == "model.encoder.state_len");
  b = o;
  b.bert4rec_mask_prob = 1.0;
  CHECK(path_of(b) == "model.encoder.bert4rec_mask_prob");
}

TEST_CASE("encoder options: read from YAML by name, enum names round-trip", "[models][encoder]") {
  TopConfig cfg;
  recarena::config::Document::FromString(
      "model:\n  encoder:\n    kind: caser\n    caser_heights: [1, 5]\n    hidden: 32\n", "t.yaml")
      .Read(cfg);
  CHECK(cfg.model.encoder.kind == EncoderKind::kCaser);
  CHECK(cfg.model.encoder.caser_heights == std::vector<int64_t>{1, 5});
  CHECK(cfg.model.encoder.hidden == 32);
  CHECK(recarena::config::EnumChoices<EncoderKind>() ==
        std::vector<std::string>{"gru4rec", "sasrec", "caser", "nextitnet", "bert4rec"});
  TopConfig bad;
  CHECK_THROWS_WITH(
      recarena::config::Document::FromString("model:\n  encoder:\n    kind: sasrek\n", "t.yaml")
          .Read(bad),
      Catch::Contains("sasrec"));
  CHECK_THROWS_WITH(
      recarena::config::Document::FromString("model:\n  encoder:\n    num_blocks: 0\n", "t.yaml")
          .Read(bad),
      Catch::Contains("model.encoder.num_blocks"));
}

TEST_CASE("LengthMask and GatherLast: hand-computed values", "[models][encoder]") {
  const torch::Tensor mask = recarena::models::LengthMask(Long({1, 3}), 3);
  CHECK(torch::equal(mask, torch::tensor({1, 0, 0, 1, 1, 1}, torch::kBool).view({2, 3})));
  // states[b, t, :] = 10*b + t (D = 2); lengths {2, 1} pick t = 1 and t = 0
  const torch::Tensor states =
      (torch::arange(3).view({1, 3, 1}) + 10 * torch::arange(2).view({2, 1, 1}))
          .expand({2, 3, 2})
          .to(torch::kFloat);
  const torch::Tensor last = recarena::models::GatherLast(states, Long({2, 1}));
  CHECK(torch::equal(last, torch::tensor({1.f, 1.f, 10.f, 10.f}).view({2, 2})));
}

TEST_CASE("MakeEncoder builds each kind and rejects a missing catalog size", "[models][encoder]") {
  torch::manual_seed(1);
  CHECK(std::dynamic_pointer_cast<recarena::models::Gru4RecImpl>(
            MakeEncoder(Options(EncoderKind::kGru4Rec))) != nullptr);
  CHECK(std::dynamic_pointer_cast<recarena::models::SasRecImpl>(
            MakeEncoder(Options(EncoderKind::kSasRec))) != nullptr);
  CHECK(std::dynamic_pointer_cast<recarena::models::CaserImpl>(
            MakeEncoder(Options(EncoderKind::kCaser))) != nullptr);
  CHECK(std::dynamic_pointer_cast<recarena::models::NextItNetImpl>(
            MakeEncoder(Options(EncoderKind::kNextItNet))) != nullptr);
  EncoderOptions o = Options(EncoderKind::kGru4Rec);
  o.num_items = 0;
  CHECK_THROWS_AS(MakeEncoder(o), recarena::Error);
  o.num_items = 5;
  o.hidden = -1;
  CHECK_THROWS_AS(MakeEncoder(o), recarena::ConfigError);
}

TEST_CASE("encoders: shapes, dtype, padding row, last = states at lengths-1, zero padding states",
          "[models][encoder]") {
  torch::set_num_threads(2);
  for (const EncoderOptions& opts : AllVariants()) {
    INFO(Describe(opts));
    torch::manual_seed(3);
    auto enc = MakeEncoder(opts);
    enc->eval();
    CHECK(enc->dim() == 64);
    const torch::Tensor table = enc->item_embeddings();
    CHECK(table.sizes() == torch::IntArrayRef({kNumItems + 1, 64}));
    CHECK(table[kNumItems].abs().max().item<float>() == 0.0f);

    const Batch b = RandomBatch(4, 10, {1, 3, 10, 7});
    const EncoderOutput out = enc->forward(b.items, b.lengths);
    CHECK(out.last.sizes() == torch::IntArrayRef({4, 64}));
    CHECK(out.states.sizes() == torch::IntArrayRef({4, 10, 64}));
    CHECK(out.last.scalar_type() == torch::kFloat);
    CHECK(out.states.scalar_type() == torch::kFloat);
    CHECK(torch::isfinite(out.states).all().item<bool>());
    const std::vector<int64_t> len = {1, 3, 10, 7};
    for (int64_t i = 0; i < 4; ++i) {
      CHECK(torch::equal(out.last[i], out.states[i][len[i] - 1]));
      CHECK(out.states[i][len[i] - 1].abs().sum().item<float>() > 0.0f);
      if (len[i] < 10) {
        CHECK(out.states[i].narrow(0, len[i], 10 - len[i]).abs().max().item<float>() == 0.0f);
      }
    }
    // Shorter inputs than state_len are accepted.
    const Batch shortb = RandomBatch(2, 4, {4, 2});
    CHECK(enc->forward(shortb.items, shortb.lengths).states.sizes() ==
          torch::IntArrayRef({2, 4, 64}));
  }
}

TEST_CASE("encoders: causality - states[:, t] ignore items after t", "[models][encoder]") {
  torch::set_num_threads(2);
  for (const EncoderOptions& opts : AllVariants()) {
    INFO(Describe(opts));
    torch::manual_seed(5);
    auto enc = MakeEncoder(opts);
    enc->eval();
    torch::NoGradGuard no_grad;
    const Batch b = RandomBatch(3, 10, {10, 10, 10});
    const EncoderOutput base = enc->forward(b.items, b.lengths);
    for (int64_t t = 0; t < 9; ++t) {
      INFO("t = " << t);
      torch::Tensor changed = b.items.clone();
      changed.narrow(1, t + 1, 9 - t).copy_(torch::randint(0, kNumItems, {3, 9 - t}, torch::kLong));
      const EncoderOutput out = enc->forward(changed, b.lengths);
      CHECK(Same(out.states.narrow(1, 0, t + 1), base.states.narrow(1, 0, t + 1)));
      // ... while the later states do react (the test can fail).
      CHECK_FALSE(Same(out.states.narrow(1, t + 1, 9 - t), base.states.narrow(1, t + 1, 9 - t)));
    }
  }
}

TEST_CASE("encoders: content after lengths and batch composition do not matter",
          "[models][encoder]") {
  torch::set_num_threads(2);
  for (const EncoderOptions& opts : AllVariants()) {
    INFO(Describe(opts));
    torch::manual_seed(7);
    auto enc = MakeEncoder(opts);
    enc->eval();
    torch::NoGradGuard no_grad;
    const Batch b = RandomBatch(4, 10, {1, 3, 6, 9});
    const EncoderOutput base = enc->forward(b.items, b.lengths);
    // Arbitrary real ids (not the padding id) at positions >= length.
    const torch::Tensor junk = torch::randint(0, kNumItems, {4, 10}, torch::kLong);
    const torch::Tensor pads = recarena::models::LengthMask(b.lengths, 10).logical_not();
    const torch::Tensor changed = torch::where(pads, junk, b.items);
    REQUIRE_FALSE(torch::equal(changed, b.items));
    const EncoderOutput out = enc->forward(changed, b.lengths);
    CHECK(Same(out.last, base.last));
    CHECK(Same(out.states, base.states));  // real positions equal, padding positions zero in both

    // The length-3 sequence alone gives the same state as inside the batch of longer ones.
    const EncoderOutput alone = enc->forward(b.items.narrow(0, 1, 1), b.lengths.narrow(0, 1, 1));
    CHECK(Same(alone.last[0], base.last[1], 1e-5));
    CHECK(Same(alone.states[0], base.states[1], 1e-5));
    // ... and a different sequence of length 3 gives a different state.
    torch::Tensor other = b.items.narrow(0, 1, 1).clone();
    other[0][0] = (other[0][0].item<int64_t>() + 1) % kNumItems;
    CHECK_FALSE(Same(enc->forward(other, b.lengths.narrow(0, 1, 1)).last[0], base.last[1]));
  }
}

TEST_CASE("Caser: real items keep their window rows whatever the padding", "[models][caser]") {
  // The same 3 items as the whole input (L = 3) and as the head of a padded L = 10 input must
  // give the same last state: both right-align the items into the last rows of the window.
  torch::manual_seed(9);
  auto enc = MakeEncoder(Options(EncoderKind::kCaser));
  enc->eval();
  torch::NoGradGuard no_grad;
  const torch::Tensor items3 = Long({4, 8, 15}).view({1, 3});
  torch::Tensor items10 = torch::full({1, 10}, kNumItems, torch::kLong);
  items10.narrow(1, 0, 3).copy_(items3);
  const torch::Tensor a = enc->forward(items3, Long({3})).last;
  const torch::Tensor b = enc->forward(items10, Long({3})).last;
  CHECK(Same(a, b));
}

TEST_CASE("Caser: equals convolving each right-aligned window separately", "[models][caser]") {
  // Reference: for position t, the [W, D] matrix whose last t+1 rows are the embeddings of items
  // 0..t and whose other rows are zero, convolved with the module's own filters.
  torch::manual_seed(13);
  EncoderOptions opts = Options(EncoderKind::kCaser);
  auto enc = MakeEncoder(opts);
  enc->eval();
  torch::NoGradGuard no_grad;
  const int64_t W = opts.state_len, D = opts.hidden, len = 6;
  const std::vector<int64_t> seq = {3, 17, 3, 29, 0, 11};
  torch::Tensor items = torch::full({1, W}, kNumItems, torch::kLong);
  for (int64_t j = 0; j < len; ++j) items[0][j] = seq[j];
  const EncoderOutput out = enc->forward(items, Long({len}));
  auto params = enc->named_parameters();
  const torch::Tensor table = enc->item_embeddings();
  for (int64_t t = 0; t < len; ++t) {
    INFO("t = " << t);
    torch::Tensor window = torch::zeros({W, D});
    for (int64_t j = 0; j <= t; ++j) window[W - 1 - t + j] = table[seq[j]];
    const torch::Tensor img = window.view({1, 1, W, D});
    std::vector<torch::Tensor> feats;
    for (size_t i = 0; i < opts.caser_heights.size(); ++i) {
      const std::string name = "horizontal" + std::to_string(i);
      const torch::Tensor c = torch::relu(
          torch::conv2d(img, params[name + ".weight"], params[name + ".bias"]));  // [1,F,W-h+1,1]
      feats.push_back(c.amax({2, 3}));                                            // [1, F]
    }
    feats.push_back(
        torch::conv2d(img, params["vertical.weight"], params["vertical.bias"]).flatten(1));
    const torch::Tensor expected = torch::relu(
        torch::linear(torch::cat(feats, 1), params["project.weight"], params["project.bias"]));
    CHECK(Same(out.states[0][t], expected[0], 1e-5));
  }
}

TEST_CASE("Caser: filter gradients are finite and the same on every run", "[models][caser]") {
  // Regression: through conv2d, oneDNN's CPU backward (LibTorch 2.11) gave the full-width
  // horizontal filters garbage gradients that changed from run to run (1e22, NaN) at state_len 20
  // with more than one sequence; Caser now applies them as a matmul over unfolded windows.
  EncoderOptions opts = Options(EncoderKind::kCaser);
  opts.state_len = 20;
  opts.hidden = 16;
  opts.dropout = 0.0;
  opts.caser_heights = {2, 3};
  auto grads = [&] {
    torch::manual_seed(3);
    auto enc = MakeEncoder(opts);
    torch::manual_seed(4);
    const auto items = torch::randint(0, kNumItems, {8, 20}, torch::kLong);
    enc->forward(items, torch::full({8}, 20, torch::kLong)).states.square().sum().backward();
    auto params = enc->named_parameters();
    return std::vector<torch::Tensor>{params["horizontal0.weight"].grad().clone(),
                                      params["horizontal1.weight"].grad().clone()};
  };
  const auto first = grads();
  for (const auto& g : first) {
    REQUIRE(torch::isfinite(g).all().item<bool>());
    CHECK(g.abs().max().item<float>() < 1e4f);
    CHECK(g.abs().max().item<float>() > 0.0f);
  }
  for (int run = 0; run < 5; ++run) {
    const auto again = grads();
    CHECK(torch::equal(first[0], again[0]));
    CHECK(torch::equal(first[1], again[1]));
  }
}

TEST_CASE("encoders: gradients reach the embeddings, never the padding row", "[models][encoder]") {
  torch::set_num_threads(2);
  for (const EncoderOptions& opts : AllVariants()) {
    INFO(Describe(opts));
    torch::manual_seed(11);
    auto enc = MakeEncoder(opts);
    enc->train();
    const Batch b = RandomBatch(4, 10, {2, 5, 10, 8});
    const EncoderOutput out = enc->forward(b.items, b.lengths);
    (out.last.pow(2).sum() + out.states.sum()).backward();
    for (const auto& p : enc->named_parameters()) {
      INFO(p.key());
      CHECK(p.value().grad().defined());
    }
    const torch::Tensor grad = enc->item_embeddings().grad();
    REQUIRE(grad.defined());
    CHECK(grad[kNumItems].abs().max().item<float>() == 0.0f);
    const int64_t used_item = b.items[2][0].item<int64_t>();
    CHECK(grad[used_item].abs().sum().item<float>() > 0.0f);

    // An optimizer step leaves the padding row at zero.
    torch::optim::Adam adam(enc->parameters(), torch::optim::AdamOptions(1e-2));
    adam.step();
    CHECK(enc->item_embeddings()[kNumItems].abs().max().item<float>() == 0.0f);
    CHECK(enc->item_embeddings()[used_item].abs().sum().item<float>() > 0.0f);
  }
}

TEST_CASE("encoders: parameters are a function of the torch seed and CloneEncoder copies them",
          "[models][encoder]") {
  torch::set_num_threads(2);
  for (const EncoderOptions& opts : AllVariants()) {
    INFO(Describe(opts));
    torch::manual_seed(42);
    auto a = MakeEncoder(opts);
    torch::manual_seed(42);
    auto b = MakeEncoder(opts);
    torch::manual_seed(43);
    auto c = MakeEncoder(opts);
    const auto pa = a->named_parameters(), pb = b->named_parameters(), pc = c->named_parameters();
    REQUIRE(pa.size() == pb.size());
    bool any_differs = false;
    for (const auto& p : pa) {
      CHECK(torch::equal(p.value(), pb[p.key()]));
      if (!torch::equal(p.value(), pc[p.key()])) any_differs = true;
    }
    CHECK(any_differs);
    a->eval();
    b->eval();
    torch::manual_seed(1);
    const Batch batch = RandomBatch(2, 10, {4, 10});
    CHECK(torch::equal(a->forward(batch.items, batch.lengths).states,
                       b->forward(batch.items, batch.lengths).states));

    auto copy = recarena::models::CloneEncoder(*a);
    copy->eval();
    CHECK(torch::equal(copy->forward(batch.items, batch.lengths).states,
                       a->forward(batch.items, batch.lengths).states));
    {
      torch::NoGradGuard no_grad;
      copy->item_embeddings().add_(1.0);  // the copy owns its parameters
    }
    CHECK(torch::equal(a->item_embeddings(), b->item_embeddings()));
  }
}

TEST_CASE("encoders: inputs that break the contract are rejected", "[models][encoder]") {
  torch::manual_seed(1);
  auto enc = MakeEncoder(Options(EncoderKind::kGru4Rec));
  const torch::Tensor items = torch::zeros({2, 10}, torch::kLong);
  CHECK_THROWS_WITH(enc->forward(items, Long({0, 3})), Catch::Contains("lengths must lie"));
  CHECK_THROWS_WITH(enc->forward(items, Long({11, 3})), Catch::Contains("lengths must lie"));
  CHECK_THROWS_WITH(enc->forward(torch::zeros({2, 11}, torch::kLong), Long({1, 1})),
                    Catch::Contains("state_len"));
  torch::Tensor bad = items.clone();
  bad[1][2] = kNumItems + 1;
  CHECK_THROWS_WITH(enc->forward(bad, Long({1, 3})), Catch::Contains("item ids"));
  CHECK_THROWS_AS(enc->forward(items.to(torch::kInt), Long({1, 3})), recarena::Error);
  CHECK_THROWS_AS(enc->forward(items, Long({1, 3, 4})), recarena::Error);
}

TEST_CASE("encoders learn a next-item pattern (i -> i+1 mod 20) to HR@1 = 1",
          "[models][encoder][learning]") {
  torch::set_num_threads(2);
  constexpr int64_t N = 20, L = 10;
  // All windows: start s, length n in 1..L, items s..s+n-1 (mod N), target s+n (mod N).
  std::vector<int64_t> items_v, lengths_v, targets_v;
  for (int64_t s = 0; s < N; ++s) {
    for (int64_t n = 1; n <= L; ++n) {
      for (int64_t t = 0; t < L; ++t) items_v.push_back(t < n ? (s + t) % N : N);
      lengths_v.push_back(n);
      targets_v.push_back((s + n) % N);
    }
  }
  const int64_t B = static_cast<int64_t>(lengths_v.size());
  const torch::Tensor items = Long(items_v).view({B, L});
  const torch::Tensor lengths = Long(lengths_v);
  const torch::Tensor targets = Long(targets_v);

  for (const auto& entry : recarena::models::EncoderRegistry()) {
    const EncoderKind kind = entry.kind;
    EncoderOptions opts;
    opts.kind = kind;
    opts.num_items = N;
    for (bool tied : {false, true}) {
      INFO(recarena::config::EnumToString(kind) << (tied ? " tied" : " linear"));
      torch::manual_seed(2024);
      auto enc = MakeEncoder(opts);
      recarena::models::ItemScorerOptions so;
      so.dim = enc->dim();
      so.num_items = N;
      so.tied = tied;
      recarena::models::ItemScorer scorer =
          tied ? recarena::models::ItemScorer(so, enc->item_embeddings())
               : recarena::models::ItemScorer(so);
      std::vector<torch::Tensor> params = enc->parameters();
      for (const auto& p : scorer->parameters()) params.push_back(p);
      torch::optim::Adam adam(params, torch::optim::AdamOptions(1e-2));
      const auto start = std::chrono::steady_clock::now();
      // Train full-batch; every 10 steps measure HR@1 on the training windows (eval mode) and
      // stop at 1.0. The budget is fixed; the observed step counts are far below it.
      constexpr int kMaxSteps = 300;
      double hr1 = 0.0;
      int steps = 0;
      while (steps < kMaxSteps) {
        enc->train();
        for (int i = 0; i < 10; ++i, ++steps) {
          adam.zero_grad();
          const torch::Tensor logits = scorer->forward(enc->Last(items, lengths));
          torch::nll_loss(torch::log_softmax(logits, 1), targets).backward();
          adam.step();
        }
        enc->eval();
        torch::NoGradGuard no_grad;
        const torch::Tensor pred = scorer->forward(enc->Last(items, lengths)).argmax(1);
        hr1 = pred.eq(targets).to(torch::kDouble).mean().item<double>();
        if (hr1 == 1.0) break;
      }
      const double seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      WARN(recarena::config::EnumToString(kind)
           << (tied ? " tied" : " linear") << ": HR@1 = " << hr1 << " after " << steps
           << " Adam steps, " << seconds << " s");
      CHECK(hr1 == 1.0);
    }
  }
}

TEST_CASE("encoders learn to recall the item two steps back (needs more than the last item)",
          "[models][encoder][learning]") {
  torch::set_num_threads(2);
  constexpr int64_t N = 20, L = 10, B = 200;
  torch::manual_seed(99);
  const torch::Tensor lengths = torch::randint(2, L + 1, {B}, torch::kLong);
  torch::Tensor items = torch::randint(0, N, {B, L}, torch::kLong);
  items.masked_fill_(recarena::models::LengthMask(lengths, L).logical_not(), N);
  const torch::Tensor targets =
      items.gather(1, (lengths - 2).unsqueeze(1)).squeeze(1);  // item at position len-2
  for (const auto& entry : recarena::models::EncoderRegistry()) {
    const EncoderKind kind = entry.kind;
    EncoderOptions opts;
    opts.kind = kind;
    opts.num_items = N;
    INFO(recarena::config::EnumToString(kind));
    torch::manual_seed(2025);
    auto enc = MakeEncoder(opts);
    recarena::models::ItemScorerOptions so;
    so.dim = enc->dim();
    so.num_items = N;
    recarena::models::ItemScorer scorer(so);
    std::vector<torch::Tensor> params = enc->parameters();
    for (const auto& p : scorer->parameters()) params.push_back(p);
    torch::optim::Adam adam(params, torch::optim::AdamOptions(1e-2));
    const auto start = std::chrono::steady_clock::now();
    constexpr int kMaxSteps = 400;
    double hr1 = 0.0;
    int steps = 0;
    while (steps < kMaxSteps) {
      enc->train();
      for (int i = 0; i < 10; ++i, ++steps) {
        adam.zero_grad();
        const torch::Tensor logits = scorer->forward(enc->Last(items, lengths));
        torch::nll_loss(torch::log_softmax(logits, 1), targets).backward();
        adam.step();
      }
      enc->eval();
      torch::NoGradGuard no_grad;
      const torch::Tensor pred = scorer->forward(enc->Last(items, lengths)).argmax(1);
      hr1 = pred.eq(targets).to(torch::kDouble).mean().item<double>();
      if (hr1 == 1.0) break;
    }
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    WARN(recarena::config::EnumToString(kind) << " recall-2: HR@1 = " << hr1 << " after " << steps
                                              << " Adam steps, " << seconds << " s");
    CHECK(hr1 == 1.0);
  }
}

TEST_CASE("encoder registry: one row per kind, in enum order, names round-trip", "[models]") {
  const auto& reg = recarena::models::EncoderRegistry();
  REQUIRE(reg.size() == 5);  // gru4rec, sasrec, caser, nextitnet, bert4rec
  for (size_t i = 0; i < reg.size(); ++i) {
    INFO("row " << i << " " << reg[i].name);
    CHECK(static_cast<size_t>(reg[i].kind) == i);
    CHECK(recarena::config::EnumToString(reg[i].kind) == reg[i].name);
    CHECK(recarena::config::ParseEnum<EncoderKind>(reg[i].name, "encoder.kind") == reg[i].kind);
    EncoderOptions o = Options(reg[i].kind);
    CHECK(MakeEncoder(o)->options().kind == reg[i].kind);
  }
  CHECK_THROWS_WITH(recarena::config::ParseEnum<EncoderKind>("sasrek", "model.encoder.kind"),
                    Catch::Contains("did you mean 'sasrec'"));
}

TEST_CASE("encoders: Last equals forward's last state", "[models][encoder]") {
  torch::set_num_threads(2);
  for (const EncoderOptions& opts : AllVariants()) {
    INFO(Describe(opts));
    torch::manual_seed(8);
    auto enc = MakeEncoder(opts);
    enc->eval();
    torch::NoGradGuard no_grad;
    const Batch b = RandomBatch(5, 10, {1, 2, 5, 9, 10});
    CHECK(Same(enc->Last(b.items, b.lengths), enc->forward(b.items, b.lengths).last, 1e-5));
  }
}

TEST_CASE("BERT4Rec: bidirectional inside a sequence, a [MASK] of its own", "[models][bert4rec]") {
  torch::manual_seed(9);
  EncoderOptions o = Options(EncoderKind::kBert4Rec);
  auto enc = std::dynamic_pointer_cast<recarena::models::Bert4RecImpl>(MakeEncoder(o));
  REQUIRE(enc != nullptr);
  enc->eval();
  torch::NoGradGuard no_grad;
  CHECK(enc->mask_token() == kNumItems + 1);
  // Encode: position 0's output changes when a later token does (what SASRec's causal mask
  // forbids), and never when a token past the length does.
  const torch::Tensor tokens = Long({4, 7, kNumItems + 1, kNumItems}).view({1, 4});
  const torch::Tensor len = Long({3});
  const torch::Tensor base = enc->Encode(tokens, len);
  torch::Tensor later = tokens.clone();
  later[0][1] = 8;
  CHECK_FALSE(Same(enc->Encode(later, len)[0][0], base[0][0]));
  torch::Tensor past = tokens.clone();
  past[0][3] = 2;
  CHECK(Same(enc->Encode(past, len), base));
  CHECK(base[0][3].abs().max().item<float>() == 0.0f);
  // Last is the output at the appended [MASK]: Encode of items + [MASK] at position lengths.
  const torch::Tensor items = Long({4, 7, kNumItems}).view({1, 3});
  const torch::Tensor with_mask = Long({4, 7, kNumItems + 1, kNumItems}).view({1, 4});
  CHECK(Same(enc->Last(items, Long({2}))[0], enc->Encode(with_mask, Long({3}))[0][2]));
  // More tokens than state_len + 1 are refused.
  CHECK_THROWS_AS(enc->Encode(torch::zeros({1, 12}, torch::kLong), Long({12})), recarena::Error);
}
