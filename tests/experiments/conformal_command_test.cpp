#include <catch2/catch.hpp>

#include <charconv>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/rng.h"
#include "experiments/cli/conformal_commands.h"
#include "experiments/eval/conformal.h"
#include "experiments/eval/conformal_io.h"
#include "experiments/eval/conformal_weighted.h"
#include "test_util.h"

using namespace recarena::experiments;
using recarena::Rng;
using recarena::testing::TempDir;

namespace {

struct Data {
  std::vector<std::vector<double>> p;  // exactly the values the files hold
  std::vector<size_t> labels;
};

// Probabilities rounded to 6 significant digits (so the file is small and the sum is 1 within
// 1e-3); the in-memory copy is the parsed-back value of the text.
Data MakeData(Rng& rng, size_t queries, size_t n, double conc = 0.3) {
  Data d;
  char buf[64];
  for (size_t q = 0; q < queries; ++q) {
    std::vector<double> p(n);
    double s = 0;
    for (auto& v : p) s += (v = rng.Gamma(conc) + 1e-12);
    for (auto& v : p) {
      auto r = std::to_chars(buf, buf + sizeof(buf), v / s, std::chars_format::general, 6);
      std::from_chars(buf, r.ptr, v);
    }
    d.labels.push_back(rng.Categorical(p));
    d.p.push_back(std::move(p));
  }
  return d;
}

void WriteData(const Data& d, const std::filesystem::path& scores,
               const std::filesystem::path& labels) {
  recarena::WriteFileAtomic(scores, [&](std::ostream& os) {
    std::string line;
    for (const auto& row : d.p) {
      line.clear();
      for (size_t i = 0; i < row.size(); ++i) {
        if (i) line += ',';
        AppendDouble(&line, row[i]);
      }
      line += '\n';
      os << line;
    }
  });
  recarena::WriteFileAtomic(labels, [&](std::ostream& os) {
    for (size_t y : d.labels) os << y << '\n';
  });
}

nlohmann::json Run(const std::vector<std::string>& args) {
  std::ostringstream out;
  REQUIRE(RunConformal(args, out) == 0);
  return nlohmann::json::parse(out.str());
}

std::vector<std::vector<double>> ReadCsv(const std::filesystem::path& path) {
  std::vector<std::vector<double>> rows;
  LineReader r(path.string());
  std::string_view line;
  while (r.Next(&line)) {
    rows.emplace_back();
    ParseDoubleRow(line, path.string(), r.line_number(), &rows.back());
  }
  return rows;
}

std::string ErrorOf(const std::vector<std::string>& args) {
  std::ostringstream out;
  try {
    RunConformal(args, out);
  } catch (const recarena::Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("conformal command: --help", "[conformal][command]") {
  std::ostringstream out;
  CHECK(RunConformal({"--help"}, out) == 0);
  CHECK(out.str().find("--emit-sets") != std::string::npos);
  CHECK(out.str().find("thr|aps|raps|saps|rank|weighted") != std::string::npos);
}

TEST_CASE("conformal command: fixed calibration equals the in-memory computation",
          "[conformal][command]") {
  TempDir dir;
  Rng rng(21);
  const Data cal = MakeData(rng, 60, 12), test = MakeData(rng, 40, 12);
  WriteData(cal, dir.path() / "cal.csv", dir.path() / "cal.lab");
  WriteData(test, dir.path() / "test.csv", dir.path() / "test.lab");
  for (const std::string kind : {"thr", "aps", "raps", "saps", "rank"}) {
    const auto sets = dir.path() / ("sets_" + kind + ".txt");
    const auto j =
        Run({"--scores", (dir.path() / "test.csv").string(), "--labels",
             (dir.path() / "test.lab").string(), "--cal-scores", (dir.path() / "cal.csv").string(),
             "--cal-labels", (dir.path() / "cal.lab").string(), "--alpha", "0.1", "--score", kind,
             "--emit-sets", sets.string()});
    // In memory: u = 1, default lambda / k_reg.
    const ScoreKind k = recarena::config::ParseEnum<ScoreKind>(kind, "score");
    ScoreParams params;
    QueryScorer s(params);
    std::vector<double> cs;
    for (size_t i = 0; i < cal.p.size(); ++i) {
      s.Reset(cal.p[i], 1.0);
      cs.push_back(s.Score(k, cal.labels[i]));
    }
    const double q = ConformalQuantile(cs, "0.1");
    size_t covered = 0, total = 0;
    std::ostringstream expect_sets;
    for (size_t i = 0; i < test.p.size(); ++i) {
      s.Reset(test.p[i], 1.0);
      const auto set = s.SetMembers(k, q);
      covered += std::find(set.begin(), set.end(), test.labels[i]) != set.end();
      total += set.size();
      expect_sets << i;
      for (auto y : set) expect_sets << ',' << y;
      expect_sets << '\n';
    }
    INFO(kind << " " << j.dump());
    CHECK(j["q_hat"].get<double>() == q);
    CHECK(j["q_index"] == QuantileIndex(60, "0.1"));  // ceil(61 * .9) = 55
    CHECK(j["q_index"] == 55);
    CHECK(j["n_cal"] == 60);
    CHECK(j["n_test"] == 40);
    CHECK(j["n_items"] == 12);
    CHECK(j["calibration"] == "fixed");
    CHECK(j["coverage"].get<double>() == Approx(covered / 40.0));
    CHECK(j["mean_set_size"].get<double>() == Approx(total / 40.0));
    CHECK(j.contains("median_set_size"));
    CHECK(recarena::ReadFile(sets) == expect_sets.str());
  }
}

TEST_CASE("conformal command: random split, emit files agree with the report",
          "[conformal][command]") {
  TempDir dir;
  Rng rng(22);
  const Data d = MakeData(rng, 50, 8);
  WriteData(d, dir.path() / "s.csv", dir.path() / "l.txt");
  for (const std::string kind : {"aps", "weighted"}) {
    const auto es = dir.path() / "scores_out.csv", et = dir.path() / "sets_out.txt";
    std::vector<std::string> args = {"--scores",
                                     (dir.path() / "s.csv").string(),
                                     "--labels",
                                     (dir.path() / "l.txt").string(),
                                     "--alpha",
                                     "0.2",
                                     "--score",
                                     kind,
                                     "--randomized",
                                     "--seed",
                                     "7",
                                     "--emit-scores",
                                     es.string(),
                                     "--emit-sets",
                                     et.string()};
    if (kind == "weighted") {
      args.insert(args.end(), {"--split", "dlcp+", "--weight-step", "0.25"});
    }
    const auto j = Run(args);
    INFO(j.dump());
    CHECK(j["n_cal"] == 25);
    CHECK(j["n_test"] == 25);
    CHECK(j["calibration"] == "random-split");
    const double q = j["q_hat"].get<double>();
    const auto scores = ReadCsv(es);
    REQUIRE(scores.size() == 50);  // every query, not only the test ones
    for (const auto& r : scores) CHECK(r.size() == 8);
    // Every emitted set is exactly {y : emitted score <= q_hat}; coverage and sizes follow.
    std::istringstream sets(recarena::ReadFile(et));
    std::string line;
    size_t lines = 0, covered = 0, total = 0;
    while (std::getline(sets, line)) {
      ++lines;
      std::vector<double> f;
      ParseDoubleRow(line, et.string(), static_cast<int64_t>(lines), &f);
      const auto qi = static_cast<size_t>(f[0]);
      std::vector<double> expected;
      for (size_t y = 0; y < 8; ++y)
        if (scores[qi][y] <= q) expected.push_back(static_cast<double>(y));
      CHECK(std::vector<double>(f.begin() + 1, f.end()) == expected);
      covered +=
          std::find(expected.begin(), expected.end(), double(d.labels[qi])) != expected.end();
      total += expected.size();
    }
    CHECK(lines == 25);
    CHECK(j["coverage"].get<double>() == Approx(covered / 25.0));
    CHECK(j["mean_set_size"].get<double>() == Approx(total / 25.0));
    if (kind == "weighted") {
      CHECK(j["split"] == "dlcp+");
      CHECK(j["score_functions"] == nlohmann::json::array({"thr", "aps", "raps", "saps", "rank"}));
      double wsum = 0;
      for (auto& [name, w] : j["weights"].items()) wsum += w.get<double>();
      CHECK(wsum == Approx(1.0));
      CHECK(j["grid_size"] == 70);  // C(4 + 4, 4)
      CHECK(j["i1_size"] == 25);
      CHECK(j["i2_size"] == 50);
      CHECK(j["i3_size"] == 25);
      CHECK(j["top_candidates"].size() == 5);
    }
  }
  // Same seed, same result; temporary files do not remain.
  const std::vector<std::string> a = {"--scores", (dir.path() / "s.csv").string(),
                                      "--labels", (dir.path() / "l.txt").string(),
                                      "--alpha",  "0.2",
                                      "--score",  "weighted"};
  CHECK(Run(a) == Run(a));
  for (auto& e : std::filesystem::directory_iterator(dir.path()))
    CHECK(e.path().string().find(".tmp.") == std::string::npos);
}

TEST_CASE("conformal command: weighted with a fixed calibration set equals SelectWeights",
          "[conformal][command][weighted]") {
  TempDir dir;
  Rng rng(23);
  const Data cal = MakeData(rng, 40, 10), test = MakeData(rng, 30, 10);
  WriteData(cal, dir.path() / "cal.csv", dir.path() / "cal.lab");
  WriteData(test, dir.path() / "test.csv", dir.path() / "test.lab");
  for (const std::string split : {"efcp", "dlcp", "dlcp+"}) {
    const auto j =
        Run({"--scores", (dir.path() / "test.csv").string(), "--labels",
             (dir.path() / "test.lab").string(), "--cal-scores", (dir.path() / "cal.csv").string(),
             "--cal-labels", (dir.path() / "cal.lab").string(), "--alpha", "0.1", "--score",
             "weighted", "--split", split, "--weight-step", "0.2"});
    // In memory: query matrices (items x 5 scores), cal = 0..39, test = 40..69.
    std::vector<ScoreMatrix> items;
    std::vector<size_t> labels;
    QueryScorer s;
    for (const Data* src : {&cal, &test}) {
      for (size_t i = 0; i < src->p.size(); ++i) {
        s.Reset(src->p[i], 1.0);
        ScoreMatrix m(5);
        for (size_t y = 0; y < 10; ++y) {
          double r[5];
          for (size_t k = 0; k < 5; ++k) r[k] = s.Score(AllScoreKinds()[k], y);
          m.AppendRow(r);
        }
        items.push_back(std::move(m));
        labels.push_back(src->labels[i]);
      }
    }
    std::vector<size_t> tr(40), te(30);
    std::iota(tr.begin(), tr.end(), 0);
    std::iota(te.begin(), te.end(), 40);
    Rng unused(0);
    const auto st = recarena::config::ParseEnum<SplitStrategy>(split, "split");
    const auto sel = SelectWeights(items, labels, BuildSplitIndices(st, tr, te, 0.5, unused),
                                   ParseDecimalFraction("0.1"), 5);
    INFO(split << " " << j.dump());
    const std::vector<std::string> names = {"thr", "aps", "raps", "saps", "rank"};
    for (size_t k = 0; k < 5; ++k) CHECK(j["weights"][names[k]].get<double>() == sel.weights[k]);
    CHECK(j["q_hat"].get<double>() == sel.q_hat);
    CHECK(j["selection_mean_set_size"].get<double>() == sel.mean_set_sizes[sel.chosen]);
  }
}

TEST_CASE("conformal command: malformed inputs name file and line", "[conformal][command]") {
  TempDir dir;
  const auto lab = dir.Write("l.txt", "0\n1\n0\n");
  auto run = [&](const std::string& scores_text, const std::string& labels_path,
                 std::vector<std::string> extra = {}) {
    const auto s = dir.Write("s.csv", scores_text);
    std::vector<std::string> args = {"--scores", s.string(), "--labels", labels_path,
                                     "--alpha",  "0.1",      "--score",  "thr"};
    args.insert(args.end(), extra.begin(), extra.end());
    return ErrorOf(args);
  };
  const std::string s_path = (dir.path() / "s.csv").string();
  std::string e = run("0.5,0.5\n0.5,0.5\n0.5,abc\n", lab.string());
  CHECK(e.find(s_path + ":3:") != std::string::npos);
  CHECK(e.find("'abc'") != std::string::npos);
  e = run("0.5,0.5\n0.2,0.3,0.5\n0.5,0.5\n", lab.string());
  CHECK(e.find(s_path + ":2:") != std::string::npos);
  CHECK(e.find("3 columns") != std::string::npos);
  e = run("0.5,0.5\n1.5,-0.5\n0.5,0.5\n", lab.string());
  CHECK(e.find(s_path + ":2:") != std::string::npos);
  CHECK(e.find(">= 0") != std::string::npos);
  e = run("0.5,0.5\n0.5,0.4\n0.5,0.5\n", lab.string());
  CHECK(e.find(s_path + ":2:") != std::string::npos);
  CHECK(e.find("sum to 0.9") != std::string::npos);
  e = run("0.5,0.5\n0.5,0.5\n0.5,0.5\n", dir.Write("bad.txt", "0\n2\n0\n").string());
  CHECK(e.find("bad.txt:2:") != std::string::npos);
  CHECK(e.find("out of range") != std::string::npos);
  e = run("0.5,0.5\n0.5,0.5\n0.5,0.5\n", dir.Write("short.txt", "0\n1\n").string());
  CHECK(e.find("short.txt:3:") != std::string::npos);
  CHECK(e.find("missing label") != std::string::npos);
  e = run("0.5,0.5\n0.5,0.5\n", lab.string());
  CHECK(e.find("l.txt:3:") != std::string::npos);
  CHECK(e.find("extra label") != std::string::npos);
  e = run("0.5,0.5\n0.5,0.5\n0.5,0.5\n", dir.Write("nan.txt", "0\nx\n0\n").string());
  CHECK(e.find("nan.txt:2:") != std::string::npos);
  // Logits: NaN rejected, large values fine.
  e = run("1,2\nnan,0\n3,4\n", lab.string(), {"--logits"});
  CHECK(e.find(s_path + ":2:") != std::string::npos);
  CHECK(run("1000,2\n-5,0\n3,-inf\n", lab.string(), {"--logits"}) == "");
  // Bad flags.
  CHECK(run("0.5,0.5\n0.5,0.5\n0.5,0.5\n", lab.string(), {"--split", "efcp"}).find("weighted") !=
        std::string::npos);
  CHECK_FALSE(
      ErrorOf({"--scores", s_path, "--labels", lab.string(), "--alpha", "1.5", "--score", "thr"})
          .empty());
  CHECK(ErrorOf({"--scores", s_path, "--labels", lab.string(), "--alpha", "0.1", "--score", "nope"})
            .find("choices") != std::string::npos);
  CHECK(ErrorOf({"--scores", s_path, "--alpha", "0.1", "--score", "thr"}).find("--labels") !=
        std::string::npos);
  // Output files: no directory trees are created, inputs are never overwritten.
  const std::string ok_scores = "0.5,0.5\n0.5,0.5\n0.5,0.5\n";
  const auto far = dir.path() / "no" / "such" / "dir" / "sets.txt";
  e = run(ok_scores, lab.string(), {"--emit-sets", far.string()});
  CHECK(e.find("--emit-sets") != std::string::npos);
  CHECK(e.find("does not exist") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(dir.path() / "no"));
  e = run(ok_scores, lab.string(), {"--emit-scores", (dir.path() / "no" / "x.csv").string()});
  CHECK(e.find("--emit-scores") != std::string::npos);
  e = run(ok_scores, lab.string(), {"--emit-sets", lab.string()});
  CHECK(e.find("would overwrite the input") != std::string::npos);
  CHECK(recarena::ReadFile(lab) == "0\n1\n0\n");
  e = run(ok_scores, lab.string(), {"--emit-sets", dir.path().string()});
  CHECK(e.find("names a directory") != std::string::npos);
  CHECK(run(ok_scores, lab.string(), {"--emit-sets", (dir.path() / "sets.txt").string()}) == "");
  CHECK(std::filesystem::exists(dir.path() / "sets.txt"));
}

TEST_CASE("conformal command: streaming 2000 x 3000 equals the in-memory computation",
          "[conformal][command][stream]") {
  TempDir dir;
  Rng rng(24);
  const size_t n = 3000;
  const Data cal = MakeData(rng, 1000, n, 0.1), test = MakeData(rng, 1000, n, 0.1);
  WriteData(cal, dir.path() / "cal.csv", dir.path() / "cal.lab");
  WriteData(test, dir.path() / "test.csv", dir.path() / "test.lab");
  const auto j = Run({"--scores", (dir.path() / "test.csv").string(), "--labels",
                      (dir.path() / "test.lab").string(), "--cal-scores",
                      (dir.path() / "cal.csv").string(), "--cal-labels",
                      (dir.path() / "cal.lab").string(), "--alpha", "0.05", "--score", "raps"});
  QueryScorer s;
  std::vector<double> cs;
  for (size_t i = 0; i < cal.p.size(); ++i) {
    s.Reset(cal.p[i], 1.0);
    cs.push_back(s.Score(ScoreKind::kRaps, cal.labels[i]));
  }
  const double q = ConformalQuantile(cs, "0.05");
  size_t covered = 0;
  std::vector<size_t> sizes;
  for (size_t i = 0; i < test.p.size(); ++i) {
    s.Reset(test.p[i], 1.0);
    covered += s.Score(ScoreKind::kRaps, test.labels[i]) <= q;
    sizes.push_back(s.SetSize(ScoreKind::kRaps, q));
  }
  std::sort(sizes.begin(), sizes.end());
  const double mean = std::accumulate(sizes.begin(), sizes.end(), 0.0) / sizes.size();
  CHECK(j["q_hat"].get<double>() == q);
  CHECK(j["coverage"].get<double>() == covered / 1000.0);
  CHECK(j["mean_set_size"].get<double>() == Approx(mean).epsilon(1e-12));
  CHECK(j["median_set_size"].get<double>() == (sizes[499] + sizes[500]) / 2.0);
  CHECK(j["n_items"] == n);
}

TEST_CASE("conformal command: --dataset reads labels as a dataset's external item ids",
          "[conformal][command]") {
  TempDir dir;
  Rng rng(7);
  const Data d = MakeData(rng, 60, 4);
  WriteData(d, dir.path() / "s.csv", dir.path() / "l.txt");
  // The same labels as external ids of a prepared dataset whose dense items 0..3 are these ids.
  const std::vector<std::string> external = {"B00X", "318", "a b", "7"};
  dir.Write("ds/items.tsv",
            "id\texternal_id\tcount\tlong_tail\ttitle\tcategories\ttext\n"
            "0\tB00X\t1\t0\t\t\t\n1\t318\t1\t0\t\t\t\n2\ta b\t1\t1\t\t\t\n"
            "3\t7\t1\t1\t\t\t\n");
  std::string ext;
  for (size_t y : d.labels) ext += external[y] + "\n";
  dir.Write("ext.txt", ext);
  const std::vector<std::string> base = {
      "--scores", (dir.path() / "s.csv").string(), "--alpha", "0.2", "--score", "aps", "--seed",
      "3"};
  auto with = [&](std::vector<std::string> extra) {
    std::vector<std::string> a = base;
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  };
  const auto plain = Run(with({"--labels", (dir.path() / "l.txt").string()}));
  const auto mapped = Run(with(
      {"--labels", (dir.path() / "ext.txt").string(), "--dataset", (dir.path() / "ds").string()}));
  CHECK(mapped == plain);
  // "7" is an external id here, not item index 7; an id the dataset lacks is named with its line.
  dir.Write("bad.txt", ext.substr(0, ext.find('\n') + 1) + "999\n" + ext);
  std::string e = ErrorOf(with(
      {"--labels", (dir.path() / "bad.txt").string(), "--dataset", (dir.path() / "ds").string()}));
  CHECK(e.find("bad.txt:2:") != std::string::npos);
  CHECK(e.find("'999'") != std::string::npos);
  CHECK(e.find("items.tsv") != std::string::npos);
  // The scores rows must have one column per dataset item.
  dir.Write("ds3/items.tsv",
            "id\texternal_id\tcount\tlong_tail\ttitle\tcategories\ttext\n"
            "0\tB00X\t1\t0\t\t\t\n1\t318\t1\t0\t\t\t\n2\ta b\t1\t1\t\t\t\n");
  e = ErrorOf(with(
      {"--labels", (dir.path() / "ext.txt").string(), "--dataset", (dir.path() / "ds3").string()}));
  CHECK(e.find("s.csv:1:") != std::string::npos);
  CHECK(e.find("lists 3 items") != std::string::npos);
}
