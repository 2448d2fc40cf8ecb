#include "env/calibration.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/error.h"

namespace recarena::env {
namespace {

constexpr double kEps = 1e-6;
constexpr double kMinSlope = 0.01;

double Logit(double p) {
  p = std::clamp(p, kEps, 1.0 - kEps);
  return std::log(p / (1.0 - p));
}
double Sigmoid(double z) { return 1.0 / (1.0 + std::exp(-z)); }

void CheckRows(const std::vector<float>& pred, const std::vector<float>& label, const char* what) {
  if (pred.size() != label.size()) {
    throw Error(std::string(what) + ": " + std::to_string(pred.size()) + " predictions for " +
                std::to_string(label.size()) + " labels");
  }
  if (pred.empty()) throw Error(std::string(what) + ": no rows");
}

double MeanBce(const std::vector<double>& z, const std::vector<float>& y, double a, double b) {
  double s = 0.0;
  for (size_t i = 0; i < z.size(); ++i) {
    const double t = a * z[i] + b;
    // log(1 + e^t) - y t, computed without overflow.
    s += (t > 0 ? t + std::log1p(std::exp(-t)) : std::log1p(std::exp(t))) - y[i] * t;
  }
  return s / static_cast<double>(z.size());
}

// Damped Newton's method for min_theta mean BCE(sigmoid(a z + b), y), theta = (a, b) or a alone
// (b = 0), from the identity map; each step is halved until the loss does not increase, so the
// iteration cannot run away when the start is far from the optimum.
std::pair<double, double> FitLogistic(const std::vector<double>& z, const std::vector<float>& y,
                                      bool with_bias) {
  double a = 1.0, b = 0.0;
  const double n = static_cast<double>(z.size());
  double loss = MeanBce(z, y, a, b);
  for (int iter = 0; iter < 100; ++iter) {
    double ga = 0, gb = 0, haa = 0, hab = 0, hbb = 0;
    for (size_t i = 0; i < z.size(); ++i) {
      const double p = Sigmoid(a * z[i] + b);
      const double r = p - y[i], w = std::max(p * (1.0 - p), 1e-12);
      ga += r * z[i];
      gb += r;
      haa += w * z[i] * z[i];
      hab += w * z[i];
      hbb += w;
    }
    // A tiny ridge keeps the Hessian invertible when the rows are separable.
    haa = haa / n + 1e-9;
    hab /= n;
    hbb = hbb / n + 1e-9;
    ga /= n;
    gb /= n;
    double da, db = 0.0;
    if (with_bias) {
      const double det = haa * hbb - hab * hab;
      da = (hbb * ga - hab * gb) / det;
      db = (haa * gb - hab * ga) / det;
    } else {
      da = ga / haa;
    }
    double step = 1.0, next = MeanBce(z, y, a - da, b - db);
    for (int h = 0; h < 40 && !(next <= loss); ++h) {
      step *= 0.5;
      next = MeanBce(z, y, a - step * da, b - step * db);
    }
    if (!(next <= loss)) break;  // no descent left: at the optimum to rounding
    a -= step * da;
    b -= step * db;
    if (a < kMinSlope) {
      // Projected step: the map must stay increasing (see the header).
      a = kMinSlope;
      next = MeanBce(z, y, a, b);
    }
    const bool done = loss - next < 1e-12 && std::abs(step * da) + std::abs(step * db) < 1e-8;
    loss = next;
    if (done) break;
  }
  return {a, b};
}

// Pool-adjacent-violators: rows sorted by pred, equal preds pooled first (so the knots' x differ),
// then adjacent blocks merged while the earlier mean label is >= the later one.
void FitIsotonic(const std::vector<float>& pred, const std::vector<float>& label, Calibration& c) {
  std::vector<size_t> idx(pred.size());
  std::iota(idx.begin(), idx.end(), 0);
  std::sort(idx.begin(), idx.end(), [&](size_t i, size_t j) { return pred[i] < pred[j]; });
  struct Block {
    double n, sx, sy;
  };
  std::vector<Block> blocks;
  for (size_t k = 0; k < idx.size();) {
    Block b{0, 0, 0};
    const float x = pred[idx[k]];
    for (; k < idx.size() && pred[idx[k]] == x; ++k) {
      b.n += 1;
      b.sx += x;
      b.sy += label[idx[k]];
    }
    while (!blocks.empty() && blocks.back().sy / blocks.back().n >= b.sy / b.n) {
      b.n += blocks.back().n;
      b.sx += blocks.back().sx;
      b.sy += blocks.back().sy;
      blocks.pop_back();
    }
    blocks.push_back(b);
  }
  for (const auto& b : blocks) {
    c.knot_x.push_back(b.sx / b.n);
    c.knot_y.push_back(b.sy / b.n);
  }
}

double Interpolate(const std::vector<double>& xs, const std::vector<double>& ys, double x) {
  const auto hi = std::upper_bound(xs.begin(), xs.end(), x);
  if (hi == xs.begin()) return ys.front();
  if (hi == xs.end()) return ys.back();
  const auto j = static_cast<size_t>(hi - xs.begin());
  const double t = (x - xs[j - 1]) / (xs[j] - xs[j - 1]);
  return ys[j - 1] + t * (ys[j] - ys[j - 1]);
}

}  // namespace

void CheckIsotonicKnots(const Calibration& c) {
  if (c.knot_x.empty() || c.knot_x.size() != c.knot_y.size()) {
    throw Error("isotonic calibration: " + std::to_string(c.knot_x.size()) +
                " knot positions for " + std::to_string(c.knot_y.size()) +
                " values (need the same number, at least one)");
  }
  for (size_t i = 0; i < c.knot_x.size(); ++i) {
    if (!std::isfinite(c.knot_x[i]) || !std::isfinite(c.knot_y[i])) {
      throw Error("isotonic calibration: knot " + std::to_string(i) + " is not finite");
    }
    if (i > 0 && (c.knot_x[i] <= c.knot_x[i - 1] || c.knot_y[i] <= c.knot_y[i - 1])) {
      throw Error("isotonic calibration: knot " + std::to_string(i) + " (" +
                  std::to_string(c.knot_x[i]) + ", " + std::to_string(c.knot_y[i]) +
                  ") does not increase on the one before it");
    }
  }
}

torch::Tensor Calibration::Apply(const torch::Tensor& pred) const {
  if (identity()) return pred;
  if (kind == CalibrationKind::kIsotonic) {
    // Same interpolation as Apply(double), in double on pred's device.
    const auto opts = torch::TensorOptions().dtype(torch::kDouble).device(pred.device());
    const auto xs = torch::tensor(knot_x, torch::kDouble).to(opts.device());
    const auto ys = torch::tensor(knot_y, torch::kDouble).to(opts.device());
    const auto p = pred.to(opts);
    const int64_t k = xs.size(0);
    torch::Tensor iso;
    if (k == 1) {
      iso = torch::full_like(p, knot_y[0]);
    } else {
      const auto hi = torch::searchsorted(xs, p, /*out_int32=*/false, /*right=*/true);
      const auto j = hi.clamp(1, k - 1);
      const auto x0 = xs.index({j - 1}), x1 = xs.index({j});
      const auto y0 = ys.index({j - 1}), y1 = ys.index({j});
      iso = y0 + ((p - x0) / (x1 - x0)).clamp(0.0, 1.0) * (y1 - y0);
    }
    return ((1.0 - kIsotonicBlend) * iso + kIsotonicBlend * p).to(pred.scalar_type());
  }
  if (target == ResponseTarget::kClick) {
    return torch::sigmoid(torch::logit(pred.clamp(kEps, 1.0 - kEps)) * a + b);
  }
  return pred * a + b;
}

double Calibration::Apply(double pred) const {
  if (identity()) return pred;
  if (kind == CalibrationKind::kIsotonic) {
    return (1.0 - kIsotonicBlend) * Interpolate(knot_x, knot_y, pred) + kIsotonicBlend * pred;
  }
  return target == ResponseTarget::kClick ? Sigmoid(a * Logit(pred) + b) : a * pred + b;
}

Calibration FitCalibration(CalibrationKind kind, ResponseTarget target,
                           const std::vector<float>& pred, const std::vector<float>& label) {
  CheckRows(pred, label, "FitCalibration");
  Calibration c;
  c.kind = kind;
  c.target = target;
  if (kind == CalibrationKind::kNone) return c;
  if (target == ResponseTarget::kClick) {
    for (size_t i = 0; i < pred.size(); ++i) {
      if (label[i] != 0.0f && label[i] != 1.0f) {
        throw Error("FitCalibration: click label " + std::to_string(label[i]) + " of row " +
                    std::to_string(i) + " is not 0 or 1");
      }
    }
  }
  if (kind == CalibrationKind::kIsotonic) {
    for (size_t i = 0; i < pred.size(); ++i) {
      if (!std::isfinite(pred[i]) || !std::isfinite(label[i])) {
        throw Error("FitCalibration: row " + std::to_string(i) + " is not finite");
      }
    }
    FitIsotonic(pred, label, c);
    return c;
  }
  const bool with_bias = kind == CalibrationKind::kPlatt;
  if (target == ResponseTarget::kClick) {
    std::vector<double> z(pred.size());
    for (size_t i = 0; i < pred.size(); ++i) z[i] = Logit(pred[i]);
    std::tie(c.a, c.b) = FitLogistic(z, label, with_bias);
  } else {
    const double n = static_cast<double>(pred.size());
    double sx = 0, sy = 0, sxx = 0, sxy = 0;
    for (size_t i = 0; i < pred.size(); ++i) {
      sx += pred[i];
      sy += label[i];
      sxx += static_cast<double>(pred[i]) * pred[i];
      sxy += static_cast<double>(pred[i]) * label[i];
    }
    if (with_bias) {
      const double var = sxx - sx * sx / n;
      c.a = std::max(kMinSlope, var > 1e-12 ? (sxy - sx * sy / n) / var : kMinSlope);
      c.b = (sy - c.a * sx) / n;
    } else {
      c.a = std::max(kMinSlope, sxx > 1e-12 ? sxy / sxx : 1.0);
    }
  }
  if (!std::isfinite(c.a) || !std::isfinite(c.b)) {
    throw Error("FitCalibration: the fit diverged (a = " + std::to_string(c.a) +
                ", b = " + std::to_string(c.b) + ")");
  }
  return c;
}

double ExpectedCalibrationError(const std::vector<float>& pred, const std::vector<float>& label,
                                int bins) {
  if (pred.size() != label.size()) {
    throw Error("ExpectedCalibrationError: " + std::to_string(pred.size()) + " predictions for " +
                std::to_string(label.size()) + " labels");
  }
  if (bins < 1) throw Error("ExpectedCalibrationError: bins must be >= 1");
  if (pred.empty()) return std::nan("");
  std::vector<double> ps(static_cast<size_t>(bins), 0.0), ys(static_cast<size_t>(bins), 0.0);
  std::vector<int64_t> n(static_cast<size_t>(bins), 0);
  for (size_t i = 0; i < pred.size(); ++i) {
    const int k = std::clamp(static_cast<int>(pred[i] * bins), 0, bins - 1);
    ps[static_cast<size_t>(k)] += pred[i];
    ys[static_cast<size_t>(k)] += label[i];
    ++n[static_cast<size_t>(k)];
  }
  double ece = 0.0;
  for (size_t k = 0; k < n.size(); ++k) {
    if (n[k] > 0) ece += std::abs(ps[k] - ys[k]);  // = n_k * |mean pred - mean label|
  }
  return ece / static_cast<double>(pred.size());
}

double LogLoss(const std::vector<float>& pred, const std::vector<float>& label) {
  CheckRows(pred, label, "LogLoss");
  double s = 0.0;
  for (size_t i = 0; i < pred.size(); ++i) {
    const double p = std::clamp(static_cast<double>(pred[i]), kEps, 1.0 - kEps);
    s -= label[i] * std::log(p) + (1.0 - label[i]) * std::log(1.0 - p);
  }
  return s / static_cast<double>(pred.size());
}

double RocAuc(const std::vector<float>& scores, const std::vector<uint8_t>& labels) {
  std::vector<size_t> idx(scores.size());
  std::iota(idx.begin(), idx.end(), 0);
  std::sort(idx.begin(), idx.end(), [&](size_t a, size_t b) { return scores[a] < scores[b]; });
  double rank_sum = 0.0, pos = 0.0;
  for (size_t i = 0; i < idx.size();) {
    size_t j = i;
    while (j < idx.size() && scores[idx[j]] == scores[idx[i]]) ++j;
    const double avg_rank = (static_cast<double>(i) + static_cast<double>(j) + 1.0) / 2.0;
    for (size_t k = i; k < j; ++k) {
      if (labels[idx[k]]) {
        rank_sum += avg_rank;
        pos += 1.0;
      }
    }
    i = j;
  }
  const double neg = static_cast<double>(scores.size()) - pos;
  if (pos == 0 || neg == 0) return std::nan("");
  return (rank_sum - pos * (pos + 1.0) / 2.0) / (pos * neg);
}

}  // namespace recarena::env
