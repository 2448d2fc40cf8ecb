#include "python/bindings/eval_bindings.h"

#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/config_schema.h"
#include "data/prepared_io.h"
#include "experiments/eval/conformal_matrix.h"
#include "experiments/eval/metrics.h"

namespace recarena::python {
namespace py = pybind11;
using experiments::MetricsConfig;
using experiments::MetricsContext;
using experiments::RankingMetricsAccumulator;
using experiments::RankingQuery;

namespace {

template <class T>
using CArray = py::array_t<T, py::array::c_style | py::array::forcecast>;

// ranked [Q, K] (a row may end early with -1 padding), targets [Q]; optional users/sessions [Q].
std::map<std::string, double> RankingMetrics(const CArray<int64_t>& ranked,
                                             const CArray<int64_t>& targets, std::vector<int> ks,
                                             int64_t num_items,
                                             std::optional<CArray<int64_t>> users,
                                             std::optional<CArray<int64_t>> sessions,
                                             std::optional<std::vector<uint8_t>> long_tail,
                                             std::optional<std::vector<int64_t>> popularity) {
  if (ranked.ndim() != 2) throw py::value_error("ranked must be a 2-d array [queries, k]");
  const auto q = ranked.shape(0), k = ranked.shape(1);
  if (targets.ndim() != 1 || targets.shape(0) != q) {
    throw py::value_error("targets must have shape (" + std::to_string(q) + ",)");
  }
  for (const auto* opt : {&users, &sessions}) {
    if (*opt && ((*opt)->ndim() != 1 || (*opt)->shape(0) != q)) {
      throw py::value_error("users and sessions must have shape (" + std::to_string(q) + ",)");
    }
  }
  MetricsContext ctx;
  ctx.num_items = static_cast<int32_t>(num_items);
  ctx.has_history = false;
  if (long_tail) ctx.long_tail = *long_tail;
  if (popularity) ctx.popularity = *popularity;
  MetricsConfig cfg;
  cfg.ks = std::move(ks);
  RankingMetricsAccumulator acc(ctx, cfg);
  auto r = ranked.unchecked<2>();
  auto t = targets.unchecked<1>();
  RankingQuery query;
  for (py::ssize_t i = 0; i < q; ++i) {
    query.query_id = i;
    query.ranked.clear();
    for (py::ssize_t j = 0; j < k && r(i, j) >= 0; ++j) {
      query.ranked.push_back(static_cast<int32_t>(r(i, j)));
    }
    query.target = static_cast<int32_t>(t(i));
    if (users) query.user = static_cast<int32_t>(users->at(i));
    if (sessions) query.session = sessions->at(i);
    acc.Add(query);
  }
  return acc.Result();
}

py::tuple ConformalSets(const CArray<double>& cal_probs, const CArray<int64_t>& cal_labels,
                        const CArray<double>& probs, const std::string& alpha,
                        const std::string& score, bool randomized, double lambda, int k_reg,
                        uint64_t seed, std::optional<CArray<int64_t>> labels) {
  if (cal_probs.ndim() != 2 || probs.ndim() != 2) {
    throw py::value_error("cal_probs and probs must be 2-d arrays [queries, items]");
  }
  if (cal_probs.shape(1) != probs.shape(1)) {
    throw py::value_error("cal_probs has " + std::to_string(cal_probs.shape(1)) +
                          " items per row but probs has " + std::to_string(probs.shape(1)));
  }
  if (cal_labels.ndim() != 1 || cal_labels.shape(0) != cal_probs.shape(0)) {
    throw py::value_error("cal_labels must have one label per row of cal_probs");
  }
  if (labels && (labels->ndim() != 1 || labels->shape(0) != probs.shape(0))) {
    throw py::value_error("labels must have one label per row of probs");
  }
  experiments::MatrixConformalInput in;
  in.cal_probs = cal_probs.data();
  in.n_cal = static_cast<size_t>(cal_probs.shape(0));
  in.cal_labels = cal_labels.data();
  in.test_probs = probs.data();
  in.n_test = static_cast<size_t>(probs.shape(0));
  in.n_items = static_cast<size_t>(probs.shape(1));
  in.test_labels = labels ? labels->data() : nullptr;
  in.alpha = alpha;
  in.kind = config::ParseEnum<experiments::ScoreKind>(score, "score");
  in.params.randomized = randomized;
  in.params.lambda = lambda;
  in.params.k_reg = k_reg;
  in.seed = seed;
  experiments::MatrixConformalResult res;
  {
    py::gil_scoped_release nogil;
    res = experiments::ConformalSetsFromMatrix(in);
  }
  py::list sets;
  for (const auto& s : res.sets) {
    py::array_t<int64_t> a(static_cast<py::ssize_t>(s.size()));
    auto w = a.mutable_unchecked<1>();
    for (size_t i = 0; i < s.size(); ++i) w(static_cast<py::ssize_t>(i)) = s[i];
    sets.append(a);
  }
  py::object coverage = res.coverage < 0 ? py::none() : py::cast(res.coverage);
  return py::make_tuple(res.q_hat, sets, coverage);
}

template <class T>
py::array_t<T> ToArray(const std::vector<T>& v) {
  py::array_t<T> a(static_cast<py::ssize_t>(v.size()));
  std::copy(v.begin(), v.end(), a.mutable_data());
  return a;
}

py::list Sequences(const std::vector<data::Sequence>& seqs) {
  py::list out;
  for (const auto& s : seqs) {
    py::dict d;
    d["user"] = s.user;
    d["session"] = s.session;
    std::vector<int64_t> items(s.items.begin(), s.items.end());
    d["items"] = ToArray(items);
    d["timestamps"] = ToArray(s.timestamps);
    d["values"] = ToArray(s.values);
    d["target_from"] = s.target_from;
    out.append(d);
  }
  return out;
}

py::dict LoadPrepared(const std::string& dir) {
  const auto p = data::LoadPrepared(dir);
  py::dict out;
  out["name"] = p.dataset.name;
  out["num_items"] = p.dataset.items.size();
  out["num_users"] = p.dataset.users.size();
  out["item_ids"] = p.dataset.items.external_ids;
  out["user_ids"] = p.dataset.users.external_ids;
  out["item_counts"] = ToArray(p.item_stats.counts);
  out["long_tail"] = ToArray(p.item_stats.long_tail);
  out["train"] = Sequences(p.split.train);
  out["valid"] = Sequences(p.split.valid);
  out["test"] = Sequences(p.split.test);
  return out;
}

}  // namespace

void BindEval(py::module_& m) {
  m.def("ranking_metrics", &RankingMetrics, py::arg("ranked"), py::arg("targets"), py::arg("ks"),
        py::arg("num_items"), py::arg("users") = py::none(), py::arg("sessions") = py::none(),
        py::arg("long_tail") = py::none(), py::arg("popularity") = py::none());
  m.def("conformal_sets", &ConformalSets, py::arg("cal_probs"), py::arg("cal_labels"),
        py::arg("probs"), py::arg("alpha"), py::arg("score"), py::arg("randomized"), py::arg("lam"),
        py::arg("k_reg"), py::arg("seed"), py::arg("labels") = py::none());
  m.def("load_prepared", &LoadPrepared, py::arg("dir"));
}

}  // namespace recarena::python
