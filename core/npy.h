// Reading NumPy .npy files (format versions 1.0, 2.0 and 3.0; numpy.lib.format) row by row, so a
// matrix larger than memory can be streamed. Supported: little-endian float32/float64/int32/int64
// ('<f4', '<f8', '<i4', '<i8'; '|' or '=' byte orders of one-byte-order types are not used by
// NumPy for these), C order, 1-D (one value per row) or 2-D arrays. Anything else — Fortran order,
// another dtype, a big-endian file, a truncated file, a malformed header — is a FileError naming
// the file and the offending header value. Values are converted to double (floats) or int64 (ints)
// as they are read; a float row read as integers, or the reverse, is an error (no silent casts).
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace recarena {

enum class NpyType { kFloat32, kFloat64, kInt32, kInt64 };

struct NpyHeader {
  NpyType type = NpyType::kFloat64;
  std::vector<int64_t> shape;  // 1 or 2 dimensions
  int64_t data_offset = 0;     // bytes before the first element
  int64_t rows() const { return shape.empty() ? 0 : shape[0]; }
  int64_t cols() const { return shape.size() == 2 ? shape[1] : 1; }
  size_t item_size() const { return type == NpyType::kFloat32 || type == NpyType::kInt32 ? 4 : 8; }
};

// Parses the header of the .npy bytes in `bytes` (at least the preamble and the header dict).
// Throws FileError(path, 0, ...) naming what is wrong. Exposed for tests and the fuzz target.
NpyHeader ParseNpyHeader(const std::string& bytes, const std::string& path);

// True when path ends in ".npy" (case-insensitive): the readers of text matrices switch on it.
bool IsNpyPath(const std::string& path);

// Streams the rows of one .npy file. Not copyable; owns its FILE*.
class NpyReader {
 public:
  explicit NpyReader(std::string path);  // reads and checks the header and the file size
  ~NpyReader();
  NpyReader(const NpyReader&) = delete;
  NpyReader& operator=(const NpyReader&) = delete;

  const NpyHeader& header() const { return header_; }
  const std::string& path() const { return path_; }
  int64_t row() const { return row_; }  // rows returned or skipped so far

  // Next row as doubles (out resized to cols()); false after the last row. A float file only.
  bool NextRow(std::vector<double>* out);
  // Next value of a 1-D integer file; false after the last row.
  bool NextInt(int64_t* out);
  // Advances one row without converting it; false after the last row.
  bool SkipRow();

 private:
  bool ReadRaw();
  std::string path_;
  FILE* f_ = nullptr;
  NpyHeader header_;
  std::vector<unsigned char> raw_;
  int64_t row_ = 0;
};

}  // namespace recarena
