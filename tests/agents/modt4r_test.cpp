// Modt4rAgent (agents/modt4r.h): window actions/returns, learning on a toy dataset, Save/Load,
// inference-time parameters.
#include <catch2/catch.hpp>

#include <torch/torch.h>

#include <sstream>

#include "agents/modt4r.h"
#include "core/error.h"

using namespace recarena::agents;
using recarena::models::TokenOrder;

namespace {

constexpr int64_t kItems = 12, kL = 4;

SupervisedOptions Opts() {
  SupervisedOptions o;
  o.encoder.kind = recarena::models::EncoderKind::kSasRec;
  o.encoder.num_items = kItems;
  o.encoder.hidden = 16;
  o.encoder.state_len = kL;
  o.encoder.dropout = 0.0;
  o.lr = 0.01;
  return o;
}

Modt4rOptions DtOpts() {
  Modt4rOptions d;
  d.num_heads = 2;
  d.dropout = 0.0;
  return d;
}

std::vector<uint8_t> LongTail() {
  std::vector<uint8_t> lt(kItems, 1);
  lt[0] = lt[1] = 0;
  return lt;
}

// Toy data: after item 3 the user always picks item 7 (windows of several lengths).
SequenceBatch Toy() {
  const int p = static_cast<int>(kItems);
  return {torch::tensor({{3, p, p, p}, {1, 3, p, p}, {7, 1, 3, p}, {2, 5, 1, 3}}, torch::kInt64),
          torch::tensor({1, 2, 3, 4}, torch::kInt64), torch::tensor({7, 7, 7, 7}, torch::kInt64)};
}

}  // namespace

TEST_CASE("modt4r: window actions and training returns", "[agents][modt4r]") {
  torch::manual_seed(1);
  Modt4rAgent agent(Opts(), DtOpts(), TokenOrder::kModt4r, LongTail(), torch::kCPU);
  const auto b = Toy();
  const auto a = agent.WindowActions(b);
  const int p = static_cast<int>(kItems);
  CHECK(torch::equal(
      a, torch::tensor({{7, p, p, p}, {3, 7, p, p}, {1, 3, 7, p}, {5, 1, 3, 7}}, torch::kInt64)));
  const auto r = agent.TrainingReturnTensor(b.items, b.lengths, a);
  // Row 2: actions 1, 3, 7 -> accuracy 3, 2, 1; novelty (lt[1] = 0) 2, 2, 1; diversity R_1 = 2.
  CHECK(r[2][0][0].item<float>() == 3.0F);
  CHECK(r[2][2][0].item<float>() == 1.0F);
  CHECK(r[2][0][1].item<float>() == 2.0F);
  CHECK(r[2][1][1].item<float>() == 2.0F);
  CHECK(r[2][0][2].item<float>() == Approx(2.0));
  CHECK(r[2][3].abs().sum().item<float>() == 0.0F);  // padding
  const auto inf = agent.InferenceReturnTensor(b.items, b.lengths);
  CHECK(inf[3][3][0].item<float>() == 1.0F);                        // R_{p,acc} = 1
  CHECK(inf[3][3][2].item<float>() == inf[3][2][2].item<float>());  // R_{p,div} = R_{p-1,div}
  CHECK_THROWS_AS(Modt4rAgent(Opts(), DtOpts(), TokenOrder::kModt4r, {1, 0}, torch::kCPU),
                  recarena::Error);
}

TEST_CASE("modt4r and mrdt: loss falls and the preferred item's probability rises",
          "[agents][modt4r]") {
  for (TokenOrder order : {TokenOrder::kModt4r, TokenOrder::kMrdt}) {
    torch::manual_seed(3);
    Modt4rAgent agent(Opts(), DtOpts(), order, LongTail(), torch::kCPU);
    const auto b = Toy();
    auto prob = [&] {
      return torch::softmax(agent.Scores(b.items, b.lengths), 1).select(1, 7).mean().item<double>();
    };
    const double before = prob();
    double first = 0, last = 0;
    for (int i = 0; i < 50; ++i) {
      auto m = agent.Update(b);
      REQUIRE(m.size() == 5);
      CHECK(m[0].first == "loss");
      CHECK(m[3].first == "l_r");
      if (i == 0) first = m[0].second;
      last = m[0].second;
    }
    CHECK(agent.step() == 50);
    CHECK(last < 0.5 * first);
    CHECK(prob() > before + 0.5);
  }
}

TEST_CASE("modt4r: Eq. 4.19 alpha mixes the UserTrans scores, Save/Load round trip",
          "[agents][modt4r]") {
  torch::manual_seed(4);
  Modt4rAgent agent(Opts(), DtOpts(), TokenOrder::kModt4r, LongTail(), torch::kCPU);
  const auto b = Toy();
  for (int i = 0; i < 5; ++i) agent.Update(b);
  Modt4rInference inf = agent.inference();
  inf.alpha = 0.0;
  agent.SetInference(inf);
  const auto a_only = agent.Scores(b.items, b.lengths);
  inf.alpha = 2.0;
  agent.SetInference(inf);
  const auto mixed = agent.Scores(b.items, b.lengths);
  inf.alpha = 1.0;
  agent.SetInference(inf);
  const auto one = agent.Scores(b.items, b.lengths);
  // Linear in alpha: mixed - a_only = 2 (one - a_only).
  CHECK(torch::allclose(mixed - a_only, 2.0 * (one - a_only), 1e-4, 1e-4));
  // lambda changes the conditioning returns and hence the scores.
  inf.returns.lambda = 0.0;
  agent.SetInference(inf);
  CHECK_FALSE(torch::allclose(agent.Scores(b.items, b.lengths), one));
  inf.returns.lambda = 1.0;
  agent.SetInference(inf);

  std::stringstream buf;
  {
    torch::serialize::OutputArchive out;
    agent.Save(out);
    out.save_to(buf);
  }
  torch::manual_seed(99);
  Modt4rAgent other(Opts(), DtOpts(), TokenOrder::kModt4r, LongTail(), torch::kCPU);
  torch::serialize::InputArchive in;
  in.load_from(buf);
  other.Load(in);
  CHECK(other.step() == 5);
  CHECK(torch::allclose(other.Scores(b.items, b.lengths), one));
}

TEST_CASE("modt4r: options validation names the key", "[agents][modt4r]") {
  Modt4rOptions d;
  d.epsilon = 1.5;
  CHECK_THROWS_WITH(d.Validate(), Catch::Contains("dt.epsilon"));
  d = Modt4rOptions{};
  d.beta = -1;
  CHECK_THROWS_WITH(d.Validate(), Catch::Contains("dt.beta"));
  d = Modt4rOptions{};
  d.num_heads = 3;  // does not divide hidden 16
  CHECK_THROWS_WITH(Modt4rAgent(Opts(), d, TokenOrder::kModt4r, LongTail(), torch::kCPU),
                    Catch::Contains("dt.num_heads"));
}

TEST_CASE("modt4r: diversity returns from fixed item feature vectors", "[agents][modt4r]") {
  torch::manual_seed(2);
  Modt4rOptions d = DtOpts();
  d.similarity = ReturnSimilarity::kFeatures;
  Modt4rAgent agent(Opts(), d, TokenOrder::kModt4r, LongTail(), torch::kCPU);
  const auto b = Toy();
  // Not set yet: a clear error.
  CHECK_THROWS_WITH(agent.TrainingReturnTensor(b.items, b.lengths, agent.WindowActions(b)),
                    Catch::Contains("features"));
  CHECK_THROWS_WITH(agent.SetSimilarityVectors(torch::ones({kItems - 1, 2})),
                    Catch::Contains("similarity vectors"));
  // Items 1, 3, 7 share feature 0 (cosine 1 with each other); item 2 and 5 have feature 1 only.
  auto f = torch::zeros({kItems, 2});
  for (int i : {1, 3, 7}) f[i][0] = 1.0;
  for (int i : {2, 5}) f[i][1] = 1.0;
  agent.SetSimilarityVectors(f);
  const auto r = agent.TrainingReturnTensor(b.items, b.lengths, agent.WindowActions(b));
  // Row 2 = (7, 1, 3): every pair has cosine 1 -> R_{t,div} = 2 for t = 1, 2, 3.
  for (int t = 0; t < 3; ++t) CHECK(r[2][t][2].item<float>() == Approx(2.0));
  // Row 3 = (2, 5, 1, 3): Sim(2,5) = 1 -> 2; then pairs (2,5)=1, (2,1)=0, (5,1)=0 -> 1 + 1/3;
  // x_1..x_4 adds (2,3)=0, (5,3)=0, (1,3)=1 -> 1 + 2/6.
  CHECK(r[3][0][2].item<float>() == Approx(2.0));
  CHECK(r[3][1][2].item<float>() == Approx(2.0));
  CHECK(r[3][2][2].item<float>() == Approx(1.0 + 1.0 / 3.0));
  CHECK(r[3][3][2].item<float>() == Approx(1.0 + 2.0 / 6.0));
  // The learned embeddings do not enter: training the networks leaves the returns unchanged.
  agent.Update(b);
  CHECK(torch::equal(agent.TrainingReturnTensor(b.items, b.lengths, agent.WindowActions(b)), r));
}
