// Post-hoc calibration of a response model's predictions, and the calibration metrics of the
// fidelity reports.
//
// Click targets: a prediction is a probability p; the calibrated probability is
//   sigmoid(a * logit(p) + b)                      (Platt 1999; temperature scaling: b = 0,
//                                                  Guo et al. 2017, temperature = 1 / a)
// with (a, b) minimising the mean binary cross-entropy on calibration rows (Newton's method on the
// two-parameter logistic regression, which is convex). Rating targets: r -> a * r + b by least
// squares (b = 0 for temperature). p is clamped to [1e-6, 1 - 1e-6] before the logit. The slope
// is kept >= 0.01 (a projected fit): a calibration fitted on few validation users could otherwise
// come out decreasing and reverse the model's ranking; an increasing map leaves every AUC as it
// was.
//
// Isotonic (Zadrozny & Elkan 2002): pool-adjacent-violators on the rows sorted by pred gives blocks
// whose mean labels increase strictly; each block becomes a knot (mean pred, mean label) and the
// map interpolates linearly between knots (constant beyond the first and last). It corrects shapes
// the two-parameter maps cannot (an S-shaped reliability curve). The output is
//   (1 - kIsotonicBlend) * iso(p) + kIsotonicBlend * p
// so the map is strictly increasing everywhere: the model's ranking, and so every AUC, is kept
// (plain isotonic ties all rows below the first and above the last knot), and click probabilities
// stay inside (0, 1) for p inside it. The blend moves a prediction by at most 1% of |p - iso(p)|.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

#include "env/sim_config.h"

namespace recarena::env {

inline constexpr double kIsotonicBlend = 0.01;

struct Calibration {
  CalibrationKind kind = CalibrationKind::kNone;
  ResponseTarget target = ResponseTarget::kClick;
  double a = 1.0, b = 0.0;             // temperature / Platt
  std::vector<double> knot_x, knot_y;  // isotonic: both strictly increasing, same size >= 1

  bool identity() const { return kind == CalibrationKind::kNone; }
  // Applies the map elementwise (any device, float); identity for kNone.
  torch::Tensor Apply(const torch::Tensor& pred) const;
  double Apply(double pred) const;
};

// Throws recarena::Error naming the fault when an isotonic calibration's knots are not as above
// (empty, sizes differ, not finite or not strictly increasing).
void CheckIsotonicKnots(const Calibration& c);

// Fits kind on (pred, label) rows: click labels in {0, 1} with pred probabilities, or rating
// labels with pred ratings. Throws recarena::Error on mismatched sizes or no rows.
Calibration FitCalibration(CalibrationKind kind, ResponseTarget target,
                           const std::vector<float>& pred, const std::vector<float>& label);

// Expected calibration error over `bins` equal-width bins of [0, 1]:
//   sum_bins (rows_in_bin / rows) * |mean pred - mean label|   (Naeini et al. 2015)
// pred and label in [0, 1] (ratings normalised by the caller). NaN for no rows.
double ExpectedCalibrationError(const std::vector<float>& pred, const std::vector<float>& label,
                                int bins = 10);

// Exact ROC AUC of scores for labels (1 = positive), ties counted half. NaN without both classes.
double RocAuc(const std::vector<float>& scores, const std::vector<uint8_t>& labels);

// Mean binary cross-entropy of probabilities pred (clamped to [1e-6, 1 - 1e-6]) against {0, 1}.
double LogLoss(const std::vector<float>& pred, const std::vector<float>& label);

}  // namespace recarena::env
