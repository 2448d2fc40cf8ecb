// Calibration maps and metrics (env/calibration.h): golden values, and recovery of a planted
// miscalibration.
#include <catch2/catch.hpp>

#include <cmath>

#include "core/error.h"
#include "core/rng.h"
#include "env/calibration.h"

using namespace recarena;
using env::CalibrationKind;
using env::ResponseTarget;

namespace {

double Sigmoid(double z) { return 1.0 / (1.0 + std::exp(-z)); }

// Labels ~ Bernoulli(sigmoid(z)) with z ~ N(0, 1.5^2); the model reports sigmoid(3 z + 1):
// overconfident (3x the logit) and biased upwards.
void Planted(uint64_t seed, size_t n, std::vector<float>& pred, std::vector<float>& label) {
  Rng rng(seed);
  pred.resize(n);
  label.resize(n);
  for (size_t i = 0; i < n; ++i) {
    const double z = rng.Normal(0.0, 1.5);
    label[i] = rng.Uniform() < Sigmoid(z) ? 1.0f : 0.0f;
    pred[i] = static_cast<float>(Sigmoid(3.0 * z + 1.0));
  }
}

}  // namespace

TEST_CASE("ECE and log-loss golden values", "[env][calibration]") {
  // Bin 1: mean pred 0.1 vs mean label 0.5 (2 rows); bin 9: 0.9 vs 1.0 (2 rows).
  CHECK(env::ExpectedCalibrationError({0.1f, 0.1f, 0.9f, 0.9f}, {0, 1, 1, 1}) ==
        Approx(0.5 * 0.4 + 0.5 * 0.1));
  CHECK(env::ExpectedCalibrationError({0.3f, 0.7f}, {0.3f, 0.7f}) == Approx(0.0).margin(1e-7));
  CHECK(std::isnan(env::ExpectedCalibrationError({}, {})));
  CHECK(env::LogLoss({0.5f, 0.5f}, {0, 1}) == Approx(std::log(2.0)));
  CHECK(env::LogLoss({0.8f}, {1}) == Approx(-std::log(0.8)));
  CHECK_THROWS_AS(env::LogLoss({0.5f}, {}), Error);
  CHECK_THROWS_AS(env::ExpectedCalibrationError({0.5f}, {1, 0}), Error);
}

TEST_CASE("Platt and temperature scaling undo a planted miscalibration", "[env][calibration]") {
  std::vector<float> fit_p, fit_y, test_p, test_y;
  Planted(1, 20000, fit_p, fit_y);
  Planted(2, 20000, test_p, test_y);
  const double before = env::ExpectedCalibrationError(test_p, test_y);
  REQUIRE(before > 0.1);

  const auto platt =
      env::FitCalibration(CalibrationKind::kPlatt, ResponseTarget::kClick, fit_p, fit_y);
  // The exact inverse of the planted map is a = 1/3, b = -1/3.
  CHECK(platt.a == Approx(1.0 / 3.0).margin(0.03));
  CHECK(platt.b == Approx(-1.0 / 3.0).margin(0.06));
  std::vector<float> after(test_p.size());
  for (size_t i = 0; i < test_p.size(); ++i) after[i] = static_cast<float>(platt.Apply(test_p[i]));
  const double ece = env::ExpectedCalibrationError(after, test_y);
  CHECK(ece < 0.02);
  CHECK(env::LogLoss(after, test_y) < env::LogLoss(test_p, test_y));

  // The tensor map is the scalar one.
  const auto t = platt.Apply(torch::tensor(std::vector<float>(test_p.begin(), test_p.begin() + 5)));
  for (int64_t i = 0; i < 5; ++i) {
    CHECK(t[i].item<float>() == Approx(after[static_cast<size_t>(i)]).epsilon(1e-5));
  }

  const auto temp =
      env::FitCalibration(CalibrationKind::kTemperature, ResponseTarget::kClick, fit_p, fit_y);
  CHECK(temp.b == 0.0);
  CHECK(temp.a < 0.6);  // shrinks the overconfident logits
  std::vector<float> scaled(test_p.size());
  for (size_t i = 0; i < test_p.size(); ++i) scaled[i] = static_cast<float>(temp.Apply(test_p[i]));
  CHECK(env::ExpectedCalibrationError(scaled, test_y) < before);

  const auto none =
      env::FitCalibration(CalibrationKind::kNone, ResponseTarget::kClick, fit_p, fit_y);
  CHECK(none.identity());
  CHECK(none.Apply(0.37) == 0.37);
}

TEST_CASE("rating calibration is least squares", "[env][calibration]") {
  const std::vector<float> pred = {1, 2, 3, 4};
  const std::vector<float> label = {3, 5, 7, 9};  // 2 r + 1
  const auto c = env::FitCalibration(CalibrationKind::kPlatt, ResponseTarget::kRating, pred, label);
  CHECK(c.a == Approx(2.0));
  CHECK(c.b == Approx(1.0).margin(1e-9));
  CHECK(c.Apply(10.0) == Approx(21.0));
  const auto s =
      env::FitCalibration(CalibrationKind::kTemperature, ResponseTarget::kRating, pred, label);
  CHECK(s.b == 0.0);
  CHECK(s.a == Approx((3 + 10 + 21 + 36) / 30.0));  // sum(r y) / sum(r^2)
}

TEST_CASE("FitCalibration rejects bad rows", "[env][calibration]") {
  CHECK_THROWS_AS(env::FitCalibration(CalibrationKind::kPlatt, ResponseTarget::kClick, {}, {}),
                  Error);
  CHECK_THROWS_AS(
      env::FitCalibration(CalibrationKind::kPlatt, ResponseTarget::kClick, {0.5f}, {0.5f}), Error);
  CHECK_THROWS_AS(
      env::FitCalibration(CalibrationKind::kPlatt, ResponseTarget::kClick, {0.5f, 0.2f}, {1}),
      Error);
}

TEST_CASE("a calibration never reverses the ranking", "[env][calibration]") {
  // Labels anti-correlated with the predictions: the unconstrained Platt slope would be negative.
  const std::vector<float> pred = {0.1f, 0.2f, 0.3f, 0.7f, 0.8f, 0.9f};
  const std::vector<float> label = {1, 1, 1, 0, 0, 0};
  const auto c = env::FitCalibration(CalibrationKind::kPlatt, ResponseTarget::kClick, pred, label);
  CHECK(c.a == Approx(0.01));
  CHECK(c.Apply(0.9) > c.Apply(0.1));
  const auto r =
      env::FitCalibration(CalibrationKind::kPlatt, ResponseTarget::kRating, {1, 2, 3}, {3, 2, 1});
  CHECK(r.a == Approx(0.01));
  CHECK(r.b == Approx(2.0 - 0.01 * 2.0));  // b = mean(y) - a mean(x)
}

TEST_CASE("isotonic calibration: pool-adjacent-violators golden knots", "[env][calibration]") {
  // Sorted by pred: labels 0 1 0 1 1 -> blocks {0}, {1, 0} pooled to 0.5, {1, 1} -> 1 (equal preds
  // 0.8 pooled first). Knot x = the block's mean pred.
  const std::vector<float> pred = {0.8f, 0.1f, 0.3f, 0.4f, 0.8f};
  const std::vector<float> label = {1, 0, 1, 0, 1};
  const auto c =
      env::FitCalibration(CalibrationKind::kIsotonic, ResponseTarget::kClick, pred, label);
  REQUIRE(c.knot_x.size() == 3);
  CHECK(c.knot_x[0] == Approx(0.1));
  CHECK(c.knot_x[1] == Approx(0.35));
  CHECK(c.knot_x[2] == Approx(0.8));
  CHECK(c.knot_y == std::vector<double>{0.0, 0.5, 1.0});
  const double w = env::kIsotonicBlend;
  // Linear between knots, constant beyond them, blended with the identity.
  CHECK(c.Apply(0.575) == Approx((1 - w) * 0.75 + w * 0.575));
  CHECK(c.Apply(0.05) == Approx(w * 0.05));
  CHECK(c.Apply(0.95) == Approx((1 - w) + w * 0.95));
  env::CheckIsotonicKnots(c);
  // Strictly increasing even where plain isotonic is flat, so no ranking is lost.
  CHECK(c.Apply(0.02) < c.Apply(0.05));
  CHECK(c.Apply(0.9) < c.Apply(0.95));
  // The tensor map is the scalar one, float in and out.
  const auto t = c.Apply(torch::tensor({0.05f, 0.2f, 0.575f, 0.95f}));
  CHECK(t.scalar_type() == torch::kFloat);
  const std::vector<double> xs = {0.05, 0.2, 0.575, 0.95};
  for (int64_t i = 0; i < 4; ++i) {
    CHECK(t[i].item<float>() == Approx(c.Apply(xs[static_cast<size_t>(i)])).epsilon(1e-6));
  }
  // Ratings: the same fit on real-valued labels.
  const auto r = env::FitCalibration(CalibrationKind::kIsotonic, ResponseTarget::kRating, {1, 2, 3},
                                     {2, 4, 3});
  CHECK(r.knot_y == std::vector<double>{2.0, 3.5});
}

TEST_CASE("isotonic calibration undoes an S-shaped miscalibration that Platt cannot",
          "[env][calibration]") {
  // Labels ~ Bernoulli(t) for true t uniform; the model reports t^3 below 0.5 and sqrt-ish above:
  // a non-logit-linear distortion. Isotonic must get ECE near zero on fresh rows, and below Platt.
  auto make = [](uint64_t seed, size_t n, std::vector<float>& p, std::vector<float>& y) {
    Rng rng(seed);
    p.resize(n);
    y.resize(n);
    for (size_t i = 0; i < n; ++i) {
      const double t = rng.Uniform();
      y[i] = rng.Uniform() < t ? 1.0f : 0.0f;
      p[i] = static_cast<float>(t < 0.5 ? 4.0 * t * t * t : 0.5 + 0.5 * std::sqrt(2.0 * t - 1.0));
    }
  };
  std::vector<float> fit_p, fit_y, test_p, test_y;
  make(3, 20000, fit_p, fit_y);
  make(4, 20000, test_p, test_y);
  const double before = env::ExpectedCalibrationError(test_p, test_y);
  REQUIRE(before > 0.05);
  auto ece_of = [&](const env::Calibration& c) {
    std::vector<float> out(test_p.size());
    for (size_t i = 0; i < test_p.size(); ++i) out[i] = static_cast<float>(c.Apply(test_p[i]));
    return env::ExpectedCalibrationError(out, test_y);
  };
  const auto iso =
      env::FitCalibration(CalibrationKind::kIsotonic, ResponseTarget::kClick, fit_p, fit_y);
  const auto platt =
      env::FitCalibration(CalibrationKind::kPlatt, ResponseTarget::kClick, fit_p, fit_y);
  const double ece_iso = ece_of(iso), ece_platt = ece_of(platt);
  CHECK(ece_iso < 0.015);
  CHECK(ece_iso < ece_platt);
  // The ranking, and so the AUC, is unchanged.
  std::vector<float> out(test_p.size());
  std::vector<uint8_t> lab(test_y.size());
  for (size_t i = 0; i < test_p.size(); ++i) {
    out[i] = static_cast<float>(iso.Apply(test_p[i]));
    lab[i] = test_y[i] > 0.5f ? 1 : 0;
  }
  CHECK(env::RocAuc(out, lab) == Approx(env::RocAuc(test_p, lab)).epsilon(1e-6));
}

TEST_CASE("isotonic knots are checked", "[env][calibration]") {
  env::Calibration c;
  c.kind = CalibrationKind::kIsotonic;
  CHECK_THROWS_AS(env::CheckIsotonicKnots(c), Error);
  c.knot_x = {0.1, 0.2};
  c.knot_y = {0.3, 0.3};
  CHECK_THROWS_WITH(env::CheckIsotonicKnots(c), Catch::Contains("knot 1"));
  c.knot_y = {0.3, std::nan("")};
  CHECK_THROWS_WITH(env::CheckIsotonicKnots(c), Catch::Contains("not finite"));
  CHECK_THROWS_AS(env::FitCalibration(CalibrationKind::kIsotonic, ResponseTarget::kClick,
                                      {0.5f, std::nanf("")}, {1, 0}),
                  Error);
}
