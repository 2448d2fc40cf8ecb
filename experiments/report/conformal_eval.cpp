#include "experiments/report/conformal_eval.h"

#include "experiments/report/conformal_online.h"

#include <torch/torch.h>

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>

#include "agents/supervised.h"
#include "core/atomic_file.h"
#include "core/config.h"
#include "core/error.h"
#include "core/log.h"
#include "core/rng.h"
#include "core/strings.h"
#include "experiments/eval/conformal_split.h"
#include "experiments/eval/offline_eval.h"
#include "experiments/train/offline_config.h"
#include "experiments/train/offline_trainer.h"
#include "experiments/train/trained_run.h"
#include "models/checkpoint.h"
#include "models/device.h"

namespace recarena::experiments {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

ConformalGroupStats Stats(const std::string& name, const std::vector<size_t>& sizes,
                          const std::vector<uint8_t>& covered, const std::vector<size_t>& members) {
  ConformalGroupStats g;
  g.group = name;
  g.n = members.size();
  if (members.empty()) return g;
  std::vector<size_t> s;
  s.reserve(members.size());
  double cov = 0.0, sum = 0.0;
  for (size_t t : members) {
    s.push_back(sizes[t]);
    sum += static_cast<double>(sizes[t]);
    cov += covered[t];
  }
  g.coverage = cov / static_cast<double>(g.n);
  g.mean_set_size = sum / static_cast<double>(g.n);
  g.median_set_size = MedianSetSize(std::move(s));
  return g;
}

// Runs fn(query, p) for every listed query (ascending), probabilities fetched batch by batch.
void ForEachQuery(const std::vector<size_t>& queries, size_t n_items, int64_t batch_size,
                  const ProbabilityBatchFn& probs,
                  const std::function<void(size_t, const double*)>& fn) {
  std::vector<double> buf;
  const auto b = static_cast<size_t>(std::max<int64_t>(1, batch_size));
  for (size_t begin = 0; begin < queries.size(); begin += b) {
    const size_t end = std::min(queries.size(), begin + b);
    std::vector<size_t> batch(queries.begin() + static_cast<long>(begin),
                              queries.begin() + static_cast<long>(end));
    buf.assign(batch.size() * n_items, 0.0);
    probs(batch, &buf);
    if (buf.size() != batch.size() * n_items) {
      throw Error(fmt::format("conformal-eval: probability batch has {} values, expected {} x {}",
                              buf.size(), batch.size(), n_items));
    }
    for (size_t r = 0; r < batch.size(); ++r) fn(batch[r], buf.data() + r * n_items);
  }
}

std::string Num(double v, int prec = 4) {
  if (std::isnan(v)) return "-";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  return fmt::format("{:.{}f}", v, prec);
}

json NumJson(double v) {
  if (std::isnan(v) || std::isinf(v)) return nullptr;
  return v;
}

json GroupJson(const ConformalGroupStats& g) {
  return {{"group", g.group},
          {"n", g.n},
          {"coverage", NumJson(g.coverage)},
          {"mean_set_size", NumJson(g.mean_set_size)},
          {"median_set_size", NumJson(g.median_set_size)}};
}

std::string MethodLabel(const ConformalMethodResult& r) {
  return r.split.empty() ? r.method : r.method + " (" + r.split + ")";
}

std::string WeightsText(const std::vector<double>& w) {
  if (w.empty()) return "";
  std::vector<std::string> parts;
  for (size_t j = 0; j < w.size(); ++j)
    parts.push_back(config::EnumToString(AllScoreKinds()[j]) + "=" + fmt::format("{:g}", w[j]));
  return Join(parts, " ");
}

}  // namespace

const std::vector<std::string>& SetSizeBucketNames() {
  static const std::vector<std::string> names = {"0", "1", "2-5", "6-20", "21-100", ">100"};
  return names;
}

size_t SetSizeBucket(size_t size) {
  if (size == 0) return 0;
  if (size == 1) return 1;
  if (size <= 5) return 2;
  if (size <= 20) return 3;
  if (size <= 100) return 4;
  return 5;
}

ConformalEvalReport EvaluateConformal(size_t n_queries, size_t n_items,
                                      const std::vector<int32_t>& labels,
                                      const std::vector<int64_t>& activity,
                                      const std::string& activity_basis,
                                      const ProbabilityBatchFn& probs,
                                      const ConformalEvalOptions& opt) {
  if (labels.size() != n_queries || activity.size() != n_queries)
    throw Error("conformal-eval: labels/activity must have one entry per query");
  if (n_items == 0) throw Error("conformal-eval: empty catalog");
  for (size_t i = 0; i < n_queries; ++i) {
    if (labels[i] < 0 || static_cast<size_t>(labels[i]) >= n_items)
      throw Error(fmt::format("conformal-eval: label {} of query {} is outside the catalog [0, {})",
                              labels[i], i, n_items));
  }
  if (opt.alphas.empty()) throw Error("conformal-eval: no alpha given");
  std::vector<DecimalFraction> alphas;
  for (const auto& a : opt.alphas) alphas.push_back(ParseDecimalFraction(a));
  const int grid_steps = opt.splits.empty() ? 1 : GridStepsFromDecimal(opt.weight_step);
  const size_t d = AllScoreKinds().size();
  const ScoreParams& params = opt.params;

  // Calibration / test split of the queries.
  CalTestSplit ct = RandomCalTestSplit(n_queries, opt.cal_fraction, opt.seed, "conformal-eval");
  const std::vector<size_t>& cal = ct.cal;
  const std::vector<size_t>& test = ct.test;
  std::vector<int64_t> test_pos(n_queries, -1);  // query -> index into test
  for (size_t t = 0; t < test.size(); ++t) test_pos[test[t]] = static_cast<int64_t>(t);

  // Pass 1: the five label scores of every query.
  std::vector<double> label_scores(n_queries * d);
  std::vector<size_t> all(n_queries);
  for (size_t i = 0; i < n_queries; ++i) all[i] = i;
  ForEachQuery(all, n_items, opt.batch_size, probs, [&](size_t q, const double* p) {
    LabelScoresAll(p, n_items, static_cast<size_t>(labels[q]), QueryU(params, opt.seed, q), params,
                   &label_scores[q * d]);
  });

  // Single-score thresholds per alpha.
  const size_t n_alpha = alphas.size();
  std::vector<double> q_single(n_alpha * d);
  for (size_t a = 0; a < n_alpha; ++a) {
    for (size_t j = 0; j < d; ++j) {
      std::vector<double> s;
      s.reserve(cal.size());
      for (size_t q : cal) s.push_back(label_scores[q * d + j]);
      q_single[a * d + j] = ConformalQuantile(std::move(s), alphas[a]);
    }
  }
  // Weighted selectors per (alpha, split).
  auto rows_of = [&](const std::vector<size_t>& ids) {
    return LabelScoreRows(label_scores, d, ids);
  };
  const size_t n_split = opt.splits.size();
  std::vector<SplitIndices> split_idx;
  for (SplitStrategy s : opt.splits) {
    Rng vfcp_rng = Rng(opt.seed).Fork(kConformalVfcpStream);
    split_idx.push_back(BuildSplitIndices(s, cal, test, opt.vfcp_fraction, vfcp_rng));
  }
  std::vector<std::unique_ptr<WeightedScoreSelector>> sel;  // [a * n_split + s]
  std::vector<std::vector<uint8_t>> in_i2(n_split, std::vector<uint8_t>(n_queries, 0));
  for (size_t s = 0; s < n_split; ++s)
    for (size_t q : split_idx[s].i2) in_i2[s][q] = 1;
  for (size_t a = 0; a < n_alpha; ++a) {
    for (size_t s = 0; s < n_split; ++s) {
      sel.push_back(std::make_unique<WeightedScoreSelector>(d, grid_steps, alphas[a]));
      sel.back()->FitCalibration(rows_of(split_idx[s].i1));
    }
  }

  // Pass 2: I2 queries into the selectors; single-score test sets.
  const size_t nt = test.size();
  std::vector<size_t> sizes_single(n_alpha * d * nt);  // [(a * d + j) * nt + t]
  std::vector<uint8_t> cov_single(n_alpha * d * nt);
  std::vector<size_t> pass2;
  for (size_t q = 0; q < n_queries; ++q) {
    bool want = test_pos[q] >= 0;
    for (size_t s = 0; s < n_split && !want; ++s) want = in_i2[s][q] != 0;
    if (want) pass2.push_back(q);
  }
  QueryScorer scorer(params);
  std::vector<double> matrix;
  ForEachQuery(pass2, n_items, opt.batch_size, probs, [&](size_t q, const double* p) {
    scorer.Reset(p, n_items, QueryU(params, opt.seed, q));
    bool any_i2 = false;
    for (size_t s = 0; s < n_split; ++s) any_i2 = any_i2 || in_i2[s][q];
    if (any_i2) {
      RankOrderScoreMatrix(scorer, n_items, &matrix);
      for (size_t a = 0; a < n_alpha; ++a)
        for (size_t s = 0; s < n_split; ++s)
          if (in_i2[s][q]) sel[a * n_split + s]->AddSelectionQuery(matrix.data(), n_items);
    }
    if (test_pos[q] >= 0) {
      const auto t = static_cast<size_t>(test_pos[q]);
      for (size_t a = 0; a < n_alpha; ++a) {
        for (size_t j = 0; j < d; ++j) {
          const double qh = q_single[a * d + j];
          sizes_single[(a * d + j) * nt + t] = scorer.SetSize(AllScoreKinds()[j], qh);
          cov_single[(a * d + j) * nt + t] = label_scores[q * d + j] <= qh ? 1 : 0;
        }
      }
    }
  });
  for (size_t a = 0; a < n_alpha; ++a) {
    for (size_t s = 0; s < n_split; ++s) {
      auto& w = *sel[a * n_split + s];
      w.Choose();
      w.FitFinal(rows_of(split_idx[s].i3));
    }
  }

  // Pass 3: weighted test sets.
  std::vector<size_t> sizes_w(n_alpha * n_split * nt);
  std::vector<uint8_t> cov_w(n_alpha * n_split * nt);
  if (n_split > 0) {
    ForEachQuery(test, n_items, opt.batch_size, probs, [&](size_t q, const double* p) {
      scorer.Reset(p, n_items, QueryU(params, opt.seed, q));
      RankOrderScoreMatrix(scorer, n_items, &matrix);
      const auto t = static_cast<size_t>(test_pos[q]);
      for (size_t c = 0; c < n_alpha * n_split; ++c) {
        sizes_w[c * nt + t] = sel[c]->SetSize(matrix.data(), n_items);
        cov_w[c * nt + t] = sel[c]->InSet(&label_scores[q * d]) ? 1 : 0;
      }
    });
  }

  // Groups of test positions.
  ConformalEvalReport rep;
  rep.n_queries = n_queries;
  rep.n_cal = cal.size();
  rep.n_test = nt;
  rep.n_items = n_items;
  rep.activity_basis = activity_basis;
  std::vector<int64_t> act;
  for (size_t q : test) act.push_back(activity[q]);
  std::sort(act.begin(), act.end());
  const size_t k1 = (nt + 2) / 3, k2 = (2 * nt + 2) / 3;  // ceil(n/3), ceil(2n/3), both >= 1
  const int64_t e1 = act[k1 - 1], e2 = act[k2 - 1];
  rep.activity_edges = {e1, e2};
  std::vector<std::string> act_names = {fmt::format("low (<= {})", e1),
                                        fmt::format("mid ({}-{})", e1 + 1, e2),
                                        fmt::format("high (> {})", e2)};
  std::vector<std::vector<size_t>> act_members(3);
  for (size_t t = 0; t < nt; ++t) {
    const int64_t v = activity[test[t]];
    act_members[v <= e1 ? 0 : (v <= e2 ? 1 : 2)].push_back(t);
  }
  std::vector<size_t> everyone(nt);
  for (size_t t = 0; t < nt; ++t) everyone[t] = t;

  auto make = [&](const std::string& alpha, const std::string& method, const std::string& split,
                  double q_hat, const size_t* sizes_ptr, const uint8_t* cov_ptr) {
    std::vector<size_t> sizes(sizes_ptr, sizes_ptr + nt);
    std::vector<uint8_t> covered(cov_ptr, cov_ptr + nt);
    ConformalMethodResult r;
    r.alpha = alpha;
    r.method = method;
    r.split = split;
    r.q_hat = q_hat;
    r.all = Stats("all", sizes, covered, everyone);
    std::vector<std::vector<size_t>> by_size(SetSizeBucketNames().size());
    for (size_t t = 0; t < nt; ++t) by_size[SetSizeBucket(sizes[t])].push_back(t);
    for (size_t b = 0; b < by_size.size(); ++b)
      r.by_set_size.push_back(Stats(SetSizeBucketNames()[b], sizes, covered, by_size[b]));
    for (size_t g = 0; g < 3; ++g)
      r.by_activity.push_back(Stats(act_names[g], sizes, covered, act_members[g]));
    return r;
  };
  for (size_t a = 0; a < n_alpha; ++a) {
    for (size_t j = 0; j < d; ++j) {
      rep.results.push_back(make(alphas[a].text, config::EnumToString(AllScoreKinds()[j]), "",
                                 q_single[a * d + j], &sizes_single[(a * d + j) * nt],
                                 &cov_single[(a * d + j) * nt]));
    }
    for (size_t s = 0; s < n_split; ++s) {
      const size_t c = a * n_split + s;
      auto r = make(alphas[a].text, "weighted", config::EnumToString(opt.splits[s]),
                    sel[c]->q_final_scaled(), &sizes_w[c * nt], &cov_w[c * nt]);
      r.weights = sel[c]->chosen_weights();
      rep.results.push_back(std::move(r));
    }
  }
  return rep;
}

ConformalEvalReport EvaluateRunConformal(const fs::path& run_dir,
                                         const ConformalEvalOptions& options, int64_t max_queries) {
  const TrainedRun run = OpenTrainedRun(run_dir, "conformal-eval");
  RequireModelKind(run, {OfflineModel::kNormal, OfflineModel::kCpft, OfflineModel::kFinest},
                   "conformal-eval");
  const OfflineTrainConfig& cfg = run.cfg;
  const fs::path& ckpt = run.best;
  if (cfg.train.threads > 0) torch::set_num_threads(static_cast<int>(cfg.train.threads));
  const torch::Device device = models::ResolveDevice(cfg.run.device);

  const OfflineData od = BuildOfflineData(cfg);
  const size_t n_items = static_cast<size_t>(od.num_items());
  agents::SupervisedAgent agent(ResolvedModelOptions(cfg, od.num_items()), device);
  models::LoadArchiveFile(ckpt, [&](torch::serialize::InputArchive& a) { agent.Load(a); });
  const data::Windows& w = od.test_w;
  const std::vector<int64_t> rows =
      SelectRows(w, cfg.eval.protocol == EvalProtocol::kLast, max_queries);
  if (rows.size() < 2)
    throw Error(fmt::format("conformal-eval: the run's test set gives {} queries", rows.size()));
  std::vector<int32_t> labels;
  std::vector<int64_t> activity;
  std::map<data::UserId, int64_t> train_count;
  for (const auto& s : od.train_seqs) train_count[s.user] += s.size();
  bool any_train = false;
  for (int64_t r : rows) {
    labels.push_back(w.targets[static_cast<size_t>(r)]);
    auto it = train_count.find(w.users[static_cast<size_t>(r)]);
    const int64_t c = it == train_count.end() ? 0 : it->second;
    any_train = any_train || c > 0;
    activity.push_back(c);
  }
  std::string basis = "training interactions of the user";
  if (!any_train) {
    basis = "history length (items before the target; no test user has training interactions)";
    for (size_t i = 0; i < rows.size(); ++i)
      activity[i] = w.positions[static_cast<size_t>(rows[i])];
  }
  ProbabilityBatchFn probs = [&](const std::vector<size_t>& queries, std::vector<double>* out) {
    std::vector<int64_t> batch;
    batch.reserve(queries.size());
    for (size_t q : queries) batch.push_back(rows[q]);
    auto [items, lengths] = WindowTensors(w, batch);
    torch::Tensor logits =
        agent.Scores(items, lengths).to(torch::kCPU, torch::kFloat64).contiguous();
    const double* lp = logits.data_ptr<double>();
    for (size_t r = 0; r < queries.size(); ++r)
      Softmax(lp + r * n_items, n_items, nullptr, out->data() + r * n_items);
  };
  log::Info("conformal-eval: {} test queries over {} items", rows.size(), n_items);
  return EvaluateConformal(rows.size(), n_items, labels, activity, basis, probs, options);
}

std::string ConformalReportJson(const ConformalEvalReport& rep) {
  json j;
  j["n_queries"] = rep.n_queries;
  j["n_cal"] = rep.n_cal;
  j["n_test"] = rep.n_test;
  j["n_items"] = rep.n_items;
  j["activity_basis"] = rep.activity_basis;
  j["activity_edges"] = rep.activity_edges;
  j["set_size_buckets"] = SetSizeBucketNames();
  json results = json::array();
  for (const auto& r : rep.results) {
    json o = {{"alpha", r.alpha},
              {"method", r.method},
              {"q_hat", NumJson(r.q_hat)},
              {"coverage", NumJson(r.all.coverage)},
              {"mean_set_size", NumJson(r.all.mean_set_size)},
              {"median_set_size", NumJson(r.all.median_set_size)}};
    if (!r.split.empty()) o["split"] = r.split;
    if (!r.weights.empty()) {
      json w = json::object();
      for (size_t k = 0; k < r.weights.size(); ++k)
        w[config::EnumToString(AllScoreKinds()[k])] = r.weights[k];
      o["weights"] = w;
    }
    json bs = json::array(), ba = json::array();
    for (const auto& g : r.by_set_size) bs.push_back(GroupJson(g));
    for (const auto& g : r.by_activity) ba.push_back(GroupJson(g));
    o["by_set_size"] = bs;
    o["by_activity"] = ba;
    results.push_back(o);
  }
  j["results"] = results;
  return j.dump(2) + "\n";
}

void WriteConformalReport(const ConformalEvalReport& rep, const std::string& title,
                          const fs::path& out_dir) {
  fs::create_directories(out_dir);
  std::ostringstream md;
  md << "# Conformal evaluation: " << title << "\n\n";
  md << fmt::format(
      "{} queries over {} items: {} calibration, {} test. Activity: {}; tertile edges {} / {}.\n\n",
      rep.n_queries, rep.n_items, rep.n_cal, rep.n_test, rep.activity_basis, rep.activity_edges[0],
      rep.activity_edges[1]);
  std::vector<std::string> alphas;
  for (const auto& r : rep.results)
    if (std::find(alphas.begin(), alphas.end(), r.alpha) == alphas.end()) alphas.push_back(r.alpha);
  for (const auto& a : alphas) {
    md << "## alpha = " << a << " (target coverage " << Num(1.0 - std::stod(a), 2) << ")\n\n";
    md << "| method | q_hat | coverage | mean size | median size | weights "
          "|\n|---|---|---|---|---|---|\n";
    for (const auto& r : rep.results) {
      if (r.alpha != a) continue;
      md << "| " << MethodLabel(r) << " | " << Num(r.q_hat) << " | " << Num(r.all.coverage) << " | "
         << Num(r.all.mean_set_size, 2) << " | " << Num(r.all.median_set_size, 1) << " | "
         << WeightsText(r.weights) << " |\n";
    }
    md << "\nCoverage (n) by set size:\n\n| method |";
    for (const auto& b : SetSizeBucketNames()) md << " " << b << " |";
    md << "\n|---|";
    for (size_t b = 0; b < SetSizeBucketNames().size(); ++b) md << "---|";
    md << "\n";
    for (const auto& r : rep.results) {
      if (r.alpha != a) continue;
      md << "| " << MethodLabel(r) << " |";
      for (const auto& g : r.by_set_size) md << " " << Num(g.coverage, 3) << " (" << g.n << ") |";
      md << "\n";
    }
    md << "\nCoverage / mean set size (n) by user activity:\n\n| method |";
    const auto& first = rep.results.front().by_activity;
    for (const auto& g : first) md << " " << g.group << " |";
    md << "\n|---|";
    for (size_t g = 0; g < first.size(); ++g) md << "---|";
    md << "\n";
    for (const auto& r : rep.results) {
      if (r.alpha != a) continue;
      md << "| " << MethodLabel(r) << " |";
      for (const auto& g : r.by_activity)
        md << " " << Num(g.coverage, 3) << " / " << Num(g.mean_set_size, 1) << " (" << g.n << ") |";
      md << "\n";
    }
    md << "\n";
  }
  WriteFileAtomic(out_dir / "report.md", md.str());

  std::ostringstream csv;
  csv << "alpha,method,split,group_kind,group,n,coverage,mean_set_size,median_set_size,q_hat,"
         "weights\n";
  auto row = [&](const ConformalMethodResult& r, const std::string& kind,
                 const ConformalGroupStats& g) {
    auto num = [](double v) { return std::isnan(v) ? std::string() : fmt::format("{:.6g}", v); };
    csv << r.alpha << "," << r.method << "," << r.split << "," << kind << ",\"" << g.group << "\","
        << g.n << "," << num(g.coverage) << "," << num(g.mean_set_size) << ","
        << num(g.median_set_size) << ","
        << (std::isinf(r.q_hat) ? std::string("inf") : fmt::format("{:.9g}", r.q_hat)) << ","
        << WeightsText(r.weights) << "\n";
  };
  for (const auto& r : rep.results) {
    row(r, "all", r.all);
    for (const auto& g : r.by_set_size) row(r, "set_size", g);
    for (const auto& g : r.by_activity) row(r, "activity", g);
  }
  WriteFileAtomic(out_dir / "report.csv", csv.str());
}

}  // namespace recarena::experiments
