#include "experiments/cli/eval_commands.h"

#include <fmt/format.h>

#include <boost/program_options.hpp>
#include <charconv>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/strings.h"
#include "experiments/eval/metrics.h"
#include "experiments/eval/rankings_io.h"

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

}  // namespace

int RunEvalRankings(const std::vector<std::string>& args, std::ostream& out) {
  std::string pred, truth, history, catalog, k_list = "5,10,20";
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
      "k", po::value(&k_list)->value_name("LIST"), "cut-offs, comma-separated (default 5,10,20)");

  po::variables_map vm;
  try {
    po::store(po::command_line_parser(args).options(desc).run(), vm);
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

  MetricsContext ctx;
  const auto queries = ReadRankingFiles(pred, truth, history, catalog, &ctx);
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

}  // namespace recarena::experiments
