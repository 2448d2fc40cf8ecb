#include "data/text_reader.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <system_error>

#include "core/error.h"

namespace recarena::data {

namespace fs = std::filesystem;

int64_t FindInvalidUtf8(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
  size_t i = 0;
  while (i < n) {
    const unsigned char c = p[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len;
    uint32_t cp;
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
      cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      cp = c & 0x07;
    } else {
      return static_cast<int64_t>(i);
    }
    if (i + len > n) return static_cast<int64_t>(i);
    for (size_t k = 1; k < len; ++k) {
      if ((p[i + k] & 0xC0) != 0x80) return static_cast<int64_t>(i);
      cp = (cp << 6) | (p[i + k] & 0x3F);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10FFFF ||
        (cp >= 0xD800 && cp <= 0xDFFF)) {
      return static_cast<int64_t>(i);
    }
    i += len;
  }
  return -1;
}

std::string Latin1ToUtf8(std::string_view s) {
  std::string out;
  out.reserve(s.size() + s.size() / 8);
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x80) {
      out += ch;
    } else {
      out += static_cast<char>(0xC0 | (c >> 6));
      out += static_cast<char>(0x80 | (c & 0x3F));
    }
  }
  return out;
}

LineReader::LineReader(const fs::path& file, TextEncoding encoding)
    : file_name_(file.string()), encoding_(encoding) {
  std::error_code ec;
  if (!fs::exists(file, ec)) throw FileError(file_name_, 0, "file not found");
  if (fs::is_directory(file, ec)) throw FileError(file_name_, 0, "is a directory, not a file");
  const auto size = fs::file_size(file, ec);
  if (ec) throw FileError(file_name_, 0, "cannot read file: " + ec.message());
  if (size == 0) throw FileError(file_name_, 0, "file is empty");
  // A large buffer: the default one makes getline noticeably slower on multi-MB files. No larger
  // than the file, and not zeroed (the stream fills it): zeroing 1 MiB per small file was a
  // quarter of the loaders' time on the fuzzer's inputs.
  const size_t buffer = std::min<uintmax_t>(size + 1, 1 << 20);
  buffer_.reset(new char[buffer]);
  in_.rdbuf()->pubsetbuf(buffer_.get(), static_cast<std::streamsize>(buffer));
  in_.open(file, std::ios::binary);
  if (!in_) throw FileError(file_name_, 0, "cannot open file for reading");
}

bool LineReader::Next(std::string& line) {
  if (!std::getline(in_, line)) {
    if (in_.bad()) throw FileError(file_name_, line_number_ + 1, "read error");
    return false;
  }
  ++line_number_;
  if (!line.empty() && line.back() == '\r') line.pop_back();
  switch (encoding_) {
    case TextEncoding::kUtf8: {
      const int64_t bad = FindInvalidUtf8(line);
      if (bad >= 0) {
        throw FileError(
            file_name_, line_number_,
            fmt::format("invalid UTF-8 at byte offset {} of the line (byte 0x{:02X}) in {}", bad,
                        static_cast<unsigned char>(line[bad]), QuoteForError(line)));
      }
      break;
    }
    case TextEncoding::kLatin1:
      line = Latin1ToUtf8(line);
      break;
    case TextEncoding::kUtf8OrLatin1:
      if (FindInvalidUtf8(line) >= 0) line = Latin1ToUtf8(line);
      break;
  }
  return true;
}

CsvSplit SplitCsv(std::string_view text, char sep, std::vector<std::string>& fields,
                  std::string* problem) {
  fields.clear();
  std::string field;
  size_t i = 0;
  const size_t n = text.size();
  while (true) {
    field.clear();
    if (i < n && text[i] == '"') {
      // Quoted field: runs to the closing quote; "" is a literal quote.
      ++i;
      bool closed = false;
      while (i < n) {
        const char c = text[i];
        if (c == '"') {
          if (i + 1 < n && text[i + 1] == '"') {
            field += '"';
            i += 2;
          } else {
            ++i;
            closed = true;
            break;
          }
        } else {
          field += c;
          ++i;
        }
      }
      if (!closed) return CsvSplit::kOpenQuote;
      if (i < n && text[i] != sep) {
        if (problem) {
          *problem = fmt::format("unexpected text after the closing quote of field {}: {}",
                                 fields.size() + 1, QuoteForError(text.substr(i), 40));
        }
        return CsvSplit::kMalformed;
      }
    } else {
      const size_t end = text.find(sep, i);
      const size_t stop = end == std::string_view::npos ? n : end;
      field.assign(text.substr(i, stop - i));
      i = stop;
    }
    fields.push_back(field);
    if (i >= n) return CsvSplit::kComplete;
    ++i;           // the separator
    if (i == n) {  // a trailing separator means one more (empty) field
      fields.emplace_back();
      return CsvSplit::kComplete;
    }
  }
}

CsvReader::CsvReader(const fs::path& file, char sep, TextEncoding encoding)
    : lines_(file, encoding), sep_(sep) {}

bool CsvReader::Next(std::vector<std::string>& fields) {
  do {
    if (!lines_.Next(line_)) return false;
  } while (line_.empty());
  record_line_ = lines_.line_number();
  std::string record = line_;
  while (true) {
    std::string problem;
    const CsvSplit r = SplitCsv(record, sep_, fields, &problem);
    if (r == CsvSplit::kComplete) return true;
    if (r == CsvSplit::kMalformed) throw FileError(file_name(), record_line_, problem);
    if (!lines_.Next(line_)) {
      throw FileError(
          file_name(), record_line_,
          "quoted field is not closed before the end of the file: " + QuoteForError(record));
    }
    record += '\n';
    record += line_;
  }
}

std::vector<std::string_view> SplitWhitespace(std::string_view s) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
    if (i >= s.size()) break;
    size_t j = i;
    while (j < s.size() && s[j] != ' ' && s[j] != '\t') ++j;
    out.push_back(s.substr(i, j - i));
    i = j;
  }
  return out;
}

std::vector<std::string_view> SplitChar(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    const size_t pos = s.find(sep, start);
    if (pos == std::string_view::npos) {
      out.push_back(s.substr(start));
      return out;
    }
    out.push_back(s.substr(start, pos - start));
    start = pos + 1;
  }
}

int64_t ParseInt64(std::string_view s, const std::string& file, int64_t line,
                   std::string_view what) {
  int64_t v = 0;
  const char* begin = s.data();
  const char* end = s.data() + s.size();
  // from_chars rejects a leading '+'; accept it for symmetry with ParseDouble.
  if (begin != end && *begin == '+') ++begin;
  const auto [ptr, ec] = std::from_chars(begin, end, v);
  if (s.empty() || ec == std::errc::invalid_argument || ptr != end) {
    throw FileError(file, line,
                    fmt::format("bad {}: {} is not an integer", what, QuoteForError(s)));
  }
  if (ec == std::errc::result_out_of_range) {
    throw FileError(file, line, fmt::format("bad {}: {} is out of range", what, QuoteForError(s)));
  }
  return v;
}

int32_t ParseInt32(std::string_view s, const std::string& file, int64_t line,
                   std::string_view what) {
  const int64_t v = ParseInt64(s, file, line, what);
  if (v < INT32_MIN || v > INT32_MAX) {
    throw FileError(file, line,
                    fmt::format("bad {}: {} is out of the 32-bit range", what, QuoteForError(s)));
  }
  return static_cast<int32_t>(v);
}

double ParseDouble(std::string_view s, const std::string& file, int64_t line,
                   std::string_view what) {
  double v = 0;
  const char* begin = s.data();
  const char* end = s.data() + s.size();
  if (begin != end && *begin == '+') ++begin;
  const auto [ptr, ec] = std::from_chars(begin, end, v, std::chars_format::general);
  if (s.empty() || ec != std::errc() || ptr != end || !std::isfinite(v)) {
    throw FileError(file, line,
                    fmt::format("bad {}: {} is not a finite number", what, QuoteForError(s)));
  }
  return v;
}

float ParseFloat(std::string_view s, const std::string& file, int64_t line, std::string_view what) {
  const double v = ParseDouble(s, file, line, what);
  if (std::abs(v) > static_cast<double>(std::numeric_limits<float>::max())) {
    throw FileError(file, line,
                    fmt::format("bad {}: {} is outside the float range (|v| <= {:.3g})", what,
                                QuoteForError(s), std::numeric_limits<float>::max()));
  }
  return static_cast<float>(v);
}

void RequireFieldCount(size_t actual, size_t expected, std::string_view line_text,
                       const std::string& file, int64_t line) {
  if (actual != expected) {
    throw FileError(file, line,
                    fmt::format("expected {} fields, found {}: {}", expected, actual,
                                QuoteForError(line_text)));
  }
}

int64_t DaysFromCivil(int64_t y, int m, int d) {
  // Howard Hinnant's days_from_civil.
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

bool IsValidDate(int64_t year, int month, int day) {
  if (month < 1 || month > 12 || day < 1) return false;
  static const int kDays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  const int max_day = month == 2 && leap ? 29 : kDays[month - 1];
  return day <= max_day;
}

}  // namespace recarena::data
