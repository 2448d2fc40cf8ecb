#include "experiments/eval/conformal_io.h"

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>

#include "core/error.h"
#include "experiments/eval/conformal.h"

namespace recarena::experiments {

LineReader::LineReader(std::string path) : path_(std::move(path)) {
  f_ = std::fopen(path_.c_str(), "rb");
  if (!f_) throw FileError(path_, 0, std::string("cannot open: ") + std::strerror(errno));
  std::setvbuf(f_, nullptr, _IOFBF, 1 << 20);
}

LineReader::~LineReader() {
  if (f_) std::fclose(f_);
  std::free(buf_);
}

bool LineReader::Next(std::string_view* line) {
  const ssize_t len = ::getline(&buf_, &cap_, f_);
  if (len < 0) {
    if (std::ferror(f_)) throw FileError(path_, line_ + 1, "read error");
    return false;
  }
  ++line_;
  size_t n = static_cast<size_t>(len);
  if (n > 0 && buf_[n - 1] == '\n') --n;
  if (n > 0 && buf_[n - 1] == '\r') --n;
  *line = std::string_view(buf_, n);
  return true;
}

void ParseDoubleRow(std::string_view line, const std::string& path, int64_t line_no,
                    std::vector<double>* out) {
  out->clear();
  if (line.empty()) throw FileError(path, line_no, "empty line (expected comma-separated numbers)");
  const char* p = line.data();
  const char* end = p + line.size();
  size_t col = 0;
  while (true) {
    const char* comma = static_cast<const char*>(std::memchr(p, ',', static_cast<size_t>(end - p)));
    const char* fend = comma ? comma : end;
    const char* a = p;
    const char* b = fend;
    while (a < b && (*a == ' ' || *a == '\t')) ++a;
    while (b > a && (b[-1] == ' ' || b[-1] == '\t')) --b;
    double v = 0;
    auto res = std::from_chars(a, b, v);
    // from_chars accepts "inf"/"nan" (no leading '+'); range errors are reported as not numeric.
    if (a == b || res.ec != std::errc() || res.ptr != b)
      throw FileError(path, line_no,
                      "column " + std::to_string(col + 1) + ": not a number: " +
                          QuoteForError(std::string_view(p, static_cast<size_t>(fend - p))));
    out->push_back(v);
    ++col;
    if (!comma) break;
    p = comma + 1;
  }
}

ScoreRowReader::ScoreRowReader(const std::string& scores_path, const std::string& labels_path,
                               bool logits)
    : scores_path_(scores_path), labels_path_(labels_path), logits_(logits) {
  if (IsNpyPath(scores_path)) {
    scores_npy_ = std::make_unique<NpyReader>(scores_path);
    if (scores_npy_->header().shape.size() != 2)
      throw FileError(scores_path, 0, "npy scores must be a 2-D array (queries x items)");
    if (scores_npy_->header().type != NpyType::kFloat32 &&
        scores_npy_->header().type != NpyType::kFloat64)
      throw FileError(scores_path, 0, "npy scores must be float32 or float64");
    if (scores_npy_->header().cols() == 0)
      throw FileError(scores_path, 0, "npy scores have 0 columns (an empty catalog)");
  } else {
    scores_text_ = std::make_unique<LineReader>(scores_path);
  }
  if (IsNpyPath(labels_path)) {
    labels_npy_ = std::make_unique<NpyReader>(labels_path);
  } else {
    labels_text_ = std::make_unique<LineReader>(labels_path);
  }
}

void ScoreRowReader::ExpectColumns(size_t n, std::string reason) {
  n_items_ = n;
  columns_reason_ = std::move(reason);
}

int64_t ScoreRowReader::ScoresPos() const {
  return scores_npy_ ? scores_npy_->row() : scores_text_->line_number();
}

int64_t ScoreRowReader::LabelsPos() const {
  return labels_npy_ ? labels_npy_->row() : labels_text_->line_number();
}

void ScoreRowReader::ScoresError(const std::string& message) const {
  if (scores_npy_)
    throw FileError(scores_path_, 0, "row " + std::to_string(ScoresPos()) + ": " + message);
  throw FileError(scores_path_, ScoresPos(), message);
}

void ScoreRowReader::LabelsError(const std::string& message) const {
  if (labels_npy_)
    throw FileError(labels_path_, 0, "row " + std::to_string(LabelsPos()) + ": " + message);
  throw FileError(labels_path_, LabelsPos(), message);
}

bool ScoreRowReader::NextScores(bool parse, std::string_view* line) {
  if (!scores_npy_) return scores_text_->Next(line);
  return parse ? scores_npy_->NextRow(&row_) : scores_npy_->SkipRow();
}

bool ScoreRowReader::NextLabel(std::string_view* line, int64_t* npy_value) {
  if (!labels_npy_) return labels_text_->Next(line);
  return labels_npy_->NextInt(npy_value);
}

bool ScoreRowReader::Next(bool parse) {
  std::string_view sline, lline;
  int64_t npy_label = -1;
  const bool has_s = NextScores(parse, &sline);
  const bool has_l = NextLabel(&lline, &npy_label);
  if (!has_s && !has_l) return false;
  if (has_s && !has_l) {
    const std::string unit = scores_npy_ ? "row " : "line ";
    throw FileError(labels_path_, labels_npy_ ? 0 : LabelsPos() + 1,
                    "missing label: the labels file has " + std::to_string(LabelsPos()) + " " +
                        LabelsUnit() + " but the scores file " + scores_path_ + " has more (" +
                        unit + std::to_string(ScoresPos()) + " has no label)");
  }
  if (!has_s && has_l) {
    const std::string label_text = labels_npy_ ? std::to_string(npy_label) : std::string(lline);
    LabelsError("extra label " + QuoteForError(label_text) + ": the scores file " + scores_path_ +
                " has only " + std::to_string(ScoresPos()) + (scores_npy_ ? " rows" : " lines"));
  }
  if (!parse) {
    ++rows_;
    return true;
  }
  if (scores_text_) ParseDoubleRow(sline, scores_path_, ScoresPos(), &row_);
  if (n_items_ == 0) {
    n_items_ = row_.size();
    columns_reason_ = scores_npy_ ? "the first row has " + std::to_string(n_items_)
                                  : "the first line has " + std::to_string(n_items_);
  } else if (row_.size() != n_items_) {
    ScoresError("has " + std::to_string(row_.size()) + " columns but " + columns_reason_);
  }
  if (logits_) {
    for (size_t i = 0; i < row_.size(); ++i) {
      if (std::isnan(row_[i]) || row_[i] == std::numeric_limits<double>::infinity())
        ScoresError("column " + std::to_string(i + 1) + ": logit " +
                    QuoteForError(std::to_string(row_[i])) +
                    " is not allowed (NaN or +inf; use -inf to mask an item)");
    }
    probs_.resize(row_.size());
    try {
      Softmax(row_.data(), row_.size(), nullptr, probs_.data());
    } catch (const FileError&) {
      throw;
    } catch (const Error& e) {
      ScoresError(e.what());
    }
  } else {
    double sum = 0.0;
    for (size_t i = 0; i < row_.size(); ++i) {
      const double v = row_[i];
      if (!(v >= 0.0) || std::isinf(v))
        ScoresError("column " + std::to_string(i + 1) + ": probability " +
                    QuoteForError(std::to_string(v)) + " must be finite and >= 0");
      sum += v;
    }
    if (std::fabs(sum - 1.0) > 1e-3)
      ScoresError("probabilities sum to " + std::to_string(sum) +
                  ", not 1 within 1e-3 (pass --logits if these are logits)");
    probs_.swap(row_);
  }
  label_ = ParseLabel(lline, npy_label);
  ++rows_;
  return true;
}

size_t ScoreRowReader::ParseLabel(std::string_view lline, int64_t npy_value) const {
  int64_t v = npy_value;
  std::string shown = std::to_string(npy_value);
  if (labels_text_) {
    const char* a = lline.data();
    const char* b = a + lline.size();
    while (a < b && (*a == ' ' || *a == '\t')) ++a;
    while (b > a && (b[-1] == ' ' || b[-1] == '\t')) --b;
    shown = std::string(a, b);
    if (label_map_ != nullptr) {
      auto it = label_map_->index.find(shown);
      if (it == label_map_->index.end())
        LabelsError("label " + QuoteForError(shown) + " is not an item id of " + label_map_->file);
      v = it->second;
    } else {
      auto res = std::from_chars(a, b, v);
      if (a == b || res.ec != std::errc() || res.ptr != b)
        LabelsError("not an item index: " + QuoteForError(lline));
    }
  } else if (label_map_ != nullptr) {
    // External ids are text; a .npy label file holds item indices.
    LabelsError("a .npy labels file holds item indices, not the external ids --dataset maps");
  }
  if (v < 0 || static_cast<uint64_t>(v) >= n_items_)
    LabelsError("label " + std::to_string(v) + " out of range: the catalog has " +
                std::to_string(n_items_) + " items (0.." + std::to_string(n_items_ - 1) + ")");
  return static_cast<size_t>(v);
}

void AppendDouble(std::string* out, double v) {
  if (std::isinf(v)) {
    out->append(v > 0 ? "inf" : "-inf");
    return;
  }
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof(buf), v);
  out->append(buf, static_cast<size_t>(res.ptr - buf));
}

}  // namespace recarena::experiments
