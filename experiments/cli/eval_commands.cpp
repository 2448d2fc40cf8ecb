#include "experiments/cli/eval_commands.h"

#include <fmt/format.h>

#include <boost/program_options.hpp>
#include <charconv>
#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "core/config_schema.h"
#include "core/error.h"
#include "core/strings.h"
#include "experiments/cli/command_util.h"
#include "experiments/eval/metrics.h"
#include "experiments/eval/rankings_io.h"
#include "experiments/eval/stability.h"
#include "experiments/report/ope_eval.h"

namespace recarena::experiments {

namespace po = boost::program_options;

namespace {

// "5,10,20" -> {5, 10, 20}; throws Error naming the bad entry.
std::vector<int> ParseKs(const std::string& text) {
  std::vector<int> ks;
  for (const std::string& part : Split(text, ',')) {
    const std::string_view s = Trim(part);
    int k = 0;
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), k);
    if (s.empty() || ec != std::errc() || ptr != s.data() + s.size()) {
      throw Error(
          fmt::format("--k: expected a comma-separated list of integers like 5,10,20, got "
                      "{} in {}",
                      QuoteForError(s), QuoteForError(text)));
    }
    ks.push_back(k);
  }
  return ks;
}

// --format, --ids ("" = not given) and --dataset of `eval rankings`.
RankingReadOptions RankingOptionsFromFlags(const std::string& format, const std::string& ids,
                                           const std::string& dataset) {
  RankingReadOptions read;
  if (format != "plain" && format != "trec") {
    throw Error("--format must be plain or trec, got " + QuoteForError(format));
  }
  if (!ids.empty() && ids != "integer" && ids != "string") {
    throw Error("--ids must be integer or string, got " + QuoteForError(ids));
  }
  read.format = format == "trec" ? RankingFormat::kTrec : RankingFormat::kPlain;
  const bool strings = ids == "string" || (ids.empty() && !dataset.empty());
  read.ids = strings ? RankingIds::kString : RankingIds::kInteger;
  read.dataset = dataset;
  return read;
}

}  // namespace

int RunEvalRankings(const std::vector<std::string>& args, std::ostream& out) {
  std::string pred, truth, history, catalog, dataset, k_list = "5,10,20", format = "plain",
                                                      ids = "integer";
  po::options_description desc(
      "recarena eval rankings: offline ranking metrics (HR, NDCG, MRR, CV_div, CV_nov, R, UP, "
      "HR_ser, NDCG_ser; see docs/metrics.md)\n\noptions");
  desc.add_options()("help,h", "print this help")(
      "pred", po::value(&pred)->value_name("FILE"),
      "predictions: one line per query, 'query_id item item ...' best first (required)")(
      "truth", po::value(&truth)->value_name("FILE"),
      "ground truth: 'query_id item [session [user]]' per query (required)")(
      "history", po::value(&history)->value_name("FILE"),
      "items of each query's user's earlier sessions: 'query_id item ...' (enables UP@k and "
      "HR_ser/NDCG_ser)")("catalog", po::value(&catalog)->value_name("FILE"),
                          "item ids, one per line, optional second column 0/1 long-tail flag "
                          "(enables CV_nov; without it the catalog is 0..max id)")(
      "k", po::value(&k_list)->value_name("LIST"), "cut-offs, comma-separated (default 5,10,20)")(
      "format", po::value(&format)->value_name("plain|trec"),
      "plain (default) or trec: --pred is a TREC run, --truth TREC qrels (string ids)")(
      "ids", po::value(&ids)->value_name("integer|string"),
      "integer (default) or string: query and item ids are any tokens (RecBole, TREC)")(
      "dataset", po::value(&dataset)->value_name("DIR"),
      "a prepared dataset: item ids are its external ids, mapped through its items.tsv (implies "
      "--ids string; the catalog, long-tail flags and popularity come from it)");

  po::variables_map vm;
  try {
    const po::parsed_options parsed = po::command_line_parser(args).options(desc).run();
    RefuseNegativeUnsigned(parsed);
    po::store(parsed, vm);
    po::notify(vm);
  } catch (const po::error& e) {
    throw Error(fmt::format("eval rankings: {} (see --help)", e.what()));
  }
  if (vm.count("help")) {
    out << desc << "\n";
    return 0;
  }
  std::vector<std::string> missing;
  if (pred.empty()) missing.push_back("--pred FILE");
  if (truth.empty()) missing.push_back("--truth FILE");
  if (!missing.empty()) {
    throw Error(fmt::format("eval rankings: missing required option(s) {} (see --help)",
                            Join(missing, ", ")));
  }

  MetricsConfig cfg;
  cfg.ks = ParseKs(k_list);
  try {
    cfg.Validate();
  } catch (const ConfigError& e) {
    throw Error(fmt::format("--k {}: {}", QuoteForError(k_list), e.what()));
  }

  const RankingReadOptions read =
      RankingOptionsFromFlags(format, vm.count("ids") ? ids : "", dataset);
  MetricsContext ctx;
  const auto queries = ReadRankingFiles(pred, truth, history, catalog, &ctx, read);
  const auto metrics = ComputeRankingMetrics(queries, ctx, cfg);

  nlohmann::json j = nlohmann::json::object();
  for (const auto& [name, value] : metrics) {
    if (name.rfind("num_", 0) == 0) {
      j[name] = static_cast<int64_t>(value);
    } else {
      j[name] = value;
    }
  }
  out << j.dump(2) << "\n";
  return 0;
}

int RunEvalOpe(const std::vector<std::string>& args, std::ostream& out) {
  OpeRunOptions o;
  std::string behaviour_run, out_file, reward_kind = "constant";
  po::options_description desc("options");
  desc.add_options()("behaviour-run", po::value(&behaviour_run)->value_name("DIR"),
                     "a trained run on the same data whose softmax is the behaviour policy "
                     "(default: the training popularity of the logged items)")(
      "temperature", po::value(&o.temperature)->default_value(1.0),
      "target policy = softmax(scores / temperature)")(
      "reward", po::value(&reward_kind)->default_value(reward_kind),
      "constant | threshold | value: how a logged value becomes a reward")(
      "click", po::value(&o.reward.click)->default_value(1.0),
      "reward of every interaction (constant) or of values below --threshold")(
      "purchase", po::value(&o.reward.purchase)->default_value(1.0),
      "reward of values >= --threshold (threshold)")(
      "threshold", po::value(&o.reward.threshold)->default_value(4.0), "see --purchase")(
      "scale", po::value(&o.reward.scale)->default_value(1.0), "reward = scale * value (value)")(
      "clip", po::value(&o.ope.clip)->default_value(10.0),
      "importance-weight cap of the clipped estimators")(
      "model-prior", po::value(&o.model_prior)->default_value(10.0),
      "pseudo-observations shrinking DR's per-item reward model to the mean")(
      "max-queries", po::value(&o.max_queries)->default_value(0),
      "> 0: evenly spaced subsample of the test windows")(
      "out", po::value(&out_file)->value_name("FILE"), "report file (default RUN_DIR/ope.json)");
  auto cl = ParseCommandLine(args, desc);
  if (cl.help) {
    PrintCommandHelp(
        out, "eval ope RUN_DIR [options]",
        "Off-policy estimates of a trained run's policy (softmax of its scores) from the logged\n"
        "test interactions of its dataset: IPS, SNIPS and doubly robust, each also with clipped\n"
        "weights, with 95% intervals and effective sample sizes. Writes RUN_DIR/ope.json and\n"
        "prints it. See docs/offline_rl.md, \"Off-policy evaluation\".",
        desc);
    return 0;
  }
  if (cl.positional.size() != 1) throw Error("eval ope: give exactly one RUN_DIR");
  if (!cl.overrides.empty()) throw Error("unexpected argument " + QuoteForError(cl.overrides[0]));
  o.reward.kind = config::ParseEnum<agents::RewardKind>(reward_kind, "--reward");
  o.behaviour_run = behaviour_run;
  const std::filesystem::path run_dir = cl.positional[0];
  const std::string json = OpeReportJson(EvaluateRunOpe(run_dir, o));
  WriteFileAtomic(out_file.empty() ? run_dir / "ope.json" : std::filesystem::path(out_file), json);
  out << json;
  return 0;
}

int RunEvalStability(const std::vector<std::string>& args, std::ostream& out) {
  std::string a, b, groups, dataset, format = "plain", ids = "integer";
  StabilityOptions opts;
  po::options_description desc("options");
  desc.add_options()(
      "a", po::value(&a)->value_name("FILE"),
      "rankings of model A: one line per query, 'query_id item item ...' (required)")(
      "b", po::value(&b)->value_name("FILE"), "rankings of model B, the same queries (required)")(
      "k", po::value(&opts.k)->default_value(opts.k), "depth of RBO@k, FRBO@k and Jaccard@k")(
      "p", po::value(&opts.p)->default_value(opts.p), "RBO persistence in (0, 1)")(
      "groups", po::value(&groups)->value_name("FILE"),
      "'query_id group' per line: also report each group")(
      "format", po::value(&format)->value_name("plain|trec"), "plain (default) or trec runs")(
      "ids", po::value(&ids)->value_name("integer|string"), "integer (default) or string ids")(
      "dataset", po::value(&dataset)->value_name("DIR"),
      "a prepared dataset whose external item ids the files use (implies --ids string)");
  auto cl = ParseCommandLine(args, desc);
  if (cl.help) {
    PrintCommandHelp(out, "eval stability --a A --b B [--k 10] [--p 0.9] [--groups FILE]",
                     "Compares two rankings of the same queries: average overlap over the full\n"
                     "rankings (AO, what CASPER/FINEST call RBO), truncated RBO@k, extrapolated\n"
                     "RBO_ext, normalised FRBO@k and Jaccard@k, with means and 95% intervals.\n"
                     "See docs/stability.md.",
                     desc);
    return 0;
  }
  if (!cl.positional.empty() || !cl.overrides.empty()) {
    throw Error("unexpected argument " +
                QuoteForError(cl.positional.empty() ? cl.overrides[0] : cl.positional[0]));
  }
  if (a.empty() || b.empty()) throw Error("eval stability: --a FILE and --b FILE are required");
  try {
    opts.Validate();
  } catch (const ConfigError& e) {
    throw Error(fmt::format("--{}: {}", e.path(), e.what()));
  }
  const auto pairs = ReadRankingPairs(
      a, b, RankingOptionsFromFlags(format, cl.vm.count("ids") ? ids : "", dataset));
  std::vector<std::string> queries;
  std::vector<std::pair<std::vector<int32_t>, std::vector<int32_t>>> rankings;
  for (const auto& p : pairs) {
    queries.push_back(p.query);
    rankings.emplace_back(p.a, p.b);
  }
  const auto group_of =
      groups.empty() ? std::map<std::string, std::string>{} : ReadQueryGroups(groups);
  out << StabilityReport(queries, rankings, opts, group_of, groups).dump(2) << "\n";
  return 0;
}

}  // namespace recarena::experiments
