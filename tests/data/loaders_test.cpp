// The dataset loaders on small fixtures: formats, ids, catalogs, and bad lines named by file and
// line.
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

namespace {

std::vector<data::ItemId> ItemsOf(const data::Dataset& ds, int64_t session) {
  std::vector<data::ItemId> out;
  for (const auto& x : ds.interactions) {
    if (x.session == session) out.push_back(x.item);
  }
  return out;
}

}  // namespace

namespace {
void WriteMlLatest(const TempDir& dir, const std::string& ratings_extra = "") {
  dir.Write("movies.csv",
            "movieId,title,genres\r\n"
            "1,Toy Story (1995),Adventure|Animation|Children\r\n"
            "11,\"American President, The (1995)\",Comedy|Drama|Romance\r\n"
            "5,\"Film \"\"Quoted\"\" Title (2000)\",(no genres listed)\r\n"
            "7,Never Rated (1999),Drama\r\n");
  dir.Write("ratings.csv",
            "userId,movieId,rating,timestamp\r\n"
            "3,11,4.5,964982703\r\n"
            "3,1,3.0,964981247\r\n"
            "1,5,0.5,964982224\r\n" +
                ratings_extra);
}
}  // namespace

TEST_CASE("ml-latest-small fixture: catalog order, quoted titles, genres, users", "[loaders]") {
  TempDir dir;
  WriteMlLatest(dir);
  data::LoadReport report;
  const data::Dataset ds = data::LoadMlLatestSmall(dir.path(), {}, &report);
  CHECK(ds.name == "ml-latest-small");
  CHECK(ds.value_kind == data::ValueKind::kRating);
  REQUIRE(ds.items.size() == 4);
  CHECK(ds.items.external_ids == std::vector<std::string>{"1", "11", "5", "7"});
  CHECK(ds.items.titles[1] == "American President, The (1995)");
  CHECK(ds.items.titles[2] == "Film \"Quoted\" Title (2000)");
  CHECK(ds.items.categories[0] == std::vector<std::string>{"Adventure", "Animation", "Children"});
  CHECK(ds.items.categories[2].empty());
  CHECK(ds.items.titles[3] == "Never Rated (1999)");
  CHECK(ds.users.external_ids == std::vector<std::string>{"3", "1"});
  REQUIRE(ds.interactions.size() == 3);
  CHECK(ds.interactions[0].user == 0);
  CHECK(ds.interactions[0].item == 1);
  CHECK(ds.interactions[0].value == 4.5f);
  CHECK(ds.interactions[0].timestamp == 964982703.0);
  CHECK(ds.interactions[2].user == 1);
  CHECK(ds.interactions[2].item == 2);
  CHECK(report.files_read.size() == 2);
}

TEST_CASE("ml-latest-small: malformed lines are errors with file, line and value, or skipped",
          "[loaders]") {
  TempDir dir;
  WriteMlLatest(dir, "4,1,abc,964982224\r\n4,999,3.0,1\r\n4,1\r\n2,7,5.0,964982224\r\n");
  const std::string msg =
      FileErrorMessage([&] { data::LoadMlLatestSmall(dir.path(), {}, nullptr); });
  CHECK_THAT(msg, Contains("ratings.csv:5") && Contains("rating") && Contains("'abc'"));
  {
    TempDir huge;
    WriteMlLatest(huge, "4,1,1e39,964982224\r\n");
    CHECK_THAT(FileErrorMessage([&] { data::LoadMlLatestSmall(huge.path(), {}, nullptr); }),
               Contains("ratings.csv:5") && Contains("'1e39'") && Contains("float range"));
  }

  data::LoadOptions opts;
  opts.skip_bad_lines = true;
  data::LoadReport report;
  const data::Dataset ds = data::LoadMlLatestSmall(dir.path(), opts, &report);
  CHECK(ds.interactions.size() == 4);
  CHECK(report.skipped_lines == 3);
  REQUIRE(report.skipped_examples.size() == 3);
  CHECK_THAT(report.skipped_examples[1],
             Contains("ratings.csv:6") && Contains("'999'") && Contains("not in movies.csv"));
  CHECK_THAT(report.skipped_examples[2],
             Contains("ratings.csv:7") && Contains("expected 4 fields"));

  dir.Write("ratings.csv", "userId,movie,rating,timestamp\n1,1,4,5\n");
  CHECK_THAT(FileErrorMessage([&] { data::LoadMlLatestSmall(dir.path(), opts, nullptr); }),
             Contains("ratings.csv:1") && Contains("unexpected header"));
  std::filesystem::remove(dir.path() / "ratings.csv");
  CHECK_THAT(FileErrorMessage([&] { data::LoadMlLatestSmall(dir.path(), opts, nullptr); }),
             Contains("ratings.csv") && Contains("not found"));
}

namespace {
void WriteMl100k(const TempDir& dir) {
  dir.Write("u.genre", "unknown|0\nAction|1\nComedy|2\n\n");
  dir.Write("u.item",
            "1|Toy Story (1995)|01-Jan-1995||http://x|0|0|1\n"
            "2|Mis\xE9rables, Les (1995)|01-Jan-1995||http://y|0|1|1\n"
            "3|Nothing (1990)|01-Jan-1990||http://z|1|0|0\n");
  dir.Write("u.occupation", "artist\nwriter\nother\n");
  dir.Write("u.user", "1|24|M|writer|85711\n2|53|F|other|94043\n3|17|F|artist|1\n");
  dir.Write("u.data", "2\t3\t4\t881250949\n1\t1\t5\t881250950\n2\t2\t1\t881250951\n");
}
}  // namespace

TEST_CASE("ml-100k fixture: latin-1 titles, genre flags, user features", "[loaders]") {
  TempDir dir;
  WriteMl100k(dir);
  const data::Dataset ds = data::LoadMl100k(dir.path(), {}, nullptr);
  REQUIRE(ds.items.size() == 3);
  CHECK(ds.items.titles[1] == "Mis\xC3\xA9rables, Les (1995)");
  CHECK(ds.items.categories[0] == std::vector<std::string>{"Comedy"});
  CHECK(ds.items.categories[1] == std::vector<std::string>{"Action", "Comedy"});
  CHECK(ds.items.categories[2] == std::vector<std::string>{"unknown"});
  REQUIRE(ds.users.size() == 3);
  CHECK(ds.users.external_ids == std::vector<std::string>{"1", "2", "3"});
  // 7 age buckets + 2 genders + 3 occupations.
  REQUIRE(ds.users.feature_dim == 12);
  CHECK(ds.users.feature_names[1] == "age:18-24");
  CHECK(ds.users.feature_names[7] == "gender:M");
  CHECK(ds.users.feature_names[10] == "occupation:writer");
  const auto row = [&](int u) {
    return std::vector<float>(ds.users.features.begin() + u * 12,
                              ds.users.features.begin() + (u + 1) * 12);
  };
  CHECK(row(0) == std::vector<float>{0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 1, 0});
  CHECK(row(1) == std::vector<float>{0, 0, 0, 0, 0, 1, 0, 0, 1, 0, 0, 1});
  CHECK(row(2) == std::vector<float>{1, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0});
  REQUIRE(ds.interactions.size() == 3);
  CHECK(ds.interactions[0].user == 1);
  CHECK(ds.interactions[0].item == 2);
  CHECK(ds.interactions[0].value == 4.0f);
  CHECK(ds.interactions[1].timestamp == 881250950.0);
}

TEST_CASE("ml-100k: bad lines name file, line and value", "[loaders]") {
  TempDir dir;
  WriteMl100k(dir);
  dir.Write("u.data", "2\t3\t4\t881250949\n1\t1\t5\n9\t1\t5\t1\n1\t1\t5\t1.5x\n");
  CHECK_THAT(FileErrorMessage([&] { data::LoadMl100k(dir.path(), {}, nullptr); }),
             Contains("u.data:2") && Contains("expected 4 fields"));
  data::LoadOptions opts;
  opts.skip_bad_lines = true;
  data::LoadReport report;
  const data::Dataset ds = data::LoadMl100k(dir.path(), opts, &report);
  CHECK(ds.interactions.size() == 1);
  CHECK(report.skipped_lines == 3);
  CHECK_THAT(report.skipped_examples[1], Contains("u.data:3") && Contains("'9'"));
  CHECK_THAT(report.skipped_examples[2], Contains("u.data:4") && Contains("'1.5x'"));
  dir.Write("u.user", "1|24|M|wrtier|85711\n");
  CHECK_THAT(FileErrorMessage([&] { data::LoadMl100k(dir.path(), {}, nullptr); }),
             Contains("u.user:1") && Contains("'wrtier'") && Contains("writer"));
}

// ---------------------------------------------------------------- coat

namespace {
void WriteCoat(const TempDir& dir) {
  // 3 users x 4 items, CRLF like the real files.
  dir.Write("train.ascii", "0 5 0 1 \r\n0 0 0 0 \r\n2 0 3 0 \r\n");
  dir.Write("test.ascii", "4 0 0 0 \r\n0 1 0 2 \r\n0 0 0 5 \r\n");
  dir.Write("user_item_features/user_features.ascii", "1 0\r\n0 1\r\n0 1\r\n");
  dir.Write("user_item_features/user_features_map.txt", "gender:men\ngender:women");
  dir.Write("user_item_features/item_features.ascii", "1 0 1\r\n0 1 1\r\n1 0 0\r\n0 1 0\r\n");
  dir.Write("user_item_features/item_features_map.txt", "gender:men\ngender:women\ncolor:red");
}
}  // namespace

TEST_CASE("coat fixture: parts, pseudo-timestamps, features and categories", "[loaders]") {
  TempDir dir;
  WriteCoat(dir);
  const data::Dataset ds = data::LoadCoat(dir.path(), {}, nullptr);
  CHECK(ds.parts == std::vector<std::string>{"train", "test"});
  CHECK(ds.users.size() == 3);
  CHECK(ds.items.size() == 4);
  CHECK(data::CountByPart(ds) == std::vector<int64_t>{4, 4});
  REQUIRE(ds.interactions.size() == 8);
  const auto& a = ds.interactions[0];
  CHECK((a.user == 0 && a.item == 1 && a.value == 5.0f && a.timestamp == 0 && a.part == 0));
  const auto& b = ds.interactions[3];
  CHECK((b.user == 2 && b.item == 2 && b.value == 3.0f));
  const auto& c = ds.interactions[4];
  CHECK((c.user == 0 && c.item == 0 && c.value == 4.0f && c.timestamp == 1 && c.part == 1));
  CHECK(ds.users.feature_dim == 2);
  CHECK(ds.users.features == std::vector<float>{1, 0, 0, 1, 0, 1});
  CHECK(ds.items.feature_dim == 3);
  CHECK(ds.items.feature_names[2] == "color:red");
  CHECK(ds.items.categories[0] == std::vector<std::string>{"gender:men", "color:red"});
  CHECK(ds.items.categories[3] == std::vector<std::string>{"gender:women"});
}

TEST_CASE("coat: ragged rows, bad numbers and shape mismatches are errors", "[loaders]") {
  TempDir dir;
  WriteCoat(dir);
  dir.Write("test.ascii", "4 0 0 0\r\n0 1 0\r\n0 0 0 5\r\n");
  CHECK_THAT(FileErrorMessage([&] { data::LoadCoat(dir.path(), {}, nullptr); }),
             Contains("test.ascii:2") && Contains("expected 4 columns"));
  dir.Write("test.ascii", "4 0 0 0\r\n0 1 0 x\r\n0 0 0 5\r\n");
  CHECK_THAT(FileErrorMessage([&] { data::LoadCoat(dir.path(), {}, nullptr); }),
             Contains("test.ascii:2") && Contains("'x'"));
  dir.Write("test.ascii", "4 0 0 0\r\n0 1 0 0\r\n");
  CHECK_THAT(FileErrorMessage([&] { data::LoadCoat(dir.path(), {}, nullptr); }),
             Contains("2 x 4, expected 3 x 4"));
  dir.Write("test.ascii", "4 0 0 0\r\n0 1 0 9\r\n0 0 0 5\r\n");
  CHECK_THAT(FileErrorMessage([&] { data::LoadCoat(dir.path(), {}, nullptr); }),
             Contains("test.ascii:2") && Contains("rating 9"));
  data::LoadOptions opts;
  opts.skip_bad_lines = true;
  data::LoadReport report;
  CHECK(data::LoadCoat(dir.path(), opts, &report).interactions.size() == 4 + 3);
  CHECK(report.skipped_lines == 1);
  WriteCoat(dir);
  dir.Write("user_item_features/item_features_map.txt", "gender:men\ngender:women");
  CHECK_THAT(FileErrorMessage([&] { data::LoadCoat(dir.path(), {}, nullptr); }),
             Contains("item_features.ascii") && Contains("4 x 3, expected 4 x 2"));
}

// ---------------------------------------------------------------- rc15

TEST_CASE("rc15 fixture: sessions are users, parts train/test, float times", "[loaders]") {
  TempDir dir;
  dir.Write("yoochoose-clicks-100k_train_full.txt",
            "SessionId\tItemId\tTime\n3\t214716935\t1396437466.94\n3\t214832672\t1396438212.318\n"
            "6\t214716935\t1396796300.848\n");
  dir.Write("yoochoose-clicks-100k_test.txt",
            "SessionId\tItemId\tTime\n1\t214536502\t1396860669.277\n");
  const data::Dataset ds = data::LoadRc15(dir.path(), {}, nullptr);
  CHECK(ds.value_kind == data::ValueKind::kClick);
  CHECK(data::CountByPart(ds) == std::vector<int64_t>{3, 1});
  CHECK(ds.users.external_ids == std::vector<std::string>{"3", "6", "1"});
  CHECK(ds.items.external_ids == std::vector<std::string>{"214716935", "214832672", "214536502"});
  CHECK(ds.interactions[1].session == 3);
  CHECK(ds.interactions[1].timestamp == Approx(1396438212.318));
  CHECK(ds.interactions[2].item == 0);
  CHECK(ds.interactions[3].session == 1);
  CHECK(ds.interactions[3].part == 1);

  dir.Write("yoochoose-clicks-100k_test.txt",
            "SessionId\tItemId\tTime\n1\t214536502\t1396860669.277\n1\t2145x\t1\n");
  CHECK_THAT(FileErrorMessage([&] { data::LoadRc15(dir.path(), {}, nullptr); }),
             Contains("yoochoose-clicks-100k_test.txt:3") && Contains("'2145x'"));
  dir.Write("yoochoose-clicks-100k_test.txt", "Session\tItem\tTime\n1\t2\t3\n");
  CHECK_THAT(FileErrorMessage([&] { data::LoadRc15(dir.path(), {}, nullptr); }),
             Contains("header"));
}

// ---------------------------------------------------------------- amazon

TEST_CASE("Python literal list parsers are strict", "[loaders][amazon]") {
  CHECK(data::ParsePythonIntList("[3466, 2697]") == std::vector<int64_t>{3466, 2697});
  CHECK(data::ParsePythonIntList("[7]") == std::vector<int64_t>{7});
  CHECK(data::ParsePythonIntList(" [ ] ") == std::vector<int64_t>{});
  CHECK_FALSE(data::ParsePythonIntList("[1, 2,]"));
  CHECK_FALSE(data::ParsePythonIntList("[1 2]"));
  CHECK_FALSE(data::ParsePythonIntList("[1.5]"));
  CHECK_FALSE(data::ParsePythonIntList("['1']"));
  CHECK_FALSE(data::ParsePythonIntList("[1, 2] x"));
  CHECK_FALSE(data::ParsePythonIntList("1, 2"));
  CHECK_FALSE(data::ParsePythonIntList("[1, [2]]"));
  CHECK(data::ParsePythonStringList("['a, b', \"it's\", 'x\\'y']") ==
        std::vector<std::string>{"a, b", "it's", "x'y"});
  CHECK_FALSE(data::ParsePythonStringList("['open]"));
  CHECK_FALSE(data::ParsePythonStringList("plain text"));
}

namespace {
void WriteAmazon(const TempDir& dir) {
  dir.Write("index/Cat.item.json", R"({
  "1": {"title": "Glue, strong", "description": "['Sticks.', 'Fast.']", "brand": "Loctite", "categories": ""},
  "0": {"title": "", "description": "", "brand": "", "categories": ""},
  "2": {"title": "Tape", "description": "plain", "brand": "Scotch", "categories": ""}
})");
  dir.Write("info/Cat_5.txt", "<a_1>\tRelay kit\t0\n<a_2>\tGlue, strong\t1\n");
  dir.Write("valid/Cat_5.csv",
            "user_id,history_item_title,item_title,history_item_id,item_id\n"
            "A1,\"['Relay kit']\",\"Glue, strong\",[0],1\n"
            "A2,\"['Relay kit', 'Glue,\nstrong']\",Tape,\"[0, 1]\",2\n");
  dir.Write("test/Cat_5.csv",
            "user_id,history_item_title,item_title,history_item_id,item_id\n"
            "A1,\"['Relay kit', 'Glue']\",Tape,\"[0, 1]\",2\n");
}
}  // namespace

TEST_CASE("amazon fixture: numeric catalog order, row sequences, multi-line quoted fields",
          "[loaders][amazon]") {
  TempDir dir;
  WriteAmazon(dir);
  data::LoadReport report;
  const data::Dataset ds = data::LoadAmazon(dir.path(), {}, &report);
  CHECK(report.files_read.size() == 4);
  REQUIRE(ds.items.size() == 3);
  CHECK(ds.items.external_ids == std::vector<std::string>{"0", "1", "2"});
  CHECK(ds.items.titles[0] == "Relay kit");  // filled from info/
  CHECK(ds.items.titles[1] == "Glue, strong");
  CHECK(ds.items.texts[1] == "Sticks.\nFast.");
  CHECK(ds.items.texts[2] == "plain");
  CHECK(ds.items.categories[2] == std::vector<std::string>{"Scotch"});
  CHECK(ds.parts == std::vector<std::string>{"valid", "test"});
  CHECK(data::CountByPart(ds) == std::vector<int64_t>{5, 3});
  CHECK(ds.users.external_ids == std::vector<std::string>{"A1", "A2"});
  CHECK(ItemsOf(ds, 0) == std::vector<data::ItemId>{0, 1});
  CHECK(ItemsOf(ds, 1) == std::vector<data::ItemId>{0, 1, 2});
  CHECK(ItemsOf(ds, 2) == std::vector<data::ItemId>{0, 1, 2});
  const auto& last = ds.interactions.back();
  CHECK((last.user == 0 && last.session == 2 && last.timestamp == 2 && last.part == 1));
}

TEST_CASE("amazon: bad lists, unknown items and ambiguous folders are errors",
          "[loaders][amazon]") {
  TempDir dir;
  WriteAmazon(dir);
  dir.Write("test/Cat_5.csv",
            "user_id,history_item_title,item_title,history_item_id,item_id\n"
            "A1,x,y,\"[0, 'a']\",2\n"
            "A1,x,y,[0],9\n"
            "A3,x,y,[2],0\n");
  CHECK_THAT(FileErrorMessage([&] { data::LoadAmazon(dir.path(), {}, nullptr); }),
             Contains("Cat_5.csv:2") && Contains("[0, 'a']"));
  data::LoadOptions opts;
  opts.skip_bad_lines = true;
  data::LoadReport report;
  const data::Dataset ds = data::LoadAmazon(dir.path(), opts, &report);
  CHECK(report.skipped_lines == 2);
  CHECK_THAT(report.skipped_examples[1], Contains("Cat_5.csv:3") && Contains("item id 9"));
  CHECK(data::CountByPart(ds) == std::vector<int64_t>{5, 2});
  CHECK(ItemsOf(ds, 2) == std::vector<data::ItemId>{2, 0});

  dir.Write("test/Other.csv", "user_id\n");
  CHECK_THAT(FileErrorMessage([&] { data::LoadAmazon(dir.path(), {}, nullptr); }),
             Contains("more than one file") && Contains("Other.csv"));
  std::filesystem::remove(dir.path() / "test/Other.csv");
  dir.Write("test/Cat_5.csv", "user,history_item_id,item_id\nA1,[0],1\n");
  CHECK_THAT(FileErrorMessage([&] { data::LoadAmazon(dir.path(), {}, nullptr); }),
             Contains("no column 'user_id'") && Contains("user,history_item_id,item_id"));
  dir.Write("index/Cat.item.json", "{\"0\": {\"title\": \"a\"},\n \"x\": {}}");
  CHECK_THAT(FileErrorMessage([&] { data::LoadAmazon(dir.path(), {}, nullptr); }), Contains("'x'"));
  dir.Write("index/Cat.item.json", "{\"0\": {\"title\": \"a\"},\n oops}");
  CHECK_THAT(FileErrorMessage([&] { data::LoadAmazon(dir.path(), {}, nullptr); }),
             Contains("Cat.item.json:2") && Contains("invalid JSON"));
  // A title nested a million levels deep (once a stack overflow while the error was built).
  dir.Write("index/Cat.item.json",
            "{\"0\": {\"title\": \"a\"},\n \"1\": {\"title\": " + std::string(1000000, '[') +
                std::string(1000000, ']') + "}}");
  CHECK_THAT(FileErrorMessage([&] { data::LoadAmazon(dir.path(), {}, nullptr); }),
             Contains("Cat.item.json:2") && Contains("nested deeper than 64"));
}

// ---------------------------------------------------------------- lastfm

namespace {
void WriteLastfm(const TempDir& dir) {
  dir.Write("artists.dat",
            "id\tname\turl\tpictureURL\n1\tMALICE MIZER\thttp://a\thttp://b\n"
            "2\tR\xC3\xB6yksopp\thttp://c\t\n");
  dir.Write("tags.dat",
            "tagID\ttagValue\n1\tmetal\n2\tfu\xDF"
            "ball\n3\tjazz\n");
  dir.Write("user_artists.dat", "userID\tartistID\tweight\n5\t1\t100\n7\t2\t3\n");
  dir.Write("user_taggedartists.dat",
            "userID\tartistID\ttagID\tday\tmonth\tyear\n"
            "7\t2\t2\t1\t4\t2009\n"
            "7\t2\t3\t1\t4\t2009\n"  // same (user, artist, date): no new interaction
            "5\t2\t3\t1\t5\t2009\n"
            "5\t9\t1\t1\t1\t1970\n"  // artist 9 is not in artists.dat
            "7\t1\t1\t29\t2\t2008\n");
}
}  // namespace

TEST_CASE("lastfm fixture: dated tag events, plays part, top tags, unknown artists",
          "[loaders][lastfm]") {
  TempDir dir;
  WriteLastfm(dir);
  data::LoadReport report;
  const data::Dataset ds = data::LoadLastfm(dir.path(), {}, &report);
  CHECK(ds.parts == std::vector<std::string>{"tags", "plays"});
  CHECK(data::CountByPart(ds) == std::vector<int64_t>{4, 2});
  CHECK(ds.items.external_ids == std::vector<std::string>{"1", "2", "9"});
  CHECK(ds.items.titles[1] == "R\xC3\xB6yksopp");
  CHECK(ds.items.titles[2].empty());
  REQUIRE(report.notes.size() == 1);
  CHECK_THAT(report.notes[0], Contains("1 artists"));
  CHECK(ds.users.external_ids == std::vector<std::string>{"5", "7"});
  const auto& first = ds.interactions[0];
  CHECK((first.user == 1 && first.item == 1 && first.value == 1.0f && first.part == 0));
  CHECK(first.timestamp == 1238544000.0);  // 2009-04-01 00:00 UTC
  CHECK(ds.interactions[2].timestamp == 0.0);
  CHECK(ds.interactions[3].timestamp == double(data::DaysFromCivil(2008, 2, 29)) * 86400);
  const auto& play = ds.interactions[4];
  CHECK((play.user == 0 && play.item == 0 && play.value == 100.0f && play.part == 1));
  // Artist 2: jazz twice (id 3), fußball once (Latin-1 converted).
  CHECK(ds.items.categories[1] == std::vector<std::string>{"jazz",
                                                           "fu\xC3\x9F"
                                                           "ball"});
  CHECK(ds.items.categories[0] == std::vector<std::string>{"metal"});
}

TEST_CASE("lastfm: bad dates and unknown tags are errors", "[loaders][lastfm]") {
  TempDir dir;
  WriteLastfm(dir);
  dir.Write(
      "user_taggedartists.dat",
      "userID\tartistID\ttagID\tday\tmonth\tyear\n7\t2\t2\t31\t4\t2009\n7\t2\t77\t1\t4\t2009\n"
      "7\t2\t2\t1\t4\t2009\n");
  CHECK_THAT(FileErrorMessage([&] { data::LoadLastfm(dir.path(), {}, nullptr); }),
             Contains("user_taggedartists.dat:2") && Contains("bad date") && Contains("'31'"));
  data::LoadOptions opts;
  opts.skip_bad_lines = true;
  data::LoadReport report;
  const data::Dataset ds = data::LoadLastfm(dir.path(), opts, &report);
  CHECK(report.skipped_lines == 2);
  CHECK_THAT(report.skipped_examples[1], Contains(":3") && Contains("'77'"));
  CHECK(data::CountByPart(ds) == std::vector<int64_t>{1, 2});
  dir.Write("artists.dat", "id\tname\turl\tpictureURL\n1\tBj\xF6rk\thttp://a\t\n");
  CHECK_THAT(FileErrorMessage([&] { data::LoadLastfm(dir.path(), {}, nullptr); }),
             Contains("artists.dat:2") && Contains("invalid UTF-8") && Contains("0xF6"));
}

// ---------------------------------------------------------------- generic csv

TEST_CASE("generic csv: header columns, value map, sessions, iso8601", "[loaders][csv]") {
  TempDir dir;
  dir.Write("log.tsv",
            "ts\tuser\titem\tevent\tsess\n"
            "2020-01-02T00:00:01Z\tu1\ti9\tclick\ts1\n"
            "2020-01-02 00:00:05+01:00\tu2\ti9\tbuy\ts2\n"
            "2020-01-03\tu1\ti3\tclick\ts1\n");
  data::LoadOptions opts;
  opts.csv.file = "log.tsv";
  opts.csv.separator = "tab";
  opts.csv.user_column = "user";
  opts.csv.item_column = "item";
  opts.csv.time_column = "ts";
  opts.csv.time_format = "iso8601";
  opts.csv.value_column = "event";
  opts.csv.value_map = {"click=1", "buy=5"};
  opts.csv.session_column = "sess";
  opts.csv.value_kind = data::ValueKind::kClick;
  const data::Dataset ds = data::LoadGenericCsv(dir.path(), opts, nullptr);
  CHECK(ds.value_kind == data::ValueKind::kClick);
  CHECK(ds.users.external_ids == std::vector<std::string>{"u1", "u2"});
  CHECK(ds.items.external_ids == std::vector<std::string>{"i9", "i3"});
  REQUIRE(ds.interactions.size() == 3);
  CHECK(ds.interactions[0].timestamp == 1577923201.0);
  CHECK(ds.interactions[1].timestamp == 1577923205.0 - 3600);
  CHECK(ds.interactions[2].timestamp == 1578009600.0);
  CHECK(ds.interactions[1].value == 5.0f);
  CHECK(ds.interactions[2].session == 0);
  CHECK(ds.interactions[1].session == 1);

  dir.Write("log.tsv", "ts\tuser\titem\tevent\tsess\n2020-01-02\tu1\ti9\tview\ts1\n");
  CHECK_THAT(FileErrorMessage([&] { data::LoadGenericCsv(dir.path(), opts, nullptr); }),
             Contains("log.tsv:2") && Contains("'view'") && Contains("click, buy"));
  dir.Write("log.tsv", "ts\tuser\titem\tevent\tsess\n2020-13-02\tu1\ti9\tbuy\ts1\n");
  CHECK_THAT(FileErrorMessage([&] { data::LoadGenericCsv(dir.path(), opts, nullptr); }),
             Contains("log.tsv:2") && Contains("'2020-13-02'"));
}

TEST_CASE("generic csv: unknown column names the file, column, closest match and columns",
          "[loaders][csv]") {
  TempDir dir;
  dir.Write("interactions.csv", "user_id,itemid,timestamp\n1,2,3\n");
  const std::string msg = FileErrorMessage([&] { data::LoadGenericCsv(dir.path(), {}, nullptr); });
  CHECK_THAT(msg, Contains("interactions.csv") && Contains("'item_id'") &&
                      Contains("did you mean 'itemid'") && Contains("user_id, itemid, timestamp"));
}

TEST_CASE("generic csv: no header, indices, whitespace, line order, unix_ms, bad lines",
          "[loaders][csv]") {
  TempDir dir;
  const auto file = dir.Write("data.txt", "10  20 4.5 1500\n11 20 3 2500\n  \n10 21 x 1\n");
  data::LoadOptions opts;
  opts.csv.separator = "whitespace";
  opts.csv.header = false;
  opts.csv.user_column = "0";
  opts.csv.item_column = "1";
  opts.csv.value_column = "2";
  opts.csv.time_column = "3";
  opts.csv.time_format = "unix_ms";
  CHECK_THAT(FileErrorMessage([&] { data::LoadGenericCsv(file, opts, nullptr); }),
             Contains("data.txt:4") && Contains("'x'"));
  opts.skip_bad_lines = true;
  data::LoadReport report;
  data::Dataset ds = data::LoadGenericCsv(file, opts, &report);
  CHECK(report.skipped_lines == 1);
  REQUIRE(ds.interactions.size() == 2);
  CHECK(ds.interactions[0].timestamp == 1.5);
  CHECK(ds.interactions[1].value == 3.0f);
  CHECK(ds.interactions[1].session == -1);

  opts.csv.time_column = "";
  opts.csv.value_column = "";
  ds = data::LoadGenericCsv(file, opts, nullptr);
  REQUIRE(ds.interactions.size() == 3);
  CHECK(ds.interactions[2].timestamp == 2.0);
  CHECK(ds.interactions[2].value == 1.0f);

  const auto short_file = dir.Write("short.csv", "1,2\n3\n");
  data::LoadOptions o2;
  o2.csv.header = false;
  o2.csv.user_column = "0";
  o2.csv.item_column = "1";
  o2.csv.time_column = "";
  CHECK_THAT(FileErrorMessage([&] { data::LoadGenericCsv(short_file, o2, nullptr); }),
             Contains("short.csv:2") && Contains("at least 2 fields"));
}

TEST_CASE("CsvFormatConfig validation and ValueKind names", "[loaders][csv]") {
  data::CsvFormatConfig c;
  CHECK_NOTHROW(c.Validate());
  c.separator = "::";
  CHECK_THROWS_AS(c.Validate(), recarena::ConfigError);
  c = {};
  c.header = false;
  CHECK_THROWS_WITH(c.Validate(), Contains("0-based column index"));
  c = {};
  c.time_format = "unixms";
  CHECK_THROWS_WITH(c.Validate(), Contains("did you mean 'unix_ms'"));
  c = {};
  c.value_column = "v";
  c.value_map = {"buy"};
  CHECK_THROWS_WITH(c.Validate(), Contains("name=number"));
  c.value_map = {"buy=x"};
  CHECK_THROWS_WITH(c.Validate(), Contains("'x'"));
  CHECK(recarena::config::EnumToString(data::ValueKind::kCount) == "count");
  CHECK(recarena::config::ParseEnum<data::ValueKind>("rating", "k") == data::ValueKind::kRating);
  CHECK(data::ParseIso8601("1970-01-01T00:00:00.25Z") == 0.25);
  CHECK_FALSE(data::ParseIso8601("2020-01-01T25:00"));
  CHECK_FALSE(data::ParseIso8601("2020-01-01x"));
}

// ---------------------------------------------------------------- registry

TEST_CASE("dataset registry: names, folders, dispatch and errors", "[loaders][registry]") {
  const auto& reg = data::DatasetRegistry();
  REQUIRE(reg.size() == 8);
  for (size_t i = 0; i < reg.size(); ++i) {
    INFO("row " << i << " " << reg[i].name);
    CHECK(static_cast<size_t>(reg[i].kind) == i);  // enum order, one row per kind
    CHECK(data::ParseDatasetKind(reg[i].name) == reg[i].kind);
    CHECK((reg[i].load == nullptr) == (reg[i].kind == data::DatasetKind::kSynthetic));
  }
  CHECK(data::ParseDatasetKind("lastfm-2k") == data::DatasetKind::kLastfm);
  CHECK(data::ParseDatasetKind("ml-100k") == data::DatasetKind::kMl100k);
  CHECK_THROWS_WITH(data::ParseDatasetKind("ml-lates-small"),
                    Contains("did you mean 'ml-latest-small'") && Contains("coat|rc15"));
  CHECK(data::DefaultDataFolder(data::DatasetKind::kRc15) == "rc15-sample");
  CHECK(data::DefaultDataFolder(data::DatasetKind::kAmazon) == "amazon-industrial");
  CHECK(data::DefaultDataFolder(data::DatasetKind::kCsv).empty());
  CHECK_THROWS_WITH(data::LoadDataset(data::DatasetKind::kSynthetic, "x", {}, nullptr),
                    Contains("synthetic_world.h"));
  TempDir dir;
  CHECK_THAT(FileErrorMessage([&] {
               data::LoadDataset(data::DatasetKind::kCoat, dir.path() / "missing", {}, nullptr);
             }),
             Contains("missing") && Contains("not found"));
  WriteCoat(dir);
  CHECK(data::LoadDataset(data::DatasetKind::kCoat, dir.path(), {}, nullptr).interactions.size() ==
        8);
}

// ---------------------------------------------------------------- real data
