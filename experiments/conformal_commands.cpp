#include "experiments/conformal_commands.h"

#include <algorithm>
#include <boost/program_options.hpp>
#include <cmath>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/rng.h"
#include "experiments/conformal.h"
#include "experiments/conformal_io.h"

namespace recarena::experiments {

namespace po = boost::program_options;

namespace {

// Stream ids for the Rng forks of --seed (fixed: changing them changes every seeded result).
constexpr uint64_t kSplitStream = 1;
constexpr uint64_t kVfcpStream = 2;
constexpr uint64_t kUStreamBase = 1000;  // u of query i comes from Fork(kUStreamBase + i)

struct Source {
  std::string scores, labels;
  size_t offset = 0;  // global index of its first row
  size_t rows = 0;
};

double DrawQueryU(const ScoreParams& params, uint64_t seed, size_t global) {
  Rng r = Rng(seed).Fork(kUStreamBase + global);
  return DrawU(params, r);
}

double Median(std::vector<size_t> v) {
  if (v.empty()) return 0.0;
  const size_t mid = v.size() / 2;
  std::nth_element(v.begin(), v.begin() + static_cast<long>(mid), v.end());
  const double hi = static_cast<double>(v[mid]);
  if (v.size() % 2 == 1) return hi;
  const double lo =
      static_cast<double>(*std::max_element(v.begin(), v.begin() + static_cast<long>(mid)));
  return (lo + hi) / 2.0;
}

nlohmann::json NumberOrNull(double v) {
  if (std::isinf(v)) return nullptr;
  return v;
}

// Runs fn(global_index, reader) for every row of the sources, in order; parse(global) says whether
// the row must be parsed (rows that are only skipped are not re-validated).
void ForEachRow(std::vector<Source>& sources, bool logits, const std::function<bool(size_t)>& parse,
                const std::function<void(size_t, const ScoreRowReader&)>& fn, size_t n_items) {
  for (auto& src : sources) {
    ScoreRowReader r(src.scores, src.labels, logits);
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

void PrintUsage(std::ostream& out, const po::options_description& desc) {
  out << "usage: recarena conformal --scores FILE --labels FILE --alpha A --score "
         "thr|aps|raps|saps|rank|weighted [options]\n\n"
         "Split conformal prediction sets over a catalog. FILE rows: one query per line, "
         "comma-separated\nprobabilities over the catalog (or logits with --logits); labels: one "
         "item index (0-based) per line.\nThe queries are split at random into calibration and "
         "test (--cal-fraction, --seed), or\n--cal-scores/--cal-labels give a fixed calibration "
         "set and --scores/--labels are the test set.\nPrints a JSON report. See "
         "docs/conformal.md.\n\n"
      << desc;
}

}  // namespace

int RunConformal(const std::vector<std::string>& args, std::ostream& out) {
  std::string scores, labels, alpha_text, score_name, split_name, weight_step = "0.1";
  std::string emit_scores, emit_sets, cal_scores, cal_labels;
  double cal_fraction = 0.5, vfcp_fraction = 0.5;
  ScoreParams params;
  uint64_t seed = 42;
  po::options_description desc("options");
  desc.add_options()("help,h", "print this help")("scores", po::value(&scores),
                                                  "scores file (required): one query per line")(
      "labels", po::value(&labels), "labels file (required): one item index per line")(
      "alpha", po::value(&alpha_text), "miscoverage level in (0,1), a decimal (required)")(
      "score", po::value(&score_name), "thr|aps|raps|saps|rank|weighted (required)")(
      "split", po::value(&split_name), "weighted only: vfcp|efcp|dlcp|dlcp+ (default vfcp)")(
      "cal-fraction", po::value(&cal_fraction)->default_value(0.5),
      "fraction of the queries used for calibration (random split)")(
      "vfcp-fraction", po::value(&vfcp_fraction)->default_value(0.5),
      "VFCP: fraction of the calibration queries in I1 = I2 (the rest is I3)")(
      "randomized", po::bool_switch(&params.randomized),
      "randomized scores (u ~ U[0,1) per query)")(
      "k-reg", po::value(&params.k_reg)->default_value(5), "RAPS k_reg")(
      "lambda", po::value(&params.lambda)->default_value(0.01), "RAPS/SAPS lambda")(
      "seed", po::value(&seed)->default_value(42), "seed for the split and u")(
      "logits", po::bool_switch(), "rows are logits (softmax is applied)")(
      "weight-step", po::value(&weight_step)->default_value("0.1"),
      "weighted: simplex grid step, 1/k for an integer k")(
      "emit-scores", po::value(&emit_scores),
      "write every (query, item) score of --scores, one query per line")(
      "emit-sets", po::value(&emit_sets),
      "write the test sets: query index (row of --scores), then the items (ascending id)")(
      "cal-scores", po::value(&cal_scores), "fixed calibration scores file")(
      "cal-labels", po::value(&cal_labels), "fixed calibration labels file");
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(desc).run(), vm);
  po::notify(vm);
  if (vm.count("help")) {
    PrintUsage(out, desc);
    return 0;
  }
  const bool logits = vm["logits"].as<bool>();
  for (const char* req : {"scores", "labels", "alpha", "score"}) {
    if (!vm.count(req)) throw Error(std::string("conformal: --") + req + " is required");
  }
  const DecimalFraction alpha = ParseDecimalFraction(alpha_text);
  const bool weighted = score_name == "weighted";
  ScoreKind kind = ScoreKind::kThr;
  if (!weighted) {
    try {
      kind = config::ParseEnum<ScoreKind>(score_name, "--score");
    } catch (const ConfigError&) {
      throw Error("conformal: unknown --score " + QuoteForError(score_name) +
                  "; choices: thr|aps|raps|saps|rank|weighted");
    }
  }
  SplitStrategy split = SplitStrategy::kVfcp;
  if (vm.count("split")) {
    if (!weighted) throw Error("conformal: --split applies only to --score weighted");
    split = config::ParseEnum<SplitStrategy>(split_name, "--split");
  }
  const int grid_steps = weighted ? GridStepsFromDecimal(weight_step) : 1;
  if (params.k_reg < 0) throw Error("conformal: --k-reg must be >= 0");
  if (!(params.lambda >= 0.0) || std::isinf(params.lambda))
    throw Error("conformal: --lambda must be finite and >= 0");
  const bool fixed_cal = vm.count("cal-scores") || vm.count("cal-labels");
  if (fixed_cal && !(vm.count("cal-scores") && vm.count("cal-labels")))
    throw Error("conformal: --cal-scores and --cal-labels go together");
  if (fixed_cal && !vm["cal-fraction"].defaulted())
    throw Error("conformal: --cal-fraction does not apply with a fixed calibration set");
  if (!fixed_cal && !(cal_fraction > 0.0 && cal_fraction < 1.0))
    throw Error("conformal: --cal-fraction must be in (0, 1)");

  std::vector<Source> sources;
  if (fixed_cal) sources.push_back({cal_scores, cal_labels, 0, 0});
  sources.push_back({scores, labels, 0, 0});
  const size_t d = weighted ? AllScoreKinds().size() : 1;

  // Pass 1: validate every row, keep only the label's score(s) per query.
  std::vector<double> label_scores;  // d per query
  size_t n_items = 0;
  {
    size_t offset = 0;
    for (size_t s = 0; s < sources.size(); ++s) {
      sources[s].offset = offset;
      std::vector<Source> one = {sources[s]};
      ForEachRow(
          one, logits, [](size_t) { return true; },
          [&](size_t g, const ScoreRowReader& r) {
            if (n_items == 0) n_items = r.n_items();
            const double u = DrawQueryU(params, seed, g);
            double all[5];
            LabelScoresAll(r.probs().data(), r.n_items(), r.label(), u, params, all);
            if (weighted)
              label_scores.insert(label_scores.end(), all, all + 5);
            else
              label_scores.push_back(all[static_cast<size_t>(kind)]);
          },
          n_items);
      sources[s].rows = one[0].rows;
      if (sources[s].rows == 0) throw FileError(sources[s].scores, 0, "no queries (empty file)");
      offset += sources[s].rows;
    }
  }
  const size_t n_total = label_scores.size() / d;

  // Calibration / test split.
  std::vector<size_t> cal, test;
  if (fixed_cal) {
    for (size_t i = 0; i < sources[0].rows; ++i) cal.push_back(i);
    for (size_t i = 0; i < sources[1].rows; ++i) test.push_back(sources[1].offset + i);
  } else {
    std::vector<size_t> perm(n_total);
    for (size_t i = 0; i < n_total; ++i) perm[i] = i;
    Rng(seed).Fork(kSplitStream).Shuffle(perm);
    const auto n_cal =
        static_cast<size_t>(std::llround(cal_fraction * static_cast<double>(n_total)));
    if (n_cal < 1 || n_cal >= n_total)
      throw Error("conformal: " + std::to_string(n_total) + " queries with --cal-fraction " +
                  std::to_string(cal_fraction) + " leave an empty calibration or test set");
    cal.assign(perm.begin(), perm.begin() + static_cast<long>(n_cal));
    test.assign(perm.begin() + static_cast<long>(n_cal), perm.end());
    std::sort(cal.begin(), cal.end());
    std::sort(test.begin(), test.end());
  }
  std::vector<uint8_t> is_test(n_total, 0);
  for (size_t i : test) is_test[i] = 1;

  nlohmann::json report;
  report["score"] = score_name;
  report["alpha"] = alpha.text;
  report["n_items"] = n_items;
  report["n_cal"] = cal.size();
  report["n_test"] = test.size();
  report["calibration"] = fixed_cal ? "fixed" : "random-split";
  if (!fixed_cal) report["cal_fraction"] = cal_fraction;
  report["randomized"] = params.randomized;
  report["lambda"] = params.lambda;
  report["k_reg"] = params.k_reg;
  report["seed"] = seed;
  report["logits"] = logits;

  // Single score function: q_hat from the calibration label scores.
  double q_hat = 0.0;
  std::optional<WeightedScoreSelector> selector;
  if (!weighted) {
    std::vector<double> cal_scores_v;
    cal_scores_v.reserve(cal.size());
    for (size_t i : cal) cal_scores_v.push_back(label_scores[i]);
    q_hat = ConformalQuantile(std::move(cal_scores_v), alpha);
    report["q_index"] = QuantileIndex(static_cast<int64_t>(cal.size()), alpha);
  } else {
    Rng vfcp_rng = Rng(seed).Fork(kVfcpStream);
    const SplitIndices idx = BuildSplitIndices(split, cal, test, vfcp_fraction, vfcp_rng);
    auto rows_of = [&](const std::vector<size_t>& ids) {
      ScoreMatrix m(d);
      for (size_t i : ids) m.AppendRow(&label_scores[i * d]);
      return m;
    };
    selector.emplace(d, grid_steps, alpha);
    selector->FitCalibration(rows_of(idx.i1));
    // Pass 2: mean set size of every candidate on I2.
    std::vector<uint8_t> in_i2(n_total, 0);
    for (size_t i : idx.i2) in_i2[i] = 1;
    QueryScorer scorer(params);
    std::vector<double> matrix;
    ForEachRow(
        sources, logits, [&](size_t g) { return in_i2[g] != 0; },
        [&](size_t g, const ScoreRowReader& r) {
          scorer.Reset(r.probs().data(), r.n_items(), DrawQueryU(params, seed, g));
          const size_t n = r.n_items();
          matrix.resize(n * d);
          // Rows in rank order: all five scores are non-decreasing along it, which lets
          // the selector count each candidate's set by binary search (exactly).
          for (size_t k = 0; k < n; ++k)
            for (size_t j = 0; j < d; ++j)
              matrix[k * d + j] = scorer.ScoreAtPosition(AllScoreKinds()[j], k);
          selector->AddSelectionQuery(matrix.data(), n);
        },
        n_items);
    selector->Choose();
    selector->FitFinal(rows_of(idx.i3));
    q_hat = selector->q_final_scaled();
    report["split"] = config::EnumToString(split);
    if (split == SplitStrategy::kVfcp) report["vfcp_fraction"] = vfcp_fraction;
    report["weight_step"] = weight_step;
    report["grid_size"] = selector->grid().size();
    report["i1_size"] = idx.i1.size();
    report["i2_size"] = idx.i2.size();
    report["i3_size"] = idx.i3.size();
    report["q_index"] = selector->q_index_final();
    report["q_hat_int"] = selector->q_final() == WeightedScoreSelector::kInfinity
                              ? nlohmann::json(nullptr)
                              : nlohmann::json(selector->q_final());
    report["score_scale"] =
        "sum_j w_j F_j(s_j), F_j = empirical CDF of score function j's label scores on I1";
    nlohmann::json names = nlohmann::json::array();
    nlohmann::json weights = nlohmann::json::object();
    const auto w = selector->chosen_weights();
    for (size_t j = 0; j < d; ++j) {
      const std::string name = config::EnumToString(AllScoreKinds()[j]);
      names.push_back(name);
      weights[name] = w[j];
    }
    report["score_functions"] = names;
    report["weights"] = weights;
    const auto sizes = selector->mean_set_sizes();
    report["selection_mean_set_size"] = sizes[selector->chosen()];
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
            static_cast<double>(selector->grid()[rank[t]][j]) / grid_steps;
      top.push_back({{"weights", cw},
                     {"mean_set_size", sizes[rank[t]]},
                     {"q1", NumberOrNull(selector->ToScale(selector->q1()[rank[t]]))}});
    }
    report["top_candidates"] = top;
  }

  // Final pass over --scores: test sets, coverage, and the optional emit files.
  std::vector<size_t> sizes;
  sizes.reserve(test.size());
  size_t covered = 0;
  const size_t scores_offset = sources.back().offset;
  auto final_pass = [&](std::ostream* os_scores, std::ostream* os_sets) {
    sizes.clear();
    covered = 0;
    std::vector<Source> last = {sources.back()};
    QueryScorer scorer(params);
    std::vector<double> matrix, item_scores;
    std::string line;
    ForEachRow(
        last, logits, [&](size_t g) { return os_scores != nullptr || is_test[g] != 0; },
        [&](size_t g, const ScoreRowReader& r) {
          const size_t n = r.n_items();
          scorer.Reset(r.probs().data(), n, DrawQueryU(params, seed, g));
          // item_scores: the final score of every item, in item-id order.
          item_scores.resize(n);
          if (weighted) {
            matrix.resize(n * d);
            for (size_t k = 0; k < n; ++k)
              for (size_t j = 0; j < d; ++j)
                matrix[scorer.order()[k] * d + j] = scorer.ScoreAtPosition(AllScoreKinds()[j], k);
          } else {
            scorer.AllScores(kind, &item_scores);
          }
          auto in_set = [&](size_t y) {
            return weighted ? selector->InSet(&matrix[y * d]) : item_scores[y] <= q_hat;
          };
          if (os_scores) {
            line.clear();
            for (size_t y = 0; y < n; ++y) {
              if (y) line += ',';
              AppendDouble(&line,
                           weighted ? selector->CombinedAsDouble(&matrix[y * d]) : item_scores[y]);
            }
            line += '\n';
            os_scores->write(line.data(), static_cast<std::streamsize>(line.size()));
          }
          if (!is_test[g]) return;
          covered += in_set(r.label()) ? 1 : 0;
          if (os_sets) {
            line = std::to_string(g - scores_offset);
            size_t count = 0;
            for (size_t y = 0; y < n; ++y) {
              if (in_set(y)) {
                line += ',';
                line += std::to_string(y);
                ++count;
              }
            }
            line += '\n';
            os_sets->write(line.data(), static_cast<std::streamsize>(line.size()));
            sizes.push_back(count);
          } else {
            sizes.push_back(weighted ? selector->SetSize(matrix.data(), n)
                                     : scorer.SetSize(kind, q_hat));
          }
        },
        n_items);
  };
  auto with_sets = [&](std::ostream* os_scores) {
    if (emit_sets.empty()) {
      final_pass(os_scores, nullptr);
    } else {
      WriteFileAtomic(emit_sets, [&](std::ostream& os) { final_pass(os_scores, &os); });
    }
  };
  if (emit_scores.empty()) {
    with_sets(nullptr);
  } else {
    WriteFileAtomic(emit_scores, [&](std::ostream& os) { with_sets(&os); });
  }

  double size_sum = 0.0;
  for (size_t s : sizes) size_sum += static_cast<double>(s);
  report["q_hat"] = NumberOrNull(q_hat);
  report["q_hat_infinite"] = std::isinf(q_hat);
  report["coverage"] = static_cast<double>(covered) / static_cast<double>(test.size());
  report["mean_set_size"] = size_sum / static_cast<double>(test.size());
  report["median_set_size"] = Median(sizes);
  out << report.dump(2) << "\n";
  return 0;
}

}  // namespace recarena::experiments
