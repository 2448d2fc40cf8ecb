#include <torch/torch.h>

#include <catch2/catch.hpp>

#include "core/error.h"
#include "models/encoder.h"
#include "models/output_layer.h"

using recarena::models::ItemScorer;
using recarena::models::ItemScorerOptions;

TEST_CASE("ItemScorer untied: Linear D -> num_items", "[models][scorer]") {
  torch::manual_seed(1);
  ItemScorerOptions o;
  o.dim = 8;
  o.num_items = 5;
  ItemScorer scorer(o);
  CHECK(scorer->forward(torch::randn({3, 8})).sizes() == torch::IntArrayRef({3, 5}));
  CHECK(scorer->forward(torch::randn({3, 4, 8})).sizes() == torch::IntArrayRef({3, 4, 5}));
  CHECK(scorer->parameters().size() == 2);
  CHECK_THROWS_AS(ItemScorer(o, torch::zeros({6, 8})), recarena::Error);
}

TEST_CASE("ItemScorer tied: dot products with the embedding rows, padding row excluded",
          "[models][scorer]") {
  // table rows: item0 = (1, 0), item1 = (0, 2), item2 = (1, 1), padding = (0, 0)
  torch::Tensor table =
      torch::tensor({1.f, 0.f, 0.f, 2.f, 1.f, 1.f, 0.f, 0.f}).view({4, 2}).requires_grad_(true);
  ItemScorerOptions o;
  o.dim = 2;
  o.num_items = 3;
  o.tied = true;
  ItemScorer scorer(o, table);
  // Only the bias is the scorer's own parameter (the table belongs to the encoder).
  CHECK(scorer->parameters().size() == 1);
  const torch::Tensor state = torch::tensor({3.f, 5.f}).view({1, 2});
  const torch::Tensor scores = scorer->forward(state);
  CHECK(torch::equal(scores, torch::tensor({3.f, 10.f, 8.f}).view({1, 3})));
  // Shared, not copied: changing the table changes the scores.
  {
    torch::NoGradGuard no_grad;
    table[0][0] = 2.f;
  }
  CHECK(scorer->forward(state)[0][0].item<float>() == 6.f);
  scorer->forward(state).sum().backward();
  // d/d table[i] = state for each scored item, 0 for the padding row.
  CHECK(torch::equal(table.grad(),
                     torch::tensor({3.f, 5.f, 3.f, 5.f, 3.f, 5.f, 0.f, 0.f}).view({4, 2})));

  o.bias = false;
  CHECK(ItemScorer(o, table)->parameters().empty());
  CHECK_THROWS_AS(ItemScorer(o), recarena::Error);                        // table missing
  CHECK_THROWS_AS(ItemScorer(o, torch::zeros({3, 2})), recarena::Error);  // no padding row
}

TEST_CASE("ItemScorer tied to an encoder follows its embedding table", "[models][scorer]") {
  torch::manual_seed(2);
  recarena::models::EncoderOptions eo;
  eo.kind = recarena::models::EncoderKind::kGru4Rec;
  eo.num_items = 7;
  eo.hidden = 16;
  auto enc = recarena::models::MakeEncoder(eo);
  ItemScorerOptions o;
  o.dim = 16;
  o.num_items = 7;
  o.tied = true;
  ItemScorer scorer(o, enc->item_embeddings());
  const torch::Tensor state = torch::randn({2, 16});
  const torch::Tensor expected = state.matmul(enc->item_embeddings().narrow(0, 0, 7).t());
  CHECK(torch::allclose(scorer->forward(state), expected));
}
