#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/atomic_file.h"
#include "core/rng.h"
#include "experiments/cli/cli.h"
#include "experiments/report/conformal_eval.h"
#include "test_util.h"

namespace fs = std::filesystem;
using namespace recarena::experiments;
using recarena::Rng;
using recarena::testing::TempDir;

namespace {

const ConformalMethodResult& Find(const ConformalEvalReport& r, const std::string& alpha,
                                  const std::string& method, const std::string& split = "") {
  for (const auto& m : r.results)
    if (m.alpha == alpha && m.method == method && m.split == split) return m;
  FAIL("no result " << alpha << " " << method << " " << split);
  throw 0;
}

ProbabilityBatchFn FromRows(const std::vector<std::vector<double>>& p) {
  return [&p](const std::vector<size_t>& q, std::vector<double>* out) {
    const size_t n = p[0].size();
    for (size_t r = 0; r < q.size(); ++r)
      std::copy(p[q[r]].begin(), p[q[r]].end(), out->begin() + r * n);
  };
}

}  // namespace

TEST_CASE("set-size buckets", "[conformal_eval]") {
  CHECK(SetSizeBucket(0) == 0);
  CHECK(SetSizeBucket(1) == 1);
  CHECK(SetSizeBucket(2) == 2);
  CHECK(SetSizeBucket(5) == 2);
  CHECK(SetSizeBucket(6) == 3);
  CHECK(SetSizeBucket(20) == 3);
  CHECK(SetSizeBucket(21) == 4);
  CHECK(SetSizeBucket(100) == 4);
  CHECK(SetSizeBucket(101) == 5);
  CHECK(SetSizeBucketNames().size() == 6);
}

TEST_CASE("EvaluateConformal: hand-computed sets on identical queries", "[conformal_eval]") {
  // 10 queries, p = (0.5, 0.3, 0.2), label 0 everywhere; 5 calibrate, 5 test.
  std::vector<std::vector<double>> p(10, std::vector<double>{0.5, 0.3, 0.2});
  std::vector<int32_t> labels(10, 0);
  std::vector<int64_t> activity = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
  ConformalEvalOptions o;
  o.alphas = {"0.2", "0.01"};
  o.splits = {};
  o.seed = 5;
  const auto r = EvaluateConformal(10, 3, labels, activity, "index", FromRows(p), o);
  CHECK(r.n_cal == 5);
  CHECK(r.n_test == 5);
  CHECK(r.results.size() == 10);  // 2 alphas x 5 scores
  // alpha 0.2: k = ceil(6 * 0.8) = 5 <= 5: q_hat = the label score; every set is {0}.
  CHECK(Find(r, "0.2", "thr").q_hat == Approx(0.5));
  CHECK(Find(r, "0.2", "aps").q_hat == Approx(0.5));
  CHECK(Find(r, "0.2", "rank").q_hat == Approx(1.0));
  CHECK(Find(r, "0.2", "saps").q_hat == Approx(0.5));
  for (const char* m : {"thr", "aps", "raps", "saps", "rank"}) {
    const auto& x = Find(r, "0.2", m);
    CHECK(x.all.coverage == 1.0);
    CHECK(x.all.mean_set_size == 1.0);
    CHECK(x.all.median_set_size == 1.0);
    CHECK(x.by_set_size[1].n == 5);  // bucket "1"
    // alpha 0.01: k = ceil(6 * 0.99) = 6 > 5: q_hat = +inf, the whole catalog (3 items, "2-5").
    const auto& y = Find(r, "0.01", m);
    CHECK(std::isinf(y.q_hat));
    CHECK(y.all.mean_set_size == 3.0);
    CHECK(y.by_set_size[2].n == 5);
    CHECK(y.all.coverage == 1.0);
  }
  // Activity tertiles over the 5 test queries: e1 = 2nd smallest, e2 = 4th smallest; sizes 2, 2, 1.
  const auto& thr = Find(r, "0.2", "thr");
  REQUIRE(thr.by_activity.size() == 3);
  CHECK(thr.by_activity[0].n == 2);
  CHECK(thr.by_activity[1].n == 2);
  CHECK(thr.by_activity[2].n == 1);
  CHECK(r.activity_edges.size() == 2);
  CHECK(r.activity_edges[0] < r.activity_edges[1]);
}

TEST_CASE("EvaluateConformal: coverage on exchangeable data, batching does not matter",
          "[conformal_eval]") {
  Rng rng(11);
  const size_t Q = 600, N = 30;
  std::vector<std::vector<double>> p(Q, std::vector<double>(N));
  std::vector<int32_t> labels(Q);
  std::vector<int64_t> activity(Q);
  for (size_t q = 0; q < Q; ++q) {
    double s = 0;
    for (auto& v : p[q]) s += (v = rng.Gamma(0.3) + 1e-12);
    for (auto& v : p[q]) v /= s;
    // Label drawn from p itself: the model is calibrated, the queries exchangeable.
    double u = rng.Uniform(), c = 0;
    size_t y = N - 1;
    for (size_t j = 0; j < N; ++j) {
      c += p[q][j];
      if (u < c) {
        y = j;
        break;
      }
    }
    labels[q] = static_cast<int32_t>(y);
    activity[q] = static_cast<int64_t>(rng.UniformInt(50));
  }
  ConformalEvalOptions o;
  o.alphas = {"0.1", "0.2"};
  o.weight_step = "0.25";
  o.seed = 3;
  const auto r = EvaluateConformal(Q, N, labels, activity, "random", FromRows(p), o);
  CHECK(r.results.size() == 2 * (5 + 4));
  for (const auto& m : r.results) {
    const double alpha = std::stod(m.alpha);
    INFO(m.alpha << " " << m.method << " " << m.split << " coverage " << m.all.coverage);
    CHECK(m.all.coverage >= 1.0 - alpha - 0.07);
    CHECK(m.all.n == 300);
    size_t n_sum = 0;
    double cov_sum = 0;
    for (const auto& g : m.by_set_size) {
      n_sum += g.n;
      if (g.n) cov_sum += g.coverage * static_cast<double>(g.n);
    }
    CHECK(n_sum == 300);
    CHECK(cov_sum / 300.0 == Approx(m.all.coverage));
    size_t a_sum = 0;
    for (const auto& g : m.by_activity) a_sum += g.n;
    CHECK(a_sum == 300);
    if (m.method == "weighted") {
      double w = 0;
      for (double x : m.weights) w += x;
      CHECK(w == Approx(1.0));
    }
  }
  o.batch_size = 7;
  const auto r7 = EvaluateConformal(Q, N, labels, activity, "random", FromRows(p), o);
  CHECK(ConformalReportJson(r7) == ConformalReportJson(r));
}

TEST_CASE("EvaluateConformal: bad input", "[conformal_eval]") {
  std::vector<std::vector<double>> p(4, std::vector<double>{0.5, 0.5});
  ConformalEvalOptions o;
  CHECK_THROWS_WITH(EvaluateConformal(4, 2, {0, 1, 2, 0}, {0, 0, 0, 0}, "", FromRows(p), o),
                    Catch::Contains("outside the catalog"));
  o.cal_fraction = 1.0;
  CHECK_THROWS_WITH(EvaluateConformal(4, 2, {0, 1, 1, 0}, {0, 0, 0, 0}, "", FromRows(p), o),
                    Catch::Contains("cal-fraction"));
  o.cal_fraction = 0.5;
  o.alphas = {"1.5"};
  CHECK_THROWS(EvaluateConformal(4, 2, {0, 1, 1, 0}, {0, 0, 0, 0}, "", FromRows(p), o));
}
