#include "experiments/eval/stability.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>
#include <unordered_set>

#include "core/error.h"

namespace recarena::experiments {

namespace {

// X_1..X_depth (index d-1): the overlap of the depth-d prefixes, in O(depth) expected time.
std::vector<int64_t> Overlaps(const std::vector<int32_t>& s, const std::vector<int32_t>& t,
                              int64_t depth) {
  std::vector<int64_t> x(static_cast<size_t>(std::max<int64_t>(depth, 0)));
  std::unordered_set<int32_t> seen_s, seen_t;
  int64_t overlap = 0;
  for (int64_t d = 0; d < depth; ++d) {
    const bool has_s = d < static_cast<int64_t>(s.size());
    const bool has_t = d < static_cast<int64_t>(t.size());
    const size_t i = static_cast<size_t>(d);
    if (has_s && has_t && s[i] == t[i]) {
      ++overlap;
    } else {
      if (has_s && seen_t.count(s[i])) ++overlap;
      if (has_t && seen_s.count(t[i])) ++overlap;
    }
    if (has_s) seen_s.insert(s[i]);
    if (has_t) seen_t.insert(t[i]);
    x[i] = overlap;
  }
  return x;
}

// sum_{d<=k} p^{d-1} A_d.
double WeightedAgreement(const std::vector<int32_t>& s, const std::vector<int32_t>& t, double p,
                         int k) {
  const auto x = Overlaps(s, t, k);
  double sum = 0.0, w = 1.0;
  for (int d = 1; d <= k; ++d, w *= p) sum += w * static_cast<double>(x[d - 1]) / d;
  return sum;
}

}  // namespace

void StabilityOptions::Validate() const {
  if (k < 1) throw ConfigError("k", fmt::format("k must be >= 1, got {}", k));
  if (!(p > 0.0 && p < 1.0)) throw ConfigError("p", fmt::format("p must be in (0, 1), got {}", p));
}

double AverageOverlap(const std::vector<int32_t>& s, const std::vector<int32_t>& t, int64_t depth) {
  if (depth < 1) throw Error(fmt::format("AverageOverlap: depth must be >= 1, got {}", depth));
  if (s.empty() && t.empty()) return 1.0;
  const auto x = Overlaps(s, t, depth);
  double sum = 0.0;
  for (int64_t d = 1; d <= depth; ++d) sum += static_cast<double>(x[d - 1]) / d;
  return sum / static_cast<double>(depth);
}

double RboAtK(const std::vector<int32_t>& s, const std::vector<int32_t>& t, double p, int k) {
  StabilityOptions{k, p}.Validate();
  if (s.empty() && t.empty()) return 1.0 - std::pow(p, k);
  return (1.0 - p) * WeightedAgreement(s, t, p, k);
}

double RboExt(const std::vector<int32_t>& s_in, const std::vector<int32_t>& t_in, double p) {
  StabilityOptions{1, p}.Validate();
  const bool s_shorter = s_in.size() <= t_in.size();
  const std::vector<int32_t>& s = s_shorter ? s_in : t_in;  // the shorter list, length sl
  const std::vector<int32_t>& l = s_shorter ? t_in : s_in;  // the longer one, length ll
  const auto sl = static_cast<int64_t>(s.size()), ll = static_cast<int64_t>(l.size());
  if (ll == 0) return 1.0;
  if (sl == 0) return 0.0;
  // Webber et al. Eq. 32: (1-p)/p [sum_{d<=l} X_d/d p^d + sum_{d=s+1}^{l} X_s (d-s)/(s d) p^d]
  //                        + p^l [(X_l - X_s)/l + X_s/s].
  const auto x = Overlaps(s, l, ll);
  const double xs = static_cast<double>(x[sl - 1]), xl = static_cast<double>(x[ll - 1]);
  double sum = 0.0, pd = 1.0;
  for (int64_t d = 1; d <= ll; ++d) {
    pd *= p;
    sum += static_cast<double>(x[d - 1]) / d * pd;
    if (d > sl) sum += xs * static_cast<double>(d - sl) / static_cast<double>(sl * d) * pd;
  }
  return (1.0 - p) / p * sum + pd * ((xl - xs) / ll + xs / sl);
}

double FrboAtK(const std::vector<int32_t>& s, const std::vector<int32_t>& t, double p, int k) {
  StabilityOptions{k, p}.Validate();
  if (s.empty() && t.empty()) return 1.0;
  const double rbo = (1.0 - p) * WeightedAgreement(s, t, p, k);
  const bool full = static_cast<int64_t>(std::min(s.size(), t.size())) >= k;
  return full ? rbo / (1.0 - std::pow(p, k)) : rbo;
}

double JaccardAtK(const std::vector<int32_t>& s, const std::vector<int32_t>& t, int k) {
  if (k < 1) throw Error(fmt::format("JaccardAtK: k must be >= 1, got {}", k));
  const std::unordered_set<int32_t> a(s.begin(), s.begin() + std::min<size_t>(s.size(), k));
  const std::unordered_set<int32_t> b(t.begin(), t.begin() + std::min<size_t>(t.size(), k));
  if (a.empty() && b.empty()) return 1.0;
  size_t common = 0;
  for (int32_t i : a) common += b.count(i);
  return static_cast<double>(common) / static_cast<double>(a.size() + b.size() - common);
}

std::map<std::string, double> StabilityMetrics(const std::vector<int32_t>& s,
                                               const std::vector<int32_t>& t,
                                               const StabilityOptions& opts) {
  opts.Validate();
  const auto full = static_cast<int64_t>(std::max<size_t>({s.size(), t.size(), 1}));
  return {{"AO", AverageOverlap(s, t, full)},
          {fmt::format("RBO@{}", opts.k), RboAtK(s, t, opts.p, opts.k)},
          {"RBO_ext", RboExt(s, t, opts.p)},
          {fmt::format("FRBO@{}", opts.k), FrboAtK(s, t, opts.p, opts.k)},
          {fmt::format("Jaccard@{}", opts.k), JaccardAtK(s, t, opts.k)}};
}

std::map<std::string, std::string> ReadQueryGroups(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw FileError(file.string(), 0, "cannot open the groups file");
  std::map<std::string, std::string> groups;
  std::map<std::string, int64_t> line_of;
  std::string line;
  for (int64_t n = 1; std::getline(in, line); ++n) {
    std::istringstream fields(line);
    std::vector<std::string> f;
    for (std::string w; fields >> w;) f.push_back(w);
    if (f.empty() || f[0][0] == '#') continue;
    if (f.size() != 2) {
      throw FileError(file.string(), n,
                      fmt::format("expected 'query_id group', got {} field(s) in {}", f.size(),
                                  QuoteForError(line)));
    }
    const auto [it, fresh] = line_of.emplace(f[0], n);
    if (!fresh) {
      throw FileError(file.string(), n,
                      fmt::format("query id {} is listed twice (also on line {})",
                                  QuoteForError(f[0]), it->second));
    }
    groups[f[0]] = f[1];
  }
  if (groups.empty()) throw FileError(file.string(), 0, "the groups file has no data lines");
  return groups;
}

namespace {
// Mean and 95% normal interval of each metric over the rows.
nlohmann::json Summarize(const std::vector<std::map<std::string, double>>& rows) {
  nlohmann::json out = nlohmann::json::object();
  out["num_queries"] = rows.size();
  if (rows.empty()) return out;
  for (const auto& [name, unused] : rows.front()) {
    double sum = 0.0, sq = 0.0;
    for (const auto& r : rows) sum += r.at(name);
    const double n = static_cast<double>(rows.size()), mean = sum / n;
    for (const auto& r : rows) sq += (r.at(name) - mean) * (r.at(name) - mean);
    const double se = rows.size() > 1 ? std::sqrt(sq / (n - 1.0) / n) : 0.0;
    out[name] = {{"mean", mean}, {"ci95", {mean - 1.96 * se, mean + 1.96 * se}}};
  }
  return out;
}
}  // namespace

nlohmann::json StabilityReport(
    const std::vector<std::string>& queries,
    const std::vector<std::pair<std::vector<int32_t>, std::vector<int32_t>>>& rankings,
    const StabilityOptions& opts, const std::map<std::string, std::string>& groups,
    const std::string& groups_file) {
  opts.Validate();
  if (queries.size() != rankings.size()) throw Error("StabilityReport: one query id per pair");
  std::vector<std::map<std::string, double>> all;
  std::map<std::string, std::vector<std::map<std::string, double>>> by_group;
  for (size_t i = 0; i < rankings.size(); ++i) {
    all.push_back(StabilityMetrics(rankings[i].first, rankings[i].second, opts));
    if (groups.empty()) continue;
    auto it = groups.find(queries[i]);
    if (it == groups.end()) {
      throw FileError(groups_file, 0,
                      fmt::format("query id {} has no group", QuoteForError(queries[i])));
    }
    by_group[it->second].push_back(all.back());
  }
  nlohmann::json j;
  j["k"] = opts.k;
  j["p"] = opts.p;
  j["num_queries"] = rankings.size();
  j["overall"] = Summarize(all);
  if (!groups.empty()) {
    j["groups"] = nlohmann::json::object();
    for (const auto& [g, rows] : by_group) j["groups"][g] = Summarize(rows);
  }
  return j;
}

}  // namespace recarena::experiments
