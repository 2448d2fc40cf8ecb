#include "experiments/eval/conformal_files.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <optional>
#include <vector>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/paths.h"
#include "core/rng.h"
#include "data/prepared_io.h"
#include "experiments/eval/conformal_io.h"
#include "experiments/eval/conformal_split.h"
#include "experiments/eval/conformal_weighted.h"

namespace recarena::experiments {

namespace {

struct Source {
  std::string scores, labels;
  size_t offset = 0;  // global index of its first row
  size_t rows = 0;
  const LabelIdMap* ids = nullptr;  // labels are external ids (--dataset); not owned
};

// What the options ask for, checked.
struct Plan {
  DecimalFraction alpha;
  bool weighted = false;
  ScoreKind kind = ScoreKind::kThr;
  SplitStrategy split = SplitStrategy::kVfcp;
  int grid_steps = 1;
  bool fixed_cal = false;
  double cal_fraction = 0.5;
  size_t d = 1;  // label scores kept per query: 5 for weighted, else 1
};

Plan Check(const ConformalFilesOptions& opt) {
  if (opt.scores.empty()) throw Error("conformal: --scores is required");
  if (opt.labels.empty()) throw Error("conformal: --labels is required");
  if (opt.alpha.empty()) throw Error("conformal: --alpha is required");
  if (opt.score.empty()) throw Error("conformal: --score is required");
  Plan p;
  try {
    p.alpha = ParseDecimalFraction(opt.alpha);
  } catch (const Error& e) {
    throw Error(std::string("conformal: --alpha: ") + e.what());
  }
  p.weighted = opt.score == "weighted";
  if (!p.weighted) {
    try {
      p.kind = config::ParseEnum<ScoreKind>(opt.score, "--score");
    } catch (const ConfigError&) {
      throw Error("conformal: unknown --score " + QuoteForError(opt.score) +
                  "; choices: thr|aps|raps|saps|rank|weighted");
    }
  }
  if (opt.split) {
    if (!p.weighted) throw Error("conformal: --split applies only to --score weighted");
    p.split = config::ParseEnum<SplitStrategy>(*opt.split, "--split");
  }
  p.grid_steps = p.weighted ? GridStepsFromDecimal(opt.weight_step) : 1;
  if (opt.params.k_reg < 0) throw Error("conformal: --k-reg must be >= 0");
  if (!(opt.params.lambda >= 0.0) || std::isinf(opt.params.lambda))
    throw Error("conformal: --lambda must be finite and >= 0");
  p.fixed_cal = !opt.cal_scores.empty() || !opt.cal_labels.empty();
  if (p.fixed_cal && (opt.cal_scores.empty() || opt.cal_labels.empty()))
    throw Error("conformal: --cal-scores and --cal-labels go together");
  if (p.fixed_cal && opt.cal_fraction)
    throw Error("conformal: --cal-fraction does not apply with a fixed calibration set");
  p.cal_fraction = opt.cal_fraction.value_or(0.5);
  if (!p.fixed_cal && !(p.cal_fraction > 0.0 && p.cal_fraction < 1.0))
    throw Error("conformal: --cal-fraction must be in (0, 1)");
  const std::vector<std::filesystem::path> inputs{opt.scores, opt.labels, opt.cal_scores,
                                                  opt.cal_labels};
  if (!opt.emit_sets.empty()) CheckOutputFile(opt.emit_sets, "--emit-sets", inputs);
  if (!opt.emit_scores.empty()) CheckOutputFile(opt.emit_scores, "--emit-scores", inputs);
  if (!opt.emit_sets.empty() && opt.emit_sets == opt.emit_scores)
    throw Error("conformal: --emit-sets and --emit-scores name the same file " + opt.emit_sets);
  p.d = p.weighted ? AllScoreKinds().size() : 1;
  return p;
}

nlohmann::json NumberOrNull(double v) {
  if (std::isinf(v) || std::isnan(v)) return nullptr;
  return v;
}

// Runs fn(global_index, reader) for every row of the sources, in order; parse(global) says whether
// the row must be parsed (rows that are only skipped are not re-validated).
void ForEachRow(std::vector<Source>& sources, bool logits, const std::function<bool(size_t)>& parse,
                const std::function<void(size_t, const ScoreRowReader&)>& fn, size_t n_items) {
  for (auto& src : sources) {
    ScoreRowReader r(src.scores, src.labels, logits);
    r.MapLabels(src.ids);
    if (src.ids != nullptr) {
      r.ExpectColumns(src.ids->index.size(), "the dataset's " + src.ids->file + " lists " +
                                                 std::to_string(src.ids->index.size()) + " items");
    }
    if (n_items) r.ExpectColumns(n_items, "the catalog has " + std::to_string(n_items) + " items");
    size_t i = 0;
    while (true) {
      const size_t g = src.offset + i;
      const bool want = parse(g);
      if (!r.Next(want)) break;
      if (want) fn(g, r);
      ++i;
    }
    src.rows = i;
  }
}

// Pass 1: sets every source's offset and row count and keeps the label's score(s) per query:
// plan.d values per query, in global row order. Rows are validated as they are parsed; with a
// fixed calibration set and one score function the test rows' label scores are not needed: the
// test file is only counted here (label_scores then holds the calibration rows alone) and its rows
// are validated by the final pass.
std::vector<double> ReadLabelScores(std::vector<Source>& sources, const ConformalFilesOptions& opt,
                                    const Plan& plan, size_t* n_items) {
  std::vector<double> label_scores;
  size_t offset = 0;
  for (size_t s = 0; s < sources.size(); ++s) {
    Source& src = sources[s];
    src.offset = offset;
    const bool count_only = plan.fixed_cal && !plan.weighted && s + 1 == sources.size();
    std::vector<Source> one = {src};
    ForEachRow(
        one, opt.logits, [&](size_t) { return !count_only; },
        [&](size_t g, const ScoreRowReader& r) {
          if (*n_items == 0) *n_items = r.n_items();
          const double u = QueryU(opt.params, opt.seed, g);
          if (plan.weighted) {
            double all[kNumScoreKinds];
            LabelScoresAll(r.probs().data(), r.n_items(), r.label(), u, opt.params, all);
            label_scores.insert(label_scores.end(), all, all + kNumScoreKinds);
          } else {
            label_scores.push_back(
                LabelScore(plan.kind, r.probs().data(), r.n_items(), r.label(), u, opt.params));
          }
        },
        *n_items);
    src.rows = one[0].rows;
    if (src.rows == 0) throw FileError(src.scores, 0, "no queries (empty file)");
    offset += src.rows;
  }
  return label_scores;
}

// The weighted combination: fits the selector (I1 CDFs, I2 selection pass over the files, I3
// threshold) and adds its choices to the report.
void FitWeighted(std::vector<Source>& sources, const ConformalFilesOptions& opt, const Plan& plan,
                 const CalTestSplit& ct, const std::vector<double>& label_scores, size_t n_items,
                 WeightedScoreSelector& selector, nlohmann::json& report) {
  const size_t d = plan.d, n_total = label_scores.size() / d;
  Rng vfcp_rng = Rng(opt.seed).Fork(kConformalVfcpStream);
  const SplitIndices idx =
      BuildSplitIndices(plan.split, ct.cal, ct.test, opt.vfcp_fraction, vfcp_rng);
  selector.FitCalibration(LabelScoreRows(label_scores, d, idx.i1));
  std::vector<uint8_t> in_i2(n_total, 0);
  for (size_t i : idx.i2) in_i2[i] = 1;
  QueryScorer scorer(opt.params);
  std::vector<double> matrix;
  ForEachRow(
      sources, opt.logits, [&](size_t g) { return in_i2[g] != 0; },
      [&](size_t g, const ScoreRowReader& r) {
        scorer.Reset(r.probs().data(), r.n_items(), QueryU(opt.params, opt.seed, g));
        RankOrderScoreMatrix(scorer, r.n_items(), &matrix);
        selector.AddSelectionQuery(matrix.data(), r.n_items());
      },
      n_items);
  selector.Choose();
  selector.FitFinal(LabelScoreRows(label_scores, d, idx.i3));

  report["split"] = config::EnumToString(plan.split);
  if (plan.split == SplitStrategy::kVfcp) report["vfcp_fraction"] = opt.vfcp_fraction;
  report["weight_step"] = opt.weight_step;
  report["grid_size"] = selector.grid().size();
  report["i1_size"] = idx.i1.size();
  report["i2_size"] = idx.i2.size();
  report["i3_size"] = idx.i3.size();
  report["q_index"] = selector.q_index_final();
  report["q_hat_int"] = selector.q_final() == WeightedScoreSelector::kInfinity
                            ? nlohmann::json(nullptr)
                            : nlohmann::json(selector.q_final());
  report["score_scale"] =
      "sum_j w_j F_j(s_j), F_j = empirical CDF of score function j's label scores on I1";
  nlohmann::json names = nlohmann::json::array();
  nlohmann::json weights = nlohmann::json::object();
  const auto w = selector.chosen_weights();
  for (size_t j = 0; j < d; ++j) {
    const std::string name = config::EnumToString(AllScoreKinds()[j]);
    names.push_back(name);
    weights[name] = w[j];
  }
  report["score_functions"] = names;
  report["weights"] = weights;
  const auto sizes = selector.mean_set_sizes();
  report["selection_mean_set_size"] = sizes[selector.chosen()];
  // The five best candidates (grid order breaks ties), for a look at how flat the optimum is.
  std::vector<size_t> rank(sizes.size());
  for (size_t c = 0; c < rank.size(); ++c) rank[c] = c;
  std::stable_sort(rank.begin(), rank.end(),
                   [&](size_t a, size_t b) { return sizes[a] < sizes[b]; });
  nlohmann::json top = nlohmann::json::array();
  for (size_t t = 0; t < std::min<size_t>(5, rank.size()); ++t) {
    nlohmann::json cw = nlohmann::json::object();
    for (size_t j = 0; j < d; ++j)
      cw[names[j].get<std::string>()] =
          static_cast<double>(selector.grid()[rank[t]][j]) / plan.grid_steps;
    top.push_back({{"weights", cw},
                   {"mean_set_size", sizes[rank[t]]},
                   {"q1", NumberOrNull(selector.ToScale(selector.q1()[rank[t]]))}});
  }
  report["top_candidates"] = top;
}

struct TestSets {
  std::vector<size_t> sizes;  // one per test query, ascending query
  size_t covered = 0;
};

// Final pass over the `scores` source: the test sets (size, coverage) and the optional emit files
// (every row's item scores; the test sets' items).
TestSets FinalPass(std::vector<Source>& sources, const ConformalFilesOptions& opt, const Plan& plan,
                   const std::vector<uint8_t>& is_test, double q_hat,
                   const WeightedScoreSelector* selector, size_t n_items, std::ostream* os_scores,
                   std::ostream* os_sets) {
  TestSets out;
  const size_t d = plan.d, scores_offset = sources.back().offset;
  std::vector<Source> last = {sources.back()};
  QueryScorer scorer(opt.params);
  PrefixSet prefix(opt.params);
  // One score function and no per-item scores to write: the set is a prefix of the ranking, found
  // without sorting the catalog (PrefixSet; bitwise the same sets).
  const bool prefix_only = !plan.weighted && os_scores == nullptr;
  std::vector<double> matrix, item_scores;
  std::vector<uint32_t> members;
  std::string line;
  ForEachRow(
      last, opt.logits, [&](size_t g) { return os_scores != nullptr || is_test[g] != 0; },
      [&](size_t g, const ScoreRowReader& r) {
        const size_t n = r.n_items();
        if (prefix_only) {
          const size_t size =
              prefix.Find(plan.kind, r.probs().data(), n, QueryU(opt.params, opt.seed, g), q_hat);
          out.covered += prefix.Contains(r.label()) ? 1 : 0;
          out.sizes.push_back(size);
          if (os_sets) {
            prefix.Members(&members);
            line = std::to_string(g - scores_offset);
            for (uint32_t y : members) {
              line += ',';
              line += std::to_string(y);
            }
            line += '\n';
            os_sets->write(line.data(), static_cast<std::streamsize>(line.size()));
          }
          return;
        }
        scorer.Reset(r.probs().data(), n, QueryU(opt.params, opt.seed, g));
        // item_scores: the final score of every item, in item-id order.
        item_scores.resize(n);
        if (plan.weighted)
          ItemOrderScoreMatrix(scorer, n, &matrix);
        else
          scorer.AllScores(plan.kind, &item_scores);
        auto in_set = [&](size_t y) {
          return plan.weighted ? selector->InSet(&matrix[y * d]) : item_scores[y] <= q_hat;
        };
        if (os_scores) {
          line.clear();
          for (size_t y = 0; y < n; ++y) {
            if (y) line += ',';
            AppendDouble(
                &line, plan.weighted ? selector->CombinedAsDouble(&matrix[y * d]) : item_scores[y]);
          }
          line += '\n';
          os_scores->write(line.data(), static_cast<std::streamsize>(line.size()));
        }
        if (!is_test[g]) return;
        out.covered += in_set(r.label()) ? 1 : 0;
        if (os_sets) {
          line = std::to_string(g - scores_offset);
          size_t count = 0;
          for (size_t y = 0; y < n; ++y) {
            if (!in_set(y)) continue;
            line += ',';
            line += std::to_string(y);
            ++count;
          }
          line += '\n';
          os_sets->write(line.data(), static_cast<std::streamsize>(line.size()));
          out.sizes.push_back(count);
        } else {
          out.sizes.push_back(plan.weighted ? selector->SetSize(matrix.data(), n)
                                            : scorer.SetSize(plan.kind, q_hat));
        }
      },
      n_items);
  return out;
}

}  // namespace

nlohmann::json RunConformalOnFiles(const ConformalFilesOptions& opt) {
  const Plan plan = Check(opt);
  LabelIdMap ids;
  if (!opt.dataset.empty()) {
    const auto table = data::LoadPreparedItems(opt.dataset);
    ids.file = (std::filesystem::path(opt.dataset) / "items.tsv").string();
    for (size_t i = 0; i < table.external_ids.size(); ++i) {
      ids.index.emplace(table.external_ids[i], static_cast<int64_t>(i));
    }
  }
  const LabelIdMap* map = opt.dataset.empty() ? nullptr : &ids;
  std::vector<Source> sources;
  if (plan.fixed_cal) sources.push_back({opt.cal_scores, opt.cal_labels, 0, 0, map});
  sources.push_back({opt.scores, opt.labels, 0, 0, map});
  size_t n_items = 0;
  const std::vector<double> label_scores = ReadLabelScores(sources, opt, plan, &n_items);
  const size_t n_total = sources.back().offset + sources.back().rows;  // every query, both files

  CalTestSplit ct;
  if (plan.fixed_cal) {
    for (size_t i = 0; i < sources[0].rows; ++i) ct.cal.push_back(i);
    for (size_t i = 0; i < sources[1].rows; ++i) ct.test.push_back(sources[1].offset + i);
  } else {
    ct = RandomCalTestSplit(n_total, plan.cal_fraction, opt.seed, "conformal");
  }
  std::vector<uint8_t> is_test(n_total, 0);
  for (size_t i : ct.test) is_test[i] = 1;

  nlohmann::json report;
  report["score"] = opt.score;
  report["alpha"] = plan.alpha.text;
  report["n_items"] = n_items;
  report["n_cal"] = ct.cal.size();
  report["n_test"] = ct.test.size();
  report["calibration"] = plan.fixed_cal ? "fixed" : "random-split";
  if (!plan.fixed_cal) report["cal_fraction"] = plan.cal_fraction;
  report["randomized"] = opt.params.randomized;
  report["lambda"] = opt.params.lambda;
  report["k_reg"] = opt.params.k_reg;
  report["seed"] = opt.seed;
  report["logits"] = opt.logits;

  double q_hat = 0.0;
  std::optional<WeightedScoreSelector> selector;
  if (!plan.weighted) {
    std::vector<double> cal_scores;
    cal_scores.reserve(ct.cal.size());
    for (size_t i : ct.cal) cal_scores.push_back(label_scores[i]);
    q_hat = ConformalQuantile(std::move(cal_scores), plan.alpha);
    report["q_index"] = QuantileIndex(static_cast<int64_t>(ct.cal.size()), plan.alpha);
  } else {
    selector.emplace(plan.d, plan.grid_steps, plan.alpha);
    FitWeighted(sources, opt, plan, ct, label_scores, n_items, *selector, report);
    q_hat = selector->q_final_scaled();
  }

  TestSets sets;
  const WeightedScoreSelector* sel = selector ? &*selector : nullptr;
  auto with_sets = [&](std::ostream* os_scores) {
    if (opt.emit_sets.empty()) {
      sets = FinalPass(sources, opt, plan, is_test, q_hat, sel, n_items, os_scores, nullptr);
    } else {
      WriteFileAtomic(opt.emit_sets, [&](std::ostream& os) {
        sets = FinalPass(sources, opt, plan, is_test, q_hat, sel, n_items, os_scores, &os);
      });
    }
  };
  if (opt.emit_scores.empty()) {
    with_sets(nullptr);
  } else {
    WriteFileAtomic(opt.emit_scores, [&](std::ostream& os) { with_sets(&os); });
  }

  double size_sum = 0.0;
  for (size_t s : sets.sizes) size_sum += static_cast<double>(s);
  const auto n_test = static_cast<double>(ct.test.size());
  report["q_hat"] = NumberOrNull(q_hat);
  report["q_hat_infinite"] = std::isinf(q_hat);
  report["coverage"] = static_cast<double>(sets.covered) / n_test;
  report["mean_set_size"] = size_sum / n_test;
  report["median_set_size"] = NumberOrNull(MedianSetSize(sets.sizes));
  return report;
}

}  // namespace recarena::experiments
