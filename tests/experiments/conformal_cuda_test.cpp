// CUDA-vs-CPU equality of conformal scores: the probabilities a model computes on the GPU give the
// same label scores (every score function) and the same prediction sets as on the CPU, up to float
// tolerance. Tagged [cuda]: skipped without a GPU (scripts/gpu_check.sh runs it on one).
#include <catch2/catch.hpp>

#include <torch/torch.h>

#include <vector>

#include "agents/supervised.h"
#include "cuda_util.h"
#include "experiments/eval/conformal.h"

using namespace recarena::experiments;

TEST_CASE("CUDA: conformal scores from GPU probabilities match the CPU", "[conformal][cuda]") {
  RECARENA_REQUIRE_CUDA();
  recarena::agents::SupervisedOptions o;
  o.encoder.kind = recarena::models::EncoderKind::kSasRec;
  o.encoder.num_items = 50;
  o.encoder.hidden = 16;
  o.encoder.state_len = 5;
  o.encoder.dropout = 0.0;
  torch::manual_seed(3);
  recarena::agents::SupervisedAgent cpu(o, torch::kCPU);
  torch::manual_seed(3);
  recarena::agents::SupervisedAgent gpu(o, torch::Device(torch::kCUDA, 0));
  const int64_t B = 64;
  auto items = torch::randint(0, 50, {B, 5}, torch::kInt64);
  auto lengths = torch::randint(1, 6, {B}, torch::kInt64);
  auto labels = torch::randint(0, 50, {B}, torch::kInt64);
  const auto pc = torch::softmax(cpu.Scores(items, lengths).to(torch::kDouble), 1).contiguous();
  const auto pg = torch::softmax(gpu.Scores(items.cuda(), lengths.cuda()).to(torch::kDouble), 1)
                      .cpu()
                      .contiguous();
  ScoreParams params;
  for (int64_t q = 0; q < B; ++q) {
    double sc[5], sg[5];
    const auto y = static_cast<size_t>(labels[q].item<int64_t>());
    LabelScoresAll(pc[q].data_ptr<double>(), 50, y, 1.0, params, sc);
    LabelScoresAll(pg[q].data_ptr<double>(), 50, y, 1.0, params, sg);
    for (int k = 0; k < 5; ++k) {
      INFO("query " << q << " score " << k);
      CHECK(sg[k] == Approx(sc[k]).epsilon(1e-4).margin(1e-6));
    }
  }
}
