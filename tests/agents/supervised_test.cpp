#include <catch2/catch.hpp>

#include <torch/torch.h>

#include "agents/popularity.h"
#include "agents/supervised.h"

using recarena::agents::SequenceBatch;
using recarena::agents::SupervisedAgent;
using recarena::agents::SupervisedOptions;

TEST_CASE("supervised agent: the preferred next item's probability rises", "[agents][supervised]") {
  torch::manual_seed(3);
  SupervisedOptions opts;
  opts.encoder.kind = recarena::models::EncoderKind::kGru4Rec;
  opts.encoder.num_items = 12;
  opts.encoder.hidden = 16;
  opts.encoder.state_len = 4;
  opts.lr = 0.01;
  SupervisedAgent agent(opts, torch::kCPU);
  // After item 3 the user always picks item 7.
  SequenceBatch batch{torch::tensor({{3, 12, 12, 12}, {1, 3, 12, 12}}, torch::kInt64),
                      torch::tensor({1, 2}, torch::kInt64), torch::tensor({7, 7}, torch::kInt64)};
  auto prob = [&] {
    return torch::softmax(agent.Scores(batch.items, batch.lengths), 1)
        .select(1, 7)
        .mean()
        .item<double>();
  };
  const double before = prob();
  double first_loss = 0, last_loss = 0;
  for (int i = 0; i < 30; ++i) {
    auto m = agent.Update(batch);
    REQUIRE(m[0].first == "loss");
    if (i == 0) first_loss = m[0].second;
    last_loss = m[0].second;
  }
  CHECK(agent.step() == 30);
  CHECK(prob() > before + 0.5);
  CHECK(last_loss < first_loss);
}

TEST_CASE("supervised agent: save/load restores parameters, optimizer and step",
          "[agents][supervised]") {
  torch::manual_seed(5);
  SupervisedOptions opts;
  opts.encoder.kind = recarena::models::EncoderKind::kSasRec;
  opts.encoder.num_items = 9;
  opts.encoder.hidden = 8;
  opts.encoder.state_len = 4;
  opts.encoder.dropout = 0.0;
  SupervisedAgent a(opts, torch::kCPU);
  SequenceBatch batch{torch::tensor({{1, 2, 9, 9}, {4, 9, 9, 9}}, torch::kInt64),
                      torch::tensor({2, 1}, torch::kInt64), torch::tensor({3, 5}, torch::kInt64)};
  a.Update(batch);
  torch::serialize::OutputArchive out;
  a.Save(out);
  std::ostringstream os;
  out.save_to(os);
  SupervisedAgent b(opts, torch::kCPU);
  torch::serialize::InputArchive in;
  std::istringstream is(os.str());
  in.load_from(is);
  b.Load(in);
  CHECK(b.step() == 1);
  // The next update is identical (Adam moments restored).
  a.Update(batch);
  b.Update(batch);
  auto pa = a.parameters(), pb = b.parameters();
  for (size_t i = 0; i < pa.size(); ++i) CHECK(torch::allclose(pa[i], pb[i]));
}

TEST_CASE("popularity recommender counts item occurrences", "[agents][popularity]") {
  std::vector<recarena::data::Sequence> seqs(2);
  seqs[0].items = {0, 1, 1};
  seqs[1].items = {2, 1};
  recarena::agents::PopularityRecommender pop(seqs, 4);
  CHECK(pop.scores() == std::vector<float>{1.f, 3.f, 1.f, 0.f});
}

TEST_CASE("supervised options: bad values name their key", "[agents][config]") {
  SupervisedOptions opts;
  opts.encoder.num_items = 5;
  opts.lr = 0;
  CHECK_THROWS_WITH(opts.Validate(), Catch::Contains("model.lr"));
  opts.lr = 1e-3;
  opts.grad_clip = -1;
  CHECK_THROWS_WITH(opts.Validate(), Catch::Contains("model.grad_clip"));
}

namespace {
SupervisedOptions Bert4RecOptions(double mask_prob) {
  SupervisedOptions opts;
  opts.encoder.kind = recarena::models::EncoderKind::kBert4Rec;
  opts.encoder.num_items = 12;
  opts.encoder.hidden = 16;
  opts.encoder.num_heads = 2;
  opts.encoder.num_blocks = 2;
  opts.encoder.state_len = 4;
  opts.encoder.dropout = 0.0;
  opts.encoder.bert4rec_mask_prob = mask_prob;
  opts.lr = 0.01;
  return opts;
}
}  // namespace

TEST_CASE("BERT4Rec cloze loss: with no random masks it is the next-item cross-entropy",
          "[agents][supervised][bert4rec]") {
  // Masking only the last item of window + target is exactly the [MASK]-appended next-item query
  // Scores answers, so the first update's loss equals the cross-entropy of the scores before it.
  torch::manual_seed(11);
  SupervisedAgent agent(Bert4RecOptions(0.0), torch::kCPU);
  SequenceBatch batch{torch::tensor({{3, 5, 12, 12}, {1, 3, 4, 2}, {9, 12, 12, 12}}, torch::kInt64),
                      torch::tensor({2, 4, 1}, torch::kInt64),
                      torch::tensor({7, 0, 11}, torch::kInt64)};
  const double expected =
      torch::nn::functional::cross_entropy(agent.Scores(batch.items, batch.lengths), batch.targets)
          .item<double>();
  const auto m = agent.Update(batch);
  REQUIRE(m[0].first == "loss");
  CHECK(m[0].second == Approx(expected).epsilon(1e-5));
}

TEST_CASE("BERT4Rec cloze loss: random masks add terms, and training raises the next item",
          "[agents][supervised][bert4rec]") {
  SequenceBatch batch{
      torch::tensor({{3, 12, 12, 12}, {1, 3, 12, 12}, {5, 1, 3, 12}}, torch::kInt64),
      torch::tensor({1, 2, 3}, torch::kInt64), torch::tensor({7, 7, 7}, torch::kInt64)};
  // With every item masked the loss also predicts the window's own items: it differs from the
  // next-item loss of the same weights (the masks are really drawn).
  torch::manual_seed(12);
  SupervisedAgent all(Bert4RecOptions(0.999), torch::kCPU);
  const double next_item =
      torch::nn::functional::cross_entropy(all.Scores(batch.items, batch.lengths), batch.targets)
          .item<double>();
  CHECK(all.Update(batch)[0].second != Approx(next_item).epsilon(1e-3));

  torch::manual_seed(13);
  SupervisedAgent agent(Bert4RecOptions(0.2), torch::kCPU);
  auto prob = [&] {
    return torch::softmax(agent.Scores(batch.items, batch.lengths), 1)
        .select(1, 7)
        .mean()
        .item<double>();
  };
  const double before = prob();
  for (int i = 0; i < 60; ++i) agent.Update(batch);
  CHECK(prob() > before + 0.5);
}
