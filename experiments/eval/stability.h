// Rank-list stability: how much two rankings of the same query agree (`recarena eval stability`,
// docs/stability.md). S and T are rankings of item ids, best first, without repeats; they may have
// different lengths and may be empty. Ranking files list items in order, so there are no ties: the
// order written is the order compared.
//
// With X_d = |S[:d] ∩ T[:d]| (a prefix longer than its list is the whole list) and the agreement
// A_d = X_d / d, for persistence p in (0, 1) (Webber, Moffat & Zobel 2010):
//   AO@D       = (1/D) sum_{d<=D} A_d                       average overlap; "AO" alone is over the
//                                                           full rankings, D = max(|S|, |T|): what
//                                                           CASPER and FINEST report as "RBO"
//   RBO@k      = (1-p) sum_{d<=k} p^{d-1} A_d               truncated RBO (a lower bound; identical
//                                                           lists give 1 - p^k)
//   RBO_ext    = Webber et al. Eq. 32, extrapolated from the seen prefixes (equal lengths k:
//                RBO@k + A_k p^k; uneven lengths s < l: the Eq. 32 form in the code)
//   FRBO@k     = RBO@k / (1 - p^k)                          normalised finite RBO (Betello et al.
//                                                           2024): identical top-k lists give 1;
//                                                           when a list is shorter than k, RBO@k
//                                                           (their code's rule)
//   Jaccard@k  = |S[:k] ∩ T[:k]| / |S[:k] ∪ T[:k]|
// Two empty rankings agree fully (every metric 1, RBO@k 1 - p^k); one empty and one not, 0.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

namespace recarena::experiments {

struct StabilityOptions {
  int k = 10;             // depth of RBO@k, FRBO@k and Jaccard@k
  double p = 0.9;         // RBO persistence: p = 0.9 puts 86% of the weight on the top 10
  void Validate() const;  // throws ConfigError("k" or "p", ...)
};

double AverageOverlap(const std::vector<int32_t>& s, const std::vector<int32_t>& t, int64_t depth);
double RboAtK(const std::vector<int32_t>& s, const std::vector<int32_t>& t, double p, int k);
double RboExt(const std::vector<int32_t>& s, const std::vector<int32_t>& t, double p);
double FrboAtK(const std::vector<int32_t>& s, const std::vector<int32_t>& t, double p, int k);
double JaccardAtK(const std::vector<int32_t>& s, const std::vector<int32_t>& t, int k);

// Every metric of one pair, keyed "AO", "RBO@<k>", "RBO_ext", "FRBO@<k>", "Jaccard@<k>".
std::map<std::string, double> StabilityMetrics(const std::vector<int32_t>& s,
                                               const std::vector<int32_t>& t,
                                               const StabilityOptions& opts);

// Query groups for a per-group summary: one line per query, "query_id group" separated by
// whitespace ('#' lines and blank lines skipped). FileError (file, line, value) for another number
// of fields or a query listed twice.
std::map<std::string, std::string> ReadQueryGroups(const std::filesystem::path& file);

// The JSON of `eval stability`: for every metric its mean over the queries and a 95% interval
// (mean +- 1.96 standard errors), under "overall" and, when groups is not empty, under
// "groups"/<group> (every query must have a group: FileError naming the groups file otherwise);
// "num_queries", "k" and "p". queries: the query ids as written; rankings[i] = (S, T) of query i.
nlohmann::json StabilityReport(
    const std::vector<std::string>& queries,
    const std::vector<std::pair<std::vector<int32_t>, std::vector<int32_t>>>& rankings,
    const StabilityOptions& opts, const std::map<std::string, std::string>& groups = {},
    const std::string& groups_file = "");

}  // namespace recarena::experiments
