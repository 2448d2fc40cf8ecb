#include "policies/exploration.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "core/error.h"

namespace recarena::policies {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

[[noreturn]] void Bad(const std::string& path, const std::string& message) {
  throw ConfigError(path, path + " " + message);
}

std::string Num(double v) { return fmt::format("{}", v); }

void RequireFinite(const std::string& path, double v) {
  if (!std::isfinite(v)) Bad(path, "must be a finite number, got " + Num(v));
}

void RequireInRange(const std::string& path, double v, double lo, double hi) {
  if (!(v >= lo && v <= hi)) {
    Bad(path, "must be in [" + Num(lo) + ", " + Num(hi) + "], got " + Num(v));
  }
}

void RequirePositive(const std::string& path, double v) {
  if (!(v > 0.0) || !std::isfinite(v)) Bad(path, "must be > 0 and finite, got " + Num(v));
}

// Inverse-CDF sampling over [B, M] unnormalised weights (double, >= 0, a positive entry in every
// row): for each row the first index whose cumulative weight / row total exceeds u ([B] double).
// Consumes `weights` (the cumulative sum is taken in place).
torch::Tensor InverseCdf(torch::Tensor weights, const torch::Tensor& u) {
  const int64_t m = weights.size(1);
  torch::Tensor cdf = weights.cumsum_(1);
  // Dividing by the row total makes the last entry exactly 1 > u, so the search never runs past
  // the last item with positive weight (entries after it repeat the same value).
  cdf.div_(cdf.narrow(1, m - 1, 1).clone());
  torch::Tensor idx = torch::searchsorted(cdf, u.unsqueeze(1).contiguous(), /*out_int32=*/false,
                                          /*right=*/true);
  return idx.squeeze(1).clamp_max(m - 1);
}

// On CPU, Select and Probabilities work through the batch in chunks of rows of about this many
// elements: every intermediate then stays a few MB (reused by the allocator) instead of several
// [B, N] tensors of up to 650 MB each, whose page faults dominate the cost at B = 4096, N = 20000.
// Rows are independent, so chunking does not change any result. On CUDA the batch is one chunk.
constexpr int64_t kCpuChunkElements = int64_t{1} << 20;

int64_t RowsPerChunk(const torch::Tensor& scores) {
  const int64_t rows = std::max<int64_t>(scores.size(0), 1);
  if (!scores.device().is_cpu()) return rows;
  return std::clamp<int64_t>(kCpuChunkElements / std::max<int64_t>(scores.size(1), 1), 1, rows);
}

}  // namespace

void ScheduleOptions::Validate(const std::string& path) const {
  RequireFinite(path + ".start", start);
  RequireFinite(path + ".end", end);
  if (kind != ScheduleKind::kConstant && steps < 1) {
    Bad(path + ".steps", "must be >= 1, got " + std::to_string(steps));
  }
  if (kind == ScheduleKind::kExponential) {
    if (!(start > 0.0))
      Bad(path + ".start", "must be > 0 for an exponential schedule, got " + Num(start));
    if (!(end > 0.0))
      Bad(path + ".end", "must be > 0 for an exponential schedule, got " + Num(end));
  }
}

double ScheduleOptions::Value(int64_t step) const {
  if (kind == ScheduleKind::kConstant) return start;
  const int64_t s = std::min(std::max<int64_t>(step, 0), steps);
  if (s >= steps) return end;  // exact at and after the end of the schedule
  const double frac = static_cast<double>(s) / static_cast<double>(steps);
  if (kind == ScheduleKind::kLinear) return start + (end - start) * frac;
  return start * std::pow(end / start, frac);
}

void ExplorationOptions::Validate() const {
  epsilon.Validate("exploration.epsilon");
  RequireInRange("exploration.epsilon.start", epsilon.start, 0.0, 1.0);
  if (epsilon.kind != ScheduleKind::kConstant) {
    RequireInRange("exploration.epsilon.end", epsilon.end, 0.0, 1.0);
  }
  RequirePositive("exploration.temperature", temperature);
  boltzmann_temperature.Validate("exploration.boltzmann_temperature");
  RequirePositive("exploration.boltzmann_temperature.start", boltzmann_temperature.start);
  if (boltzmann_temperature.kind != ScheduleKind::kConstant) {
    RequirePositive("exploration.boltzmann_temperature.end", boltzmann_temperature.end);
  }
  if (top_k < 1) Bad("exploration.top_k", "must be >= 1, got " + std::to_string(top_k));
  if (!(ucb_coef >= 0.0) || !std::isfinite(ucb_coef)) {
    Bad("exploration.ucb_coef", "must be >= 0 and finite, got " + Num(ucb_coef));
  }
}

Explorer::Explorer(const ExplorationOptions& options, int64_t num_items)
    : options_(options), num_items_(num_items) {
  options_.Validate();
  if (num_items_ < 1) {
    throw Error("explorer: num_items must be >= 1 (the catalog size), got " +
                std::to_string(num_items_));
  }
  counts_ = torch::zeros({num_items_}, torch::kInt64);
}

void Explorer::CheckShapes(const torch::Tensor& scores, const torch::Tensor& mask,
                           const char* caller) const {
  const std::string where = std::string("Explorer::") + caller + ": ";
  if (!scores.defined() || scores.dim() != 2 || scores.size(1) != num_items_) {
    throw Error(where + "scores must be [B, " + std::to_string(num_items_) + "], got " +
                (scores.defined() ? c10::str(scores.sizes()) : std::string("an undefined tensor")));
  }
  if (!scores.is_floating_point()) {
    throw Error(where + "scores must be floating point, got " +
                std::string(c10::toString(scores.scalar_type())));
  }
  if (!mask.defined() || mask.sizes() != scores.sizes() || mask.scalar_type() != torch::kBool) {
    throw Error(where + "mask must be a bool tensor shaped like scores " +
                c10::str(scores.sizes()) + ", got " +
                (mask.defined()
                     ? std::string(c10::toString(mask.scalar_type())) + " " + c10::str(mask.sizes())
                     : std::string("an undefined tensor")));
  }
  if (mask.device() != scores.device()) {
    throw Error(where + "mask is on " + mask.device().str() + " but scores are on " +
                scores.device().str());
  }
}

Explorer::Prepared Explorer::Prepare(const torch::Tensor& scores, const torch::Tensor& mask,
                                     int64_t row0, const char* caller) const {
  Prepared p;
  p.masked = torch::where(mask, scores, -kInf);
  // max(dim) returns the first maximal index (documented for CPU and CUDA): ties -> smallest id.
  // It propagates NaN, so one check of the row maxima covers the whole contract: the maximum is
  // finite iff the row has an allowed finite score and no allowed NaN / +inf.
  std::tie(p.row_max, p.greedy) = p.masked.max(1);
  if (!p.row_max.isfinite().all().item<bool>()) {
    // Failure path only: locate the first bad row and say what is wrong with it.
    const std::string where = std::string("Explorer::") + caller + ": ";
    const int64_t r = p.row_max.isfinite().logical_not().nonzero()[0][0].item<int64_t>();
    const std::string row = "row " + std::to_string(row0 + r);
    const double top = p.row_max[r].item<double>();
    if (std::isinf(top) && top < 0) {
      throw Error(where + row + " has no allowed item with a finite score (every row needs one)");
    }
    const torch::Tensor values = scores[r];
    const torch::Tensor bad = mask[r].logical_and(values.isnan().logical_or(values.isposinf()));
    const int64_t item = bad.nonzero()[0][0].item<int64_t>();
    throw Error(where + "score of allowed item " + std::to_string(item) + " in " + row + " is " +
                Num(values[item].item<double>()) + " (NaN and +inf are not allowed)");
  }
  return p;
}

torch::Tensor Explorer::UcbBonus(const torch::Tensor& scores) const {
  // Computed on the host in double and rounded once to the scores' dtype, so every device adds
  // the same values.
  const double total = static_cast<double>(counts_.sum().item<int64_t>());
  return counts_.to(torch::kDouble)
      .add(1.0)
      .reciprocal()
      .mul(std::log(total + 1.0))
      .sqrt()
      .mul(options_.ucb_coef)
      .to(scores.scalar_type())
      .to(scores.device())
      .unsqueeze(0);
}

Explorer::Candidates Explorer::SoftmaxCandidates(const Prepared& p, int64_t step) const {
  const double temperature = options_.kind == ExplorationKind::kBoltzmann
                                 ? options_.boltzmann_temperature.Value(step)
                                 : options_.temperature;
  Candidates c;
  torch::Tensor values = p.masked;  // [rows, M] candidate scores
  const int64_t k = std::min(options_.top_k, num_items_);
  if (options_.kind == ExplorationKind::kTopK && k < num_items_) {
    // The k best allowed items, ties at the k-th score going to the smallest ids. topk(k + 1)
    // settles every row whose k-th and (k+1)-th scores differ (the top-k set is then unique) or
    // are both -inf (the remaining candidates have weight 0, so which ones does not matter).
    auto [top_values, top_items] = p.masked.topk(k + 1, 1, /*largest=*/true, /*sorted=*/true);
    c.items = top_items.narrow(1, 0, k).clone();
    const torch::Tensor kth = top_values.narrow(1, k - 1, 1);
    const torch::Tensor boundary_tie =
        kth.eq(top_values.narrow(1, k, 1)).logical_and(kth.isfinite()).squeeze(1);
    if (boundary_tie.any().item<bool>()) {
      // Rare (exact ties of float scores): for those rows keep every item strictly above the
      // k-th score, then the tied ones in id order until k are kept -- exactly k per row.
      const torch::Tensor rows = boundary_tie.nonzero().squeeze(1);
      const torch::Tensor sub = p.masked.index_select(0, rows);
      const torch::Tensor sub_kth = kth.index_select(0, rows);
      const torch::Tensor above = sub.gt(sub_kth);
      const torch::Tensor tied = sub.eq(sub_kth);
      const torch::Tensor need = k - above.sum(1, /*keepdim=*/true, torch::kInt64);
      const torch::Tensor keep =
          above.logical_or(tied.logical_and(tied.cumsum(1, torch::kInt64).le(need)));
      c.items.index_copy_(0, rows, keep.nonzero().select(1, 1).view({rows.size(0), k}));
    }
    // Increasing id order, so that the inverse CDF runs over the items as a full row would.
    c.items = std::get<0>(c.items.sort(1));
    values = p.masked.gather(1, c.items);
  }
  // Double precision: the inverse-CDF boundaries then agree across devices to ~1e-16, so CPU and
  // CUDA pick the same items. Subtracting the row maximum keeps exp() in range (softmax is
  // shift-invariant); masked items (-inf) get weight exactly 0.
  c.weights = values.to(torch::kDouble)
                  .sub_(p.row_max.to(torch::kDouble).unsqueeze(1))
                  .div_(temperature)
                  .exp_();
  return c;
}

torch::Tensor Explorer::Probabilities(const torch::Tensor& scores, const torch::Tensor& mask,
                                      int64_t step) const {
  CheckShapes(scores, mask, "Probabilities");
  const int64_t batch = scores.size(0);
  torch::Tensor out = torch::zeros(scores.sizes(), scores.options().dtype(torch::kFloat));
  const torch::Tensor bonus =
      options_.kind == ExplorationKind::kUcb ? UcbBonus(scores) : torch::Tensor();
  const int64_t chunk = RowsPerChunk(scores);
  for (int64_t row0 = 0; row0 < batch; row0 += chunk) {
    const int64_t rows = std::min(chunk, batch - row0);
    const torch::Tensor m = mask.narrow(0, row0, rows);
    Prepared p = Prepare(scores.narrow(0, row0, rows), m, row0, "Probabilities");
    torch::Tensor o = out.narrow(0, row0, rows);
    switch (options_.kind) {
      case ExplorationKind::kGreedy:
        o.scatter_(1, p.greedy.unsqueeze(1), 1.0);
        break;
      case ExplorationKind::kUcb:
        o.scatter_(1, p.masked.add_(bonus).argmax(1).unsqueeze(1), 1.0);
        break;
      case ExplorationKind::kEpsilonGreedy: {
        const double eps = Epsilon(step);
        const torch::Tensor n_allowed = m.sum(1, /*keepdim=*/true, torch::kDouble);
        torch::Tensor probs = m.to(torch::kDouble).mul_(eps).div_(n_allowed);
        probs.scatter_add_(1, p.greedy.unsqueeze(1),
                           torch::full({rows, 1}, 1.0 - eps, probs.options()));
        o.copy_(probs);
        break;
      }
      case ExplorationKind::kCategorical:
      case ExplorationKind::kBoltzmann:
      case ExplorationKind::kTopK: {
        Candidates c = SoftmaxCandidates(p, step);
        c.weights.div_(c.weights.sum(1, /*keepdim=*/true));
        if (c.items.defined()) {
          o.scatter_(1, c.items, c.weights.to(torch::kFloat));
        } else {
          o.copy_(c.weights);
        }
        break;
      }
    }
  }
  return out;
}

ActionSelection Explorer::Select(const torch::Tensor& scores, const torch::Tensor& mask,
                                 int64_t step, Rng& rng) {
  CheckShapes(scores, mask, "Select");
  const int64_t batch = scores.size(0);
  const torch::Device device = scores.device();
  // The two uniforms per row, drawn in row order whatever the kind (see the header). A call that
  // throws leaves rng as it was.
  const Rng rng_before = rng;
  std::vector<double> draws(static_cast<size_t>(2 * batch));
  for (double& d : draws) d = rng.Uniform();
  const torch::Tensor bonus =
      options_.kind == ExplorationKind::kUcb ? UcbBonus(scores) : torch::Tensor();
  const double eps = Epsilon(step);

  std::vector<torch::Tensor> actions, greedy;
  const int64_t chunk = RowsPerChunk(scores);
  try {
    for (int64_t row0 = 0; row0 < batch; row0 += chunk) {
      const int64_t rows = std::min(chunk, batch - row0);
      const torch::Tensor m = mask.narrow(0, row0, rows);
      Prepared p = Prepare(scores.narrow(0, row0, rows), m, row0, "Select");
      double* row_draws = draws.data() + 2 * row0;
      const torch::Tensor u =
          torch::from_blob(row_draws, {rows, 2}, torch::kDouble).clone().to(device);
      torch::Tensor a;
      switch (options_.kind) {
        case ExplorationKind::kGreedy:
          a = p.greedy;
          break;
        case ExplorationKind::kUcb:
          a = p.masked.add_(bonus).argmax(1);
          break;
        case ExplorationKind::kEpsilonGreedy: {
          // Row b explores when u1 < eps: it takes its floor(u2 * n_allowed)-th allowed item in
          // id order (0-based), i.e. the first index where the running count of allowed items
          // exceeds that number. The u1 are on the host, so only the exploring rows are ranked.
          std::vector<int64_t> explore;
          for (int64_t b = 0; b < rows; ++b) {
            if (row_draws[2 * b] < eps) explore.push_back(b);
          }
          a = p.greedy;
          if (!explore.empty()) {
            const auto e = static_cast<int64_t>(explore.size());
            const torch::Tensor idx =
                torch::from_blob(explore.data(), {e}, torch::kInt64).clone().to(device);
            // int32 ranks: N < 2^31, half the memory of int64.
            const torch::Tensor rank = m.index_select(0, idx).cumsum(1, torch::kInt32);
            const torch::Tensor n_allowed = rank.narrow(1, num_items_ - 1, 1).squeeze(1);
            const torch::Tensor j = torch::minimum(u.select(1, 1)
                                                       .index_select(0, idx)
                                                       .mul(n_allowed.to(torch::kDouble))
                                                       .floor()
                                                       .to(torch::kInt32),
                                                   n_allowed - 1);
            const torch::Tensor pick = torch::searchsorted(rank, (j + 1).unsqueeze(1).contiguous(),
                                                           /*out_int32=*/false, /*right=*/false)
                                           .squeeze(1)
                                           .clamp_max(num_items_ - 1);
            a = p.greedy.index_copy(0, idx, pick);
          }
          break;
        }
        case ExplorationKind::kCategorical:
        case ExplorationKind::kBoltzmann:
        case ExplorationKind::kTopK: {
          Candidates c = SoftmaxCandidates(p, step);
          const torch::Tensor pos = InverseCdf(std::move(c.weights), u.select(1, 0));
          a = c.items.defined() ? c.items.gather(1, pos.unsqueeze(1)).squeeze(1) : pos;
          break;
        }
      }
      // Safety net: an item that is not allowed (only conceivable through rounding) becomes the
      // greedy one. Cheap: [rows] gathers.
      a = torch::where(m.gather(1, a.unsqueeze(1)).squeeze(1), a, p.greedy);
      greedy.push_back(a.eq(p.greedy));
      actions.push_back(std::move(a));
    }
  } catch (...) {
    rng = rng_before;
    throw;
  }
  if (batch == 0) {
    return {torch::zeros({0}, torch::TensorOptions(device).dtype(torch::kInt64)),
            torch::zeros({0}, torch::TensorOptions(device).dtype(torch::kBool))};
  }
  if (actions.size() == 1) return {actions[0], greedy[0]};
  return {torch::cat(actions), torch::cat(greedy)};
}

double Explorer::Epsilon(int64_t step) const {
  return std::clamp(options_.epsilon.Value(step), 0.0, 1.0);
}

void Explorer::Observe(const torch::Tensor& actions) {
  if (options_.kind != ExplorationKind::kUcb) return;
  if (!actions.defined() || actions.scalar_type() != torch::kInt64) {
    throw Error("Explorer::Observe: actions must be an int64 tensor");
  }
  const torch::Tensor a = actions.reshape({-1}).cpu();
  if (a.numel() == 0) return;
  const int64_t lo = a.min().item<int64_t>(), hi = a.max().item<int64_t>();
  if (lo < 0 || hi >= num_items_) {
    throw Error("Explorer::Observe: action ids must be in [0, " + std::to_string(num_items_) +
                "), got " + std::to_string(lo < 0 ? lo : hi));
  }
  counts_.add_(torch::bincount(a, /*weights=*/{}, num_items_));
}

void Explorer::Save(torch::serialize::OutputArchive& archive) const {
  archive.write("explorer_counts", counts_);
}

void Explorer::Load(torch::serialize::InputArchive& archive) {
  torch::Tensor t;
  if (!archive.try_read("explorer_counts", t)) {
    throw Error("Explorer::Load: the checkpoint has no 'explorer_counts' tensor");
  }
  if (t.dim() != 1 || t.size(0) != num_items_) {
    throw Error("Explorer::Load: 'explorer_counts' must be [" + std::to_string(num_items_) +
                "] (the catalog size), got " + c10::str(t.sizes()));
  }
  counts_ = t.to(torch::kCPU, torch::kInt64).clone();
}

}  // namespace recarena::policies
