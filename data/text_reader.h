// Low-level text input shared by the dataset loaders: a line reader with 1-based line numbers,
// UTF-8 validation / Latin-1 conversion, an RFC-4180 CSV record reader, a whitespace splitter and
// strict number parsing. Every error is a recarena::FileError naming the file, the line and the
// offending value.
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace recarena::data {

// How the bytes of a text file are interpreted.
enum class TextEncoding {
  kUtf8,          // must be valid UTF-8; an invalid byte is a FileError (line, byte offset, value)
  kLatin1,        // every byte is a Latin-1 code point; converted to UTF-8
  kUtf8OrLatin1,  // a line that is valid UTF-8 is kept, any other line is converted from Latin-1
};

// Returns the byte offset of the first invalid UTF-8 sequence in s, or -1 when s is valid
// (rejects overlong forms, surrogates and code points above U+10FFFF).
int64_t FindInvalidUtf8(std::string_view s);
// Converts Latin-1 (ISO-8859-1) bytes to UTF-8.
std::string Latin1ToUtf8(std::string_view s);

// Reads a text file line by line. Strips the '\n' and one trailing '\r' (CRLF files), applies the
// encoding. A missing, unreadable or empty (0-byte) file is a FileError at construction.
class LineReader {
 public:
  explicit LineReader(const std::filesystem::path& file,
                      TextEncoding encoding = TextEncoding::kUtf8);
  // Reads the next line into line (UTF-8). Returns false at the end of the file. Throws FileError
  // on invalid UTF-8 (kUtf8); the reader has then moved past that line, so the caller may go on.
  bool Next(std::string& line);
  // 1-based number of the line last returned by Next (0 before the first call).
  int64_t line_number() const { return line_number_; }
  // The file path as given (used in error messages).
  const std::string& file_name() const { return file_name_; }

 private:
  std::string file_name_;
  std::ifstream in_;
  std::unique_ptr<char[]> buffer_;
  TextEncoding encoding_;
  int64_t line_number_ = 0;
};

// Outcome of splitting one CSV record.
enum class CsvSplit {
  kComplete,   // fields holds the record
  kOpenQuote,  // a quoted field is still open at the end: the record continues on the next line
  kMalformed,  // bad quoting (text after a closing quote); *problem says what
};

// Splits text into RFC-4180 fields separated by sep: a field may be quoted with '"', a quoted field
// may contain sep, newlines and doubled quotes (""). Quotes inside an unquoted field are literal.
CsvSplit SplitCsv(std::string_view text, char sep, std::vector<std::string>& fields,
                  std::string* problem = nullptr);

// Reads CSV records (RFC 4180) from a file, joining physical lines while a quoted field is open
// (with '\n' between them). Completely empty lines are skipped.
class CsvReader {
 public:
  CsvReader(const std::filesystem::path& file, char sep,
            TextEncoding encoding = TextEncoding::kUtf8);
  // Reads the next record. Returns false at the end of the file. Throws FileError (at the record's
  // first line) for malformed quoting or a quoted field left open at the end of the file.
  bool Next(std::vector<std::string>& fields);
  // 1-based line on which the record last returned by Next starts.
  int64_t line_number() const { return record_line_; }
  const std::string& file_name() const { return lines_.file_name(); }

 private:
  LineReader lines_;
  char sep_;
  int64_t record_line_ = 0;
  std::string line_;
};

// Splits on runs of spaces and tabs; no empty fields. The views point into s.
std::vector<std::string_view> SplitWhitespace(std::string_view s);
// Splits on a single character, keeping empty fields ("a||b" -> a, "", b). Views point into s.
std::vector<std::string_view> SplitChar(std::string_view s, char sep);

// Strict number parsing: the whole of s must be the number (no spaces, no trailing text).
// On failure throws FileError(file, line, "bad <what>: '<s>' is not an integer") etc.
int64_t ParseInt64(std::string_view s, const std::string& file, int64_t line,
                   std::string_view what);
// Like ParseInt64 but also checks the int32 range.
int32_t ParseInt32(std::string_view s, const std::string& file, int64_t line,
                   std::string_view what);
// Finite decimal number ("4.5", "1e3", "1396860669.277"); NaN and infinities are rejected.
double ParseDouble(std::string_view s, const std::string& file, int64_t line,
                   std::string_view what);

// ParseDouble, then checked to fit a float (|v| <= 3.4e38): values stored as float must not turn
// into infinities (a rating of 1e39 is an error naming the file, line and value).
float ParseFloat(std::string_view s, const std::string& file, int64_t line, std::string_view what);

// Throws FileError(file, line, ...) unless fields.size() == expected, quoting the line's start.
void RequireFieldCount(size_t actual, size_t expected, std::string_view line_text,
                       const std::string& file, int64_t line);

// Days since 1970-01-01 of a proleptic-Gregorian date (no validation; negative before 1970).
int64_t DaysFromCivil(int64_t year, int month, int day);
// Whether (year, month, day) is a real calendar date (month 1..12, day within the month).
bool IsValidDate(int64_t year, int month, int day);

}  // namespace recarena::data
