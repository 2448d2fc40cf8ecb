// libFuzzer target: the ranking-file readers of `eval rankings` (experiments/eval/rankings_io.h)
// and the metrics computed from what they accept. The first input byte picks the options (plain or
// TREC, integer or string ids, with or without a history, a catalog or a dataset's items.tsv); the
// rest is split at NUL bytes into the predictions, truth, history and catalog files; with bit 32
// the first two are the rankings A and B of `eval stability`, whose metrics must lie in [0, 1].
// Reading must return queries or throw recarena::Error naming the file; metrics over accepted
// queries must compute or throw recarena::Error. Any other exception or a crash is a bug.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "core/error.h"
#include "experiments/eval/metrics.h"
#include "experiments/eval/rankings_io.h"
#include "experiments/eval/stability.h"
#include "scratch_dir.h"

namespace fs = std::filesystem;
using namespace recarena::experiments;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t mode = data[0];
  std::vector<std::string> parts(4);
  size_t part = 0;
  for (size_t i = 1; i < size; ++i) {
    if (data[i] == 0 && part + 1 < parts.size()) {
      ++part;
    } else {
      parts[part].push_back(static_cast<char>(data[i]));
    }
  }
  const fs::path& dir = recarena::fuzz::ScratchDir("rankings");
  static const bool items_written = [&] {
    recarena::fuzz::WriteFile(
        dir / "ds" / "items.tsv",
        "id\texternal_id\tcount\tlong_tail\ttitle\tcategories\ttext\n0\t1\t5\t0\t\t\t\n"
        "1\t2\t3\t0\t\t\t\n2\tB00X\t1\t1\t\t\t\n3\ta b\t1\t1\t\t\t\n");
    return true;
  }();
  (void)items_written;
  const char* names[] = {"pred.txt", "truth.txt", "hist.txt", "cat.txt"};
  for (size_t k = 0; k < parts.size(); ++k) recarena::fuzz::WriteFile(dir / names[k], parts[k]);
  RankingReadOptions opts;
  opts.format = (mode & 1) ? RankingFormat::kTrec : RankingFormat::kPlain;
  opts.ids = (mode & 2) ? RankingIds::kString : RankingIds::kInteger;
  const bool history = (mode & 4) != 0;
  const int catalog = (mode >> 3) % 3;  // 0 none, 1 catalog file, 2 dataset
  if (catalog == 2) opts.dataset = dir / "ds";
  if (mode & 32) {  // `eval stability`: the first two files as rankings A and B
    try {
      for (const auto& pair : ReadRankingPairs(dir / names[0], dir / names[1], opts)) {
        for (const auto& [name, v] : StabilityMetrics(pair.a, pair.b, StabilityOptions{3, 0.9})) {
          if (!(v >= 0.0 && v <= 1.0 + 1e-9)) std::abort();
        }
      }
    } catch (const recarena::Error&) {
    }
    return 0;
  }
  try {
    MetricsContext ctx;
    const auto queries =
        ReadRankingFiles(dir / names[0], dir / names[1], history ? dir / names[2] : fs::path(),
                         catalog == 1 ? dir / names[3] : fs::path(), &ctx, opts);
    MetricsConfig cfg;
    cfg.ks = {1, 5};
    ComputeRankingMetrics(queries, ctx, cfg);
  } catch (const recarena::Error&) {
    // a clear error: fine
  }
  return 0;
}
