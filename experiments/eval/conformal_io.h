// Streaming readers for conformal-prediction inputs: a scores file with one query per line
// (comma-separated probabilities over the catalog, or logits) and a labels file with one item index
// per line. Files are read line by line; only the current query's row is held in memory, so a
// 100,000 x 10,000 (~10 GB) text file is processed in O(items) memory.
//
// Errors are FileError(file, line, message) naming the offending value: a non-numeric field, a row
// whose column count differs from the first line's, a label outside [0, items), a line-count
// mismatch between the two files, a negative/non-finite probability or a probability row whose sum
// is more than 1e-3 away from 1 (probabilities only), a NaN/+inf logit (logits only; -inf is a
// masked item).
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/npy.h"

namespace recarena::experiments {

class LineReader {
 public:
  explicit LineReader(std::string path);
  ~LineReader();
  LineReader(const LineReader&) = delete;
  LineReader& operator=(const LineReader&) = delete;
  // Next line without its '\n' (and a trailing '\r' removed); false at end of file.
  bool Next(std::string_view* line);
  int64_t line_number() const { return line_; }  // 1-based number of the last line returned
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  FILE* f_ = nullptr;
  char* buf_ = nullptr;
  size_t cap_ = 0;
  int64_t line_ = 0;
};

// Parses one comma-separated row of doubles into out (cleared first); fields may be surrounded by
// spaces. Throws FileError(path, line, ...) naming the column and the value.
void ParseDoubleRow(std::string_view line, const std::string& path, int64_t line_no,
                    std::vector<double>* out);

// Labels named by external item id (another tool's files): id -> dense item id, the column of the
// scores rows. Built from a prepared dataset's items.tsv (`conformal --dataset`).
struct LabelIdMap {
  std::unordered_map<std::string, int64_t> index;
  std::string file;  // where the ids come from, for errors
};

// A scores file ending in .npy is read as a 2-D float32/float64 NumPy array (rows = queries) and a
// labels file ending in .npy as a 1-D int32/int64 array (core/npy.h); other files are text as
// above. Errors in a .npy file name the row ("FILE: row 7: column 3: ...") instead of a line.
class ScoreRowReader {
 public:
  // logits: rows are logits, converted with a stable softmax; otherwise rows are probabilities.
  ScoreRowReader(const std::string& scores_path, const std::string& labels_path, bool logits);

  // Requires every row to have exactly n columns (e.g. the catalog size of another file).
  void ExpectColumns(size_t n, std::string reason);
  // Labels are external ids looked up in *map (not owned, outlives the reader; null = item
  // indices). An id the map does not hold is a FileError naming the labels file, line and id.
  void MapLabels(const LabelIdMap* map) { label_map_ = map; }

  // Reads the next query; false when both files end together. Throws FileError otherwise.
  // parse = false only advances both files (a row already validated by an earlier pass): probs()
  // and label() are then stale.
  bool Next(bool parse = true);

  int64_t index() const { return rows_ - 1; }  // 0-based row index of the current query
  int64_t rows_read() const { return rows_; }
  size_t n_items() const { return n_items_; }
  const std::vector<double>& probs() const { return probs_; }
  size_t label() const { return label_; }
  const std::string& scores_path() const { return scores_path_; }
  const std::string& labels_path() const { return labels_path_; }

 private:
  // Reads the next scores row into row_ (text: parsed only when parse) and the next label; false
  // when that file has ended.
  bool NextScores(bool parse, std::string_view* line);
  bool NextLabel(std::string_view* line, int64_t* npy_value);
  // The current label as an item index (text: parsed, or mapped through label_map_).
  size_t ParseLabel(std::string_view line, int64_t npy_value) const;
  // Rows (npy) or lines (text) read so far, and the word for them.
  int64_t ScoresPos() const;
  int64_t LabelsPos() const;
  std::string LabelsUnit() const { return labels_npy_ ? "rows" : "lines"; }
  // FileError at the current scores/labels row: the line for text, "row N: " for npy.
  [[noreturn]] void ScoresError(const std::string& message) const;
  [[noreturn]] void LabelsError(const std::string& message) const;
  std::string scores_path_, labels_path_;
  std::unique_ptr<LineReader> scores_text_, labels_text_;  // exactly one of text/npy per file
  std::unique_ptr<NpyReader> scores_npy_, labels_npy_;
  bool logits_;
  size_t n_items_ = 0;
  std::string columns_reason_;
  std::vector<double> row_;
  std::vector<double> probs_;
  size_t label_ = 0;
  int64_t rows_ = 0;
  const LabelIdMap* label_map_ = nullptr;
};

// Appends the shortest round-trip decimal text of v to out ("inf" for +infinity).
void AppendDouble(std::string* out, double v);

}  // namespace recarena::experiments
