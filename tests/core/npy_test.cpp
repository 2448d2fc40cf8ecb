#include <catch2/catch.hpp>

#include <cstring>
#include <fstream>

#include "core/error.h"
#include "core/npy.h"
#include "test_util.h"

using recarena::NpyHeader;
using recarena::NpyReader;
using recarena::NpyType;
using recarena::testing::TempDir;

namespace {

// A .npy file as numpy.save writes it: magic, version, little-endian header length, the dict padded
// with spaces to a multiple of 64 bytes and ended by '\n', then the data.
std::string NpyBytes(const std::string& dict, const std::string& data, int major = 1) {
  const size_t pre = major == 1 ? 10 : 12;
  std::string header = dict;
  while ((pre + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  std::string out = "\x93NUMPY";
  out += static_cast<char>(major);
  out += '\0';
  const size_t len = header.size();
  for (size_t i = 0; i < (major == 1 ? 2u : 4u); ++i)
    out += static_cast<char>((len >> (8 * i)) & 0xff);
  return out + header + data;
}

template <typename T>
std::string Raw(std::initializer_list<T> values) {
  std::string s;
  for (T v : values) s.append(reinterpret_cast<const char*>(&v), sizeof(T));
  return s;
}

std::filesystem::path Write(const TempDir& dir, const std::string& name, const std::string& bytes) {
  const auto p = dir.path() / name;
  std::ofstream(p, std::ios::binary) << bytes;
  return p;
}

std::string ErrorOf(const std::filesystem::path& p) {
  try {
    NpyReader r(p.string());
  } catch (const recarena::FileError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("npy: a float32 2-D array streams row by row as doubles", "[npy]") {
  TempDir dir;
  const auto p = Write(dir, "a.npy",
                       NpyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }",
                                Raw<float>({0.5f, -1.25f, 3.0f, 0.1f, 7.0f, -0.0f})));
  NpyReader r(p.string());
  CHECK(r.header().type == NpyType::kFloat32);
  CHECK(r.header().rows() == 2);
  CHECK(r.header().cols() == 3);
  std::vector<double> row;
  REQUIRE(r.NextRow(&row));
  CHECK(row == std::vector<double>{0.5, -1.25, 3.0});
  REQUIRE(r.NextRow(&row));
  CHECK(row[0] == static_cast<double>(0.1f));  // the float's exact value, not 0.1
  CHECK(row[1] == 7.0);
  CHECK_FALSE(r.NextRow(&row));
  CHECK(r.row() == 2);
}

TEST_CASE("npy: float64 rows, version 2 headers, skipping, 1-D int labels", "[npy]") {
  TempDir dir;
  const auto f = Write(dir, "f.npy",
                       NpyBytes("{'descr': '<f8', 'fortran_order': False, 'shape': (3, 1), }",
                                Raw<double>({1.5, 2.5, 3.5}), 2));
  NpyReader r(f.string());
  std::vector<double> row;
  REQUIRE(r.SkipRow());
  REQUIRE(r.NextRow(&row));
  CHECK(row == std::vector<double>{2.5});
  REQUIRE(r.SkipRow());
  CHECK_FALSE(r.SkipRow());

  const auto i4 = Write(
      dir, "i4.npy",
      NpyBytes("{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }", Raw<int32_t>({7, -3})));
  NpyReader l(i4.string());
  int64_t v = 0;
  REQUIRE(l.NextInt(&v));
  CHECK(v == 7);
  REQUIRE(l.NextInt(&v));
  CHECK(v == -3);
  CHECK_FALSE(l.NextInt(&v));
  // Integers are not rows of doubles, and floats are not integers: no silent casts.
  NpyReader l2(i4.string());
  CHECK_THROWS_WITH(l2.NextRow(&row), Catch::Contains("holds integers"));
  NpyReader f2(f.string());
  CHECK_THROWS_WITH(f2.NextInt(&v), Catch::Contains("holds floats"));
}

TEST_CASE("npy: unsupported or damaged files name the file and the value", "[npy]") {
  TempDir dir;
  const std::string data = Raw<float>({1, 2, 3, 4});
  auto err = [&](const std::string& name, const std::string& bytes) {
    return ErrorOf(Write(dir, name, bytes));
  };
  CHECK_THAT(err("fortran.npy",
                 NpyBytes("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", data)),
             Catch::Contains("fortran.npy") && Catch::Contains("Fortran order"));
  CHECK_THAT(
      err("big.npy", NpyBytes("{'descr': '>f4', 'fortran_order': False, 'shape': (2, 2), }", data)),
      Catch::Contains("'>f4'") && Catch::Contains("not supported"));
  CHECK_THAT(
      err("f2.npy", NpyBytes("{'descr': '<f2', 'fortran_order': False, 'shape': (2, 2), }", data)),
      Catch::Contains("'<f2'"));
  CHECK_THAT(err("short.npy",
                 NpyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 2), }", data)),
             Catch::Contains("short.npy") && Catch::Contains("truncated"));
  CHECK_THAT(err("cube.npy",
                 NpyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2, 2), }", data)),
             Catch::Contains("3 dimensions"));
  CHECK_THAT(err("noshape.npy", NpyBytes("{'descr': '<f4', 'fortran_order': False, }", data)),
             Catch::Contains("'shape'"));
  CHECK_THAT(err("text.npy", "1,2\n3,4\n"), Catch::Contains("not a .npy file"));
  CHECK_THAT(err("v9.npy",
                 NpyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }", data, 9)),
             Catch::Contains("version 9"));
  CHECK_THAT(ErrorOf(dir.path() / "missing.npy"), Catch::Contains("cannot open"));
}

TEST_CASE("npy: IsNpyPath looks at the extension only", "[npy]") {
  CHECK(recarena::IsNpyPath("a/b/scores.npy"));
  CHECK(recarena::IsNpyPath("SCORES.NPY"));
  CHECK_FALSE(recarena::IsNpyPath("scores.npz"));
  CHECK_FALSE(recarena::IsNpyPath("scores.csv"));
  CHECK_FALSE(recarena::IsNpyPath("npy"));
}
