// libFuzzer target: the streaming readers of the conformal commands (experiments/eval/
// conformal_io.h): a scores file (probabilities or logits over the catalog) and its labels file
// (item indices, or external ids through a dataset's id map), as text or as NumPy .npy files
// (core/npy.h). The first input byte picks logits (bit 0), the id map (bit 1), a .npy scores file
// (bit 2) and a .npy labels file (bit 3). Text only: the rest is split at the first NUL byte into
// the two files. With a .npy file (which holds NUL bytes): the next two bytes are the scores
// file's length (little-endian), then the scores file, then the labels file. Reading every row
// must succeed or throw recarena::Error (FileError naming the file and line); an accepted row's
// probabilities must be finite, non-negative and sum to 1 within 1e-3, and its label must lie in
// the catalog. Any other outcome aborts.

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "core/error.h"
#include "experiments/eval/conformal_io.h"
#include "scratch_dir.h"

namespace fs = std::filesystem;
using namespace recarena::experiments;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t mode = data[0];
  const std::string rest(reinterpret_cast<const char*>(data + 1), size - 1);
  std::string scores, labels;
  if (mode & 12) {
    if (rest.size() < 2) return 0;
    const size_t n = static_cast<unsigned char>(rest[0]) |
                     (static_cast<size_t>(static_cast<unsigned char>(rest[1])) << 8);
    scores = rest.substr(2, n);
    labels = rest.size() > 2 + n ? rest.substr(2 + n) : "";
  } else {
    const size_t nul = rest.find('\0');
    scores = rest.substr(0, nul);
    labels = nul == std::string::npos ? "" : rest.substr(nul + 1);
  }
  const fs::path& dir = recarena::fuzz::ScratchDir("scores");
  const fs::path scores_path = dir / ((mode & 4) ? "s.npy" : "s.csv");
  const fs::path labels_path = dir / ((mode & 8) ? "l.npy" : "l.txt");
  recarena::fuzz::WriteFile(scores_path, scores);
  recarena::fuzz::WriteFile(labels_path, labels);
  static const LabelIdMap ids{{{"0", 1}, {"B00X", 0}, {"a b", 2}}, "items.tsv"};
  try {
    ScoreRowReader r(scores_path.string(), labels_path.string(), (mode & 1) != 0);
    if (mode & 2) {
      r.MapLabels(&ids);
      r.ExpectColumns(3, "the id map lists 3 items");
    }
    while (r.Next()) {
      double sum = 0.0;
      for (double p : r.probs()) {
        if (!(p >= 0.0) || !std::isfinite(p)) std::abort();
        sum += p;
      }
      if (std::fabs(sum - 1.0) > 1e-3 + 1e-9 * r.probs().size()) std::abort();
      if (r.label() >= r.n_items()) std::abort();
    }
  } catch (const recarena::Error&) {
    // a clear error: fine
  }
  return 0;
}
