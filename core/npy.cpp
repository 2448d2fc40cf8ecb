#include "core/npy.h"

#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <limits>

#include "core/error.h"

namespace recarena {

namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicLen = 6;

// The value text after `'key':` in the header dict, up to the next top-level ',' or '}' (a shape
// tuple keeps its commas). Throws when the key is missing.
std::string_view DictValue(std::string_view dict, std::string_view key, const std::string& path) {
  const std::string quoted = "'" + std::string(key) + "'";
  const size_t k = dict.find(quoted);
  if (k == std::string_view::npos)
    throw FileError(path, 0, "npy header has no " + quoted + " key: " + QuoteForError(dict));
  size_t p = dict.find(':', k + quoted.size());
  if (p == std::string_view::npos)
    throw FileError(path, 0, "npy header: no ':' after " + quoted + ": " + QuoteForError(dict));
  ++p;
  while (p < dict.size() && dict[p] == ' ') ++p;
  size_t e = p;
  int depth = 0;
  while (e < dict.size()) {
    const char c = dict[e];
    if (c == '(') ++depth;
    if (c == ')') --depth;
    if (depth == 0 && (c == ',' || c == '}')) break;
    ++e;
  }
  std::string_view v = dict.substr(p, e - p);
  while (!v.empty() && v.back() == ' ') v.remove_suffix(1);
  return v;
}

NpyType ParseDescr(std::string_view v, const std::string& path) {
  if (v == "'<f4'") return NpyType::kFloat32;
  if (v == "'<f8'") return NpyType::kFloat64;
  if (v == "'<i4'") return NpyType::kInt32;
  if (v == "'<i8'") return NpyType::kInt64;
  throw FileError(path, 0,
                  "npy dtype " + QuoteForError(v) +
                      " is not supported (use little-endian float32/float64 or int32/int64: "
                      "'<f4', '<f8', '<i4', '<i8')");
}

std::vector<int64_t> ParseShape(std::string_view v, const std::string& path) {
  if (v.size() < 2 || v.front() != '(' || v.back() != ')')
    throw FileError(path, 0, "npy shape " + QuoteForError(v) + " is not a tuple");
  std::string_view in = v.substr(1, v.size() - 2);
  std::vector<int64_t> shape;
  while (true) {
    while (!in.empty() && in.front() == ' ') in.remove_prefix(1);
    if (in.empty()) break;
    int64_t d = -1;
    auto res = std::from_chars(in.data(), in.data() + in.size(), d);
    if (res.ec != std::errc() || d < 0)
      throw FileError(path, 0, "npy shape " + QuoteForError(v) + ": not a dimension");
    shape.push_back(d);
    in.remove_prefix(static_cast<size_t>(res.ptr - in.data()));
    while (!in.empty() && in.front() == ' ') in.remove_prefix(1);
    if (in.empty()) break;
    if (in.front() != ',')
      throw FileError(path, 0, "npy shape " + QuoteForError(v) + ": expected ','");
    in.remove_prefix(1);
  }
  if (shape.empty() || shape.size() > 2)
    throw FileError(path, 0,
                    "npy shape " + QuoteForError(v) + " has " + std::to_string(shape.size()) +
                        " dimensions; a 1-D or 2-D array is expected");
  return shape;
}

}  // namespace

bool IsNpyPath(const std::string& path) {
  if (path.size() < 4) return false;
  std::string ext = path.substr(path.size() - 4);
  for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return ext == ".npy";
}

NpyHeader ParseNpyHeader(const std::string& bytes, const std::string& path) {
  if (bytes.size() < kMagicLen + 4 || std::memcmp(bytes.data(), kMagic, kMagicLen) != 0)
    throw FileError(path, 0, "not a .npy file (no \\x93NUMPY magic)");
  const auto major = static_cast<unsigned char>(bytes[6]);
  size_t len_bytes = 0;
  if (major == 1) {
    len_bytes = 2;
  } else if (major == 2 || major == 3) {
    len_bytes = 4;
  } else {
    throw FileError(path, 0, "npy format version " + std::to_string(major) + " is not supported");
  }
  if (bytes.size() < 8 + len_bytes) throw FileError(path, 0, "npy header is truncated");
  uint64_t hlen = 0;
  for (size_t i = 0; i < len_bytes; ++i)
    hlen |= static_cast<uint64_t>(static_cast<unsigned char>(bytes[8 + i])) << (8 * i);
  const size_t start = 8 + len_bytes;
  if (hlen > bytes.size() - start)
    throw FileError(path, 0,
                    "npy header claims " + std::to_string(hlen) + " bytes but the file has " +
                        std::to_string(bytes.size() - start) + " after the preamble");
  const std::string_view dict(bytes.data() + start, hlen);
  NpyHeader h;
  h.type = ParseDescr(DictValue(dict, "descr", path), path);
  const std::string_view fortran = DictValue(dict, "fortran_order", path);
  if (fortran == "True")
    throw FileError(path, 0,
                    "npy array is in Fortran order; save it C-ordered (np.ascontiguousarray)");
  if (fortran != "False")
    throw FileError(path, 0, "npy fortran_order " + QuoteForError(fortran) + " is not a bool");
  h.shape = ParseShape(DictValue(dict, "shape", path), path);
  h.data_offset = static_cast<int64_t>(start + hlen);
  return h;
}

NpyReader::NpyReader(std::string path) : path_(std::move(path)) {
  f_ = std::fopen(path_.c_str(), "rb");
  if (!f_) throw FileError(path_, 0, std::string("cannot open: ") + std::strerror(errno));
  std::setvbuf(f_, nullptr, _IOFBF, 1 << 20);
  // The preamble gives the header length; read the preamble, then the whole header.
  std::string bytes(12, '\0');
  bytes.resize(std::fread(bytes.data(), 1, bytes.size(), f_));
  uint64_t need = bytes.size();
  if (bytes.size() >= 10 && std::memcmp(bytes.data(), kMagic, kMagicLen) == 0) {
    const auto major = static_cast<unsigned char>(bytes[6]);
    const size_t lb = major == 1 ? 2 : 4;
    uint64_t hlen = 0;
    for (size_t i = 0; i < lb && 8 + i < bytes.size(); ++i)
      hlen |= static_cast<uint64_t>(static_cast<unsigned char>(bytes[8 + i])) << (8 * i);
    need = 8 + lb + hlen;
  }
  if (need > bytes.size() && need < (1u << 24)) {
    const size_t have = bytes.size();
    bytes.resize(need);
    bytes.resize(have + std::fread(bytes.data() + have, 1, need - have, f_));
  }
  header_ = ParseNpyHeader(bytes, path_);
  if (std::fseek(f_, 0, SEEK_END) != 0) throw FileError(path_, 0, "cannot seek");
  const int64_t size = std::ftell(f_);
  const int64_t rows = header_.rows();
  const int64_t cols = header_.cols();
  const auto item = static_cast<int64_t>(header_.item_size());
  if (cols > 0 && rows > std::numeric_limits<int64_t>::max() / cols / item)
    throw FileError(path_, 0, "npy shape is too large");
  const int64_t want = header_.data_offset + rows * cols * item;
  if (size != want)
    throw FileError(path_, 0,
                    "npy file has " + std::to_string(size) + " bytes but its header (shape " +
                        std::to_string(rows) + " x " + std::to_string(cols) + ") needs " +
                        std::to_string(want) + " (truncated or padded file)");
  if (std::fseek(f_, header_.data_offset, SEEK_SET) != 0) throw FileError(path_, 0, "cannot seek");
  raw_.resize(static_cast<size_t>(cols * item));
}

NpyReader::~NpyReader() {
  if (f_) std::fclose(f_);
}

bool NpyReader::ReadRaw() {
  if (row_ >= header_.rows()) return false;
  if (std::fread(raw_.data(), 1, raw_.size(), f_) != raw_.size())
    throw FileError(path_, 0, "read error at row " + std::to_string(row_ + 1));
  ++row_;
  return true;
}

bool NpyReader::SkipRow() {
  if (row_ >= header_.rows()) return false;
  if (std::fseek(f_, static_cast<long>(raw_.size()), SEEK_CUR) != 0)
    throw FileError(path_, 0, "cannot seek past row " + std::to_string(row_ + 1));
  ++row_;
  return true;
}

bool NpyReader::NextRow(std::vector<double>* out) {
  if (header_.type != NpyType::kFloat32 && header_.type != NpyType::kFloat64)
    throw FileError(path_, 0, "npy array holds integers; float32 or float64 values are expected");
  if (!ReadRaw()) return false;
  const size_t n = static_cast<size_t>(header_.cols());
  out->resize(n);
  if (header_.type == NpyType::kFloat32) {
    for (size_t i = 0; i < n; ++i) {
      float v;
      std::memcpy(&v, raw_.data() + 4 * i, 4);
      (*out)[i] = v;
    }
  } else {
    std::memcpy(out->data(), raw_.data(), 8 * n);  // '<f8' on a little-endian host
  }
  return true;
}

bool NpyReader::NextInt(int64_t* out) {
  if (header_.type != NpyType::kInt32 && header_.type != NpyType::kInt64)
    throw FileError(path_, 0, "npy array holds floats; int32 or int64 values are expected");
  if (header_.shape.size() != 1)
    throw FileError(path_, 0, "npy array has 2 dimensions; a 1-D array of integers is expected");
  if (!ReadRaw()) return false;
  if (header_.type == NpyType::kInt32) {
    int32_t v;
    std::memcpy(&v, raw_.data(), 4);
    *out = v;
  } else {
    std::memcpy(out, raw_.data(), 8);
  }
  return true;
}

}  // namespace recarena
