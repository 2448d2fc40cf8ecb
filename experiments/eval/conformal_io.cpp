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
    : scores_(scores_path), labels_(labels_path), logits_(logits) {}

void ScoreRowReader::ExpectColumns(size_t n, std::string reason) {
  n_items_ = n;
  columns_reason_ = std::move(reason);
}

bool ScoreRowReader::Next(bool parse) {
  std::string_view sline, lline;
  const bool has_s = scores_.Next(&sline);
  const bool has_l = labels_.Next(&lline);
  if (!has_s && !has_l) return false;
  if (has_s && !has_l)
    throw FileError(labels_.path(), labels_.line_number() + 1,
                    "missing label: the labels file has " + std::to_string(labels_.line_number()) +
                        " lines but the scores file " + scores_.path() + " has more (line " +
                        std::to_string(scores_.line_number()) + " has no label)");
  if (!has_s && has_l)
    throw FileError(labels_.path(), labels_.line_number(),
                    "extra label " + QuoteForError(lline) + ": the scores file " + scores_.path() +
                        " has only " + std::to_string(scores_.line_number()) + " lines");
  if (!parse) {
    ++rows_;
    return true;
  }
  const int64_t ln = scores_.line_number();
  ParseDoubleRow(sline, scores_.path(), ln, &row_);
  if (n_items_ == 0) {
    n_items_ = row_.size();
    columns_reason_ = "the first line has " + std::to_string(n_items_);
  } else if (row_.size() != n_items_) {
    throw FileError(scores_.path(), ln,
                    "has " + std::to_string(row_.size()) + " columns but " + columns_reason_);
  }
  if (logits_) {
    for (size_t i = 0; i < row_.size(); ++i) {
      if (std::isnan(row_[i]) || row_[i] == std::numeric_limits<double>::infinity())
        throw FileError(scores_.path(), ln,
                        "column " + std::to_string(i + 1) + ": logit " +
                            QuoteForError(std::to_string(row_[i])) +
                            " is not allowed (NaN or +inf; use -inf to mask an item)");
    }
    probs_.resize(row_.size());
    try {
      Softmax(row_.data(), row_.size(), nullptr, probs_.data());
    } catch (const FileError&) {
      throw;
    } catch (const Error& e) {
      throw FileError(scores_.path(), ln, e.what());
    }
  } else {
    double sum = 0.0;
    for (size_t i = 0; i < row_.size(); ++i) {
      const double v = row_[i];
      if (!(v >= 0.0) || std::isinf(v))
        throw FileError(scores_.path(), ln,
                        "column " + std::to_string(i + 1) + ": probability " +
                            QuoteForError(std::to_string(v)) + " must be finite and >= 0");
      sum += v;
    }
    if (std::fabs(sum - 1.0) > 1e-3)
      throw FileError(scores_.path(), ln,
                      "probabilities sum to " + std::to_string(sum) +
                          ", not 1 within 1e-3 (pass --logits if these are logits)");
    probs_.swap(row_);
  }
  // Label.
  {
    const int64_t lln = labels_.line_number();
    const char* a = lline.data();
    const char* b = a + lline.size();
    while (a < b && (*a == ' ' || *a == '\t')) ++a;
    while (b > a && (b[-1] == ' ' || b[-1] == '\t')) --b;
    int64_t v = -1;
    if (label_map_ != nullptr) {
      auto it = label_map_->index.find(std::string(a, b));
      if (it == label_map_->index.end())
        throw FileError(labels_.path(), lln,
                        "label " + QuoteForError(std::string_view(a, b - a)) +
                            " is not an item id of " + label_map_->file);
      v = it->second;
    } else {
      auto res = std::from_chars(a, b, v);
      if (a == b || res.ec != std::errc() || res.ptr != b)
        throw FileError(labels_.path(), lln, "not an item index: " + QuoteForError(lline));
    }
    if (v < 0 || static_cast<uint64_t>(v) >= n_items_)
      throw FileError(labels_.path(), lln,
                      "label " + std::to_string(v) + " out of range: the catalog has " +
                          std::to_string(n_items_) + " items (0.." + std::to_string(n_items_ - 1) +
                          ")");
    label_ = static_cast<size_t>(v);
  }
  ++rows_;
  return true;
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
