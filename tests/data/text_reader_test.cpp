// Line and CSV readers, strict number parsing, calendar helpers (data/text_reader.h).
#include <catch2/catch.hpp>

#include <chrono>
#include <set>
#include <string>

#include "core/error.h"
#include "data/dataset_registry.h"
#include "data/load_amazon.h"
#include "data/load_coat.h"
#include "data/load_generic_csv.h"
#include "data/load_lastfm.h"
#include "data/load_movielens.h"
#include "data/load_rc15.h"
#include "data/text_reader.h"
#include "test_util.h"

namespace data = recarena::data;
using Catch::Matchers::Contains;
using recarena::Error;
using recarena::FileError;
using recarena::testing::FileErrorMessage;
using recarena::testing::TempDir;

// ---------------------------------------------------------------- text_reader

TEST_CASE("LineReader strips CRLF, numbers lines, and rejects missing, empty and bad UTF-8",
          "[loaders][text]") {
  TempDir dir;
  const auto f = dir.Write("a.txt", "one\r\ntwo\n\nthree");
  data::LineReader in(f);
  std::string line;
  REQUIRE(in.Next(line));
  CHECK(line == "one");
  CHECK(in.line_number() == 1);
  REQUIRE(in.Next(line));
  CHECK(line == "two");
  REQUIRE(in.Next(line));
  CHECK(line.empty());
  REQUIRE(in.Next(line));
  CHECK(line == "three");
  CHECK(in.line_number() == 4);
  CHECK_FALSE(in.Next(line));

  CHECK_THAT(FileErrorMessage([&] { data::LineReader r(dir.path() / "nope.txt"); }),
             Contains("nope.txt") && Contains("not found"));
  const auto empty = dir.Write("empty.txt", "");
  CHECK_THAT(FileErrorMessage([&] { data::LineReader r(empty); }), Contains("empty"));

  const auto bad = dir.Write("bad.txt", "fine\ncaf\xE9 au lait\n");
  data::LineReader r(bad);
  REQUIRE(r.Next(line));
  const std::string msg = FileErrorMessage([&] { r.Next(line); });
  CHECK_THAT(msg, Contains("bad.txt:2") && Contains("offset 3") && Contains("0xE9"));
  CHECK_FALSE(r.Next(line));  // moved past the bad line

  data::LineReader latin(bad, data::TextEncoding::kLatin1);
  REQUIRE(latin.Next(line));
  REQUIRE(latin.Next(line));
  CHECK(line == "caf\xC3\xA9 au lait");
  const auto mixed = dir.Write("mixed.txt",
                               "caf\xC3\xA9\nfu\xDF"
                               "ball\n");
  data::LineReader m(mixed, data::TextEncoding::kUtf8OrLatin1);
  REQUIRE(m.Next(line));
  CHECK(line == "caf\xC3\xA9");
  REQUIRE(m.Next(line));
  CHECK(line ==
        "fu\xC3\x9F"
        "ball");
}

TEST_CASE("UTF-8 validation and Latin-1 conversion", "[loaders][text]") {
  CHECK(data::FindInvalidUtf8("plain") == -1);
  CHECK(data::FindInvalidUtf8("R\xC3\xB6yksopp \xE2\x82\xAC \xF0\x9F\x8E\xB5") == -1);
  CHECK(data::FindInvalidUtf8("ab\xC0\xAF") == 2);         // overlong
  CHECK(data::FindInvalidUtf8("\xED\xA0\x80") == 0);       // surrogate
  CHECK(data::FindInvalidUtf8("x\xF4\x90\x80\x80") == 1);  // above U+10FFFF
  CHECK(data::FindInvalidUtf8("abc\xE2\x82") == 3);        // truncated
  CHECK(data::Latin1ToUtf8("Mis\xE9rables \xC4") == "Mis\xC3\xA9rables \xC3\x84");
}

TEST_CASE("SplitCsv handles quotes, doubled quotes, empty fields and open quotes",
          "[loaders][text]") {
  std::vector<std::string> f;
  REQUIRE(data::SplitCsv("1,\"Toy Story, The (1995)\",Comedy", ',', f) ==
          data::CsvSplit::kComplete);
  CHECK(f == std::vector<std::string>{"1", "Toy Story, The (1995)", "Comedy"});
  REQUIRE(data::SplitCsv("\"say \"\"hi\"\"\",,x,", ',', f) == data::CsvSplit::kComplete);
  CHECK(f == std::vector<std::string>{"say \"hi\"", "", "x", ""});
  CHECK(data::SplitCsv("1,\"open", ',', f) == data::CsvSplit::kOpenQuote);
  std::string problem;
  CHECK(data::SplitCsv("\"a\"b,c", ',', f, &problem) == data::CsvSplit::kMalformed);
  CHECK_THAT(problem, Contains("after the closing quote"));
  REQUIRE(data::SplitCsv("a\tb c\t", '\t', f) == data::CsvSplit::kComplete);
  CHECK(f == std::vector<std::string>{"a", "b c", ""});
}

TEST_CASE("CsvReader joins a quoted field spanning lines and reports the start line",
          "[loaders][text]") {
  TempDir dir;
  const auto p = dir.Write("x.csv", "a,b\r\n1,\"line one\r\nline two, still\"\r\n\r\n2,z\r\n");
  data::CsvReader in(p, ',');
  std::vector<std::string> f;
  REQUIRE(in.Next(f));
  CHECK(in.line_number() == 1);
  REQUIRE(in.Next(f));
  CHECK(in.line_number() == 2);
  CHECK(f == std::vector<std::string>{"1", "line one\nline two, still"});
  REQUIRE(in.Next(f));
  CHECK(in.line_number() == 5);
  CHECK(f == std::vector<std::string>{"2", "z"});
  CHECK_FALSE(in.Next(f));

  const auto open = dir.Write("open.csv", "a,b\n1,\"never closed\n2,3\n");
  data::CsvReader bad(open, ',');
  REQUIRE(bad.Next(f));
  CHECK_THAT(FileErrorMessage([&] { bad.Next(f); }),
             Contains("open.csv:2") && Contains("not closed"));
}

TEST_CASE("strict number parsing names file, line and value", "[loaders][text]") {
  CHECK(data::ParseInt64("-42", "f.txt", 3, "id") == -42);
  CHECK(data::ParseInt64("+7", "f.txt", 3, "id") == 7);
  CHECK(data::ParseDouble("4.5", "f.txt", 3, "rating") == 4.5);
  CHECK(data::ParseDouble("1396860669.277", "f.txt", 3, "t") == Approx(1396860669.277));
  CHECK_THAT(FileErrorMessage([] { data::ParseInt64("12x", "f.txt", 3, "user id"); }),
             Contains("f.txt:3") && Contains("user id") && Contains("'12x'"));
  CHECK_THAT(FileErrorMessage([] { data::ParseInt64("", "f.txt", 3, "id"); }), Contains("''"));
  CHECK_THAT(FileErrorMessage([] { data::ParseInt64(" 1", "f.txt", 3, "id"); }), Contains("' 1'"));
  CHECK_THAT(FileErrorMessage([] { data::ParseInt64("99999999999999999999", "f.txt", 3, "id"); }),
             Contains("out of range"));
  CHECK_THAT(FileErrorMessage([] { data::ParseInt32("3000000000", "f.txt", 3, "id"); }),
             Contains("32-bit"));
  CHECK_THAT(FileErrorMessage([] { data::ParseDouble("nan", "f.txt", 9, "rating"); }),
             Contains("f.txt:9") && Contains("'nan'"));
  CHECK_THAT(FileErrorMessage([] { data::ParseDouble("4,5", "f.txt", 9, "rating"); }),
             Contains("'4,5'"));
  // Finite as a double, infinite as a float: refused, not stored as inf.
  CHECK(data::ParseFloat("3.5", "f.txt", 3, "rating") == 3.5f);
  CHECK(data::ParseFloat("-3.4e38", "f.txt", 3, "rating") == -3.4e38f);
  CHECK_THAT(FileErrorMessage([] { data::ParseFloat("1e39", "f.txt", 4, "rating"); }),
             Contains("f.txt:4") && Contains("'1e39'") && Contains("float range"));
  CHECK_THAT(FileErrorMessage([] { data::ParseFloat("-1e300", "f.txt", 5, "rating"); }),
             Contains("f.txt:5") && Contains("'-1e300'"));
  CHECK(data::SplitWhitespace("  1 0\t 3 ") == std::vector<std::string_view>{"1", "0", "3"});
  CHECK(data::SplitChar("a||b", '|') == std::vector<std::string_view>{"a", "", "b"});
}

TEST_CASE("calendar helpers", "[loaders][text]") {
  CHECK(data::DaysFromCivil(1970, 1, 1) == 0);
  CHECK(data::DaysFromCivil(2009, 4, 1) * 86400 == 1238544000);
  CHECK(data::DaysFromCivil(1969, 12, 31) == -1);
  CHECK(data::IsValidDate(2008, 2, 29));
  CHECK_FALSE(data::IsValidDate(2009, 2, 29));
  CHECK_FALSE(data::IsValidDate(1900, 2, 29));
  CHECK_FALSE(data::IsValidDate(2000, 13, 1));
  CHECK_FALSE(data::IsValidDate(2000, 4, 31));
}

// ---------------------------------------------------------------- MovieLens
