// The simulator fit's validation users: post-hoc calibration and early stopping, and pessimism
// restricted to the train role.
#include <catch2/catch.hpp>

#include <cmath>
#include <string>

#include "core/config_schema.h"
#include "env/simulator.h"
#include "env/vector_env.h"
#include "sim_fixtures.h"
#include "test_util.h"

namespace env = recarena::env;
using recarena::testing::FitTiny;

TEST_CASE("pessimism applies to the train role only", "[simulator][pessimism]") {
  recarena::testing::TempDir dir;
  auto cfg = recarena::testing::TinySimConfig();
  cfg.sim.response.ensemble = 2;
  cfg.sim.response.pessimism = 1.5;
  cfg.sim.eval.kind = env::EvalSimKind::kGroundTruth;
  env::FitSimulator(cfg, dir.path());
  CHECK(env::LoadSimulator(dir.path(), env::SimRole::kTrain)->response->config().pessimism == 1.5);
  CHECK(env::LoadSimulator(dir.path(), env::SimRole::kTest)->response->config().pessimism == 0.0);
  CHECK(env::LoadSimulator(dir.path(), env::SimRole::kEval)->response->config().pessimism == 0.0);
  CHECK(FitTiny(cfg, env::SimRole::kTest)->response->config().pessimism == 0.0);
  CHECK(FitTiny(cfg, env::SimRole::kTrain)->response->config().pessimism == 1.5);
}

TEST_CASE("calibration is applied before the pessimism term", "[simulator][calibration]") {
  // Probabilities 0.5 and 0.75 (mean 0.625, population std 0.125); calibration a = 2, b = 0:
  // sigmoid(2 logit(0.625)) = (5/3)^2 / (1 + (5/3)^2) = 25/34; minus 2 * 0.125.
  const auto models = recarena::testing::TwoClickModels();
  env::ResponseConfig cfg;
  cfg.pessimism = 2.0;
  env::ResponseEnsemble ens(cfg, models);
  env::Calibration cal;
  cal.kind = env::CalibrationKind::kTemperature;
  cal.a = 2.0;
  ens.SetCalibration(cal);
  const env::ResponseInput in = recarena::testing::OneRowItem0();
  CHECK(ens.Expected(in).item<float>() == Approx(25.0 / 34.0 - 0.25).epsilon(1e-5));
  CHECK(ens.ExpectedAll(in)[0][0].item<float>() == Approx(25.0 / 34.0 - 0.25).epsilon(1e-5));
}

TEST_CASE("calibration and early stopping use validation users, and survive save and load",
          "[simulator][calibration]") {
  recarena::testing::TempDir dir;
  auto cfg = recarena::testing::TinySimConfig();
  cfg.sim.response.calibration = env::CalibrationKind::kPlatt;
  cfg.sim.response.early_stopping = 1;
  cfg.sim.response.epochs = 4;
  cfg.sim.response.validation_users = 0.25;
  env::FitSimulator(cfg, dir.path());
  auto fitted = FitTiny(cfg, env::SimRole::kTrain);
  auto loaded = env::LoadSimulator(dir.path(), env::SimRole::kTrain);
  const auto& a = fitted->response->calibration();
  const auto& b = loaded->response->calibration();
  CHECK(a.kind == env::CalibrationKind::kPlatt);
  CHECK(b.kind == env::CalibrationKind::kPlatt);
  CHECK(b.a == a.a);
  CHECK(b.b == a.b);
  CHECK(std::isfinite(a.a));
  CHECK((a.a != 1.0 || a.b != 0.0));  // a fitted map, not the identity
  env::ResponseInput in{torch::full({3, 5}, 40, torch::kInt64), torch::ones({3}, torch::kInt64),
                        torch::zeros({3}, torch::kInt64), torch::tensor({0, 1, 2}, torch::kInt64)};
  in.items.select(1, 0).fill_(3);
  CHECK(torch::allclose(fitted->response->Expected(in), loaded->response->Expected(in)));
  // Without validation the fit is the one it always was: no calibration stored.
  CHECK(FitTiny(recarena::testing::TinySimConfig(), env::SimRole::kTrain)
            ->response->calibration()
            .identity());
}

TEST_CASE("validation settings are checked", "[simulator][calibration][errors]") {
  auto cfg = recarena::testing::TinySimConfig();
  cfg.sim.response.early_stopping = -1;
  CHECK_THROWS_WITH(cfg.Validate(), Catch::Contains("sim.response.early_stopping"));
  cfg = recarena::testing::TinySimConfig();
  cfg.sim.response.validation_users = 1.0;
  CHECK_THROWS_WITH(cfg.Validate(), Catch::Contains("sim.response.validation_users"));
}

TEST_CASE("the history-bag response model: shapes and padding", "[simulator][response]") {
  torch::manual_seed(3);
  recarena::models::EncoderOptions o;
  o.num_items = 20;
  o.state_len = 4;
  o.hidden = 8;
  o.dropout = 0.0;
  env::SequentialResponseImpl bag(o, /*history_bag=*/true);
  bag.eval();
  // Same real items, one row padded: the padding id contributes nothing to the bag.
  env::ResponseInput in{torch::tensor({{3, 5, 20, 20}, {3, 5, 20, 20}}, torch::kInt64),
                        torch::tensor({2, 2}, torch::kInt64), torch::zeros({2}, torch::kInt64),
                        torch::tensor({7, 9}, torch::kInt64)};
  torch::NoGradGuard no_grad;
  const auto out = bag.forward(in);
  CHECK(out.sizes() == torch::IntArrayRef({2}));
  const auto all = bag.ScoreAll(in);
  CHECK(all.sizes() == torch::IntArrayRef({2, 20}));
  CHECK(all[0][7].item<float>() == Approx(out[0].item<float>()).epsilon(1e-5));
  CHECK(all[1][9].item<float>() == Approx(out[1].item<float>()).epsilon(1e-5));
  // The bag term is exactly sum P[j] / sqrt(n) on top of the encoder's state.
  const auto bag_term = bag.State(in) - bag.encoder->forward(in.items, in.lengths).last;
  const auto expected = (bag.bag_table_->weight[3] + bag.bag_table_->weight[5]) / std::sqrt(2.0);
  CHECK(torch::allclose(bag_term[0], expected, 1e-5, 1e-6));
  CHECK(bag.bag_table_->weight[20].abs().sum().item<float>() == 0.0f);  // padding row
  env::SequentialResponseImpl plain(o, /*history_bag=*/false);
  CHECK(plain.named_parameters().size() + 1 == bag.named_parameters().size());

  // FISM alone (no history encoder): the state is the bag term, and the model has no encoder.
  env::SequentialResponseImpl fism(o, /*history_bag=*/true, /*history_encoder=*/false);
  fism.eval();
  CHECK(fism.encoder == nullptr);
  for (const auto& p : fism.named_parameters()) CHECK(p.key().find("encoder") == std::string::npos);
  const auto fism_expected =
      (fism.bag_table_->weight[3] + fism.bag_table_->weight[5]) / std::sqrt(2.0);
  CHECK(torch::allclose(fism.State(in)[0], fism_expected, 1e-5, 1e-6));
  const auto fism_all = fism.ScoreAll(in);
  CHECK(fism_all[1][9].item<float>() == Approx(fism.forward(in)[1].item<float>()).epsilon(1e-5));
  CHECK_THROWS_WITH(env::SequentialResponseImpl(o, false, false),
                    Catch::Contains("history encoder or the history bag"));
}

TEST_CASE("FISM alone: the config needs the bag, and a fitted simulator loads and steps",
          "[simulator][response]") {
  auto cfg = recarena::testing::TinySimConfig();
  cfg.sim.response.history_encoder = false;
  CHECK_THROWS_WITH(cfg.Validate(), Catch::Contains("sim.response.history_encoder") &&
                                        Catch::Contains("history_bag"));
  cfg.sim.response.history_bag = true;
  CHECK_NOTHROW(cfg.Validate());
  recarena::testing::TempDir dir;
  env::FitSimulator(cfg, dir.path());
  auto sim = env::LoadSimulator(dir.path(), env::SimRole::kTrain);
  const auto* m =
      dynamic_cast<const env::SequentialResponseImpl*>(sim->response->models().at(0).get());
  REQUIRE(m != nullptr);
  CHECK(m->encoder == nullptr);
  env::VectorEnvOptions opt;
  opt.num_envs = 3;
  env::VectorEnv venv(sim, opt);
  auto r = venv.Reset(5);
  for (int t = 0; t < 4; ++t) {
    r = venv.Step(r.candidate_mask.to(torch::kInt64).argmax(1));
    CHECK(torch::isfinite(r.reward).all().item<bool>());
  }
}
