// The loaders on the real datasets of ../shared/data (skipped without them, failed in CI).
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

TEST_CASE("real ml-latest-small matches the manifest", "[loaders][real]") {
  RECARENA_REQUIRE_DATASET(dir, "ml-latest-small");
  const data::Dataset ds = data::LoadDataset(data::DatasetKind::kMlLatestSmall, dir, {}, nullptr);
  CHECK(ds.interactions.size() == 100836);
  CHECK(ds.users.size() == 610);
  CHECK(ds.items.size() == 9742);
  const data::ItemId toy = ds.items.Find("1");
  REQUIRE(toy == 0);
  CHECK(ds.items.titles[toy] == "Toy Story (1995)");
  CHECK(ds.items.categories[toy].size() == 5);
  const data::ItemId pres = ds.items.Find("11");
  CHECK(ds.items.titles[pres] == "American President, The (1995)");
}

TEST_CASE("real ml-100k matches the manifest", "[loaders][real]") {
  RECARENA_REQUIRE_DATASET(dir, "ml-100k");
  const data::Dataset ds = data::LoadDataset(data::DatasetKind::kMl100k, dir, {}, nullptr);
  CHECK(ds.interactions.size() == 100000);
  CHECK(ds.users.size() == 943);
  CHECK(ds.items.size() == 1682);
  CHECK(ds.users.feature_dim == 7 + 2 + 21);
  CHECK(ds.items.titles[ds.items.Find("543")] == "Mis\xC3\xA9rables, Les (1995)");
  CHECK(ds.items.categories[0] == std::vector<std::string>{"Animation", "Children's", "Comedy"});
}

TEST_CASE("real coat matches the manifest", "[loaders][real]") {
  RECARENA_REQUIRE_DATASET(dir, "coat");
  const data::Dataset ds = data::LoadDataset(data::DatasetKind::kCoat, dir, {}, nullptr);
  CHECK(data::CountByPart(ds) == std::vector<int64_t>{6960, 4640});
  CHECK(ds.users.size() == 290);
  CHECK(ds.items.size() == 300);
  CHECK(ds.users.feature_dim == 14);
  CHECK(ds.items.feature_dim == 33);
  // Item 0's row has ones in columns 0, 2, 27 and 31 of item_features_map.txt.
  CHECK(ds.items.categories[0] == std::vector<std::string>{"gender:men", "jackettype:bomber",
                                                           "color:other", "onfrontpage:yes"});
}

TEST_CASE("real rc15 sample matches the manifest", "[loaders][real]") {
  RECARENA_REQUIRE_DATASET(dir, "rc15-sample");
  const data::Dataset ds = data::LoadDataset(data::DatasetKind::kRc15, dir, {}, nullptr);
  CHECK(data::CountByPart(ds) == std::vector<int64_t>{70278, 13568});
  CHECK(ds.items.size() == 2933);
}

TEST_CASE("real amazon-industrial matches the manifest", "[loaders][real]") {
  RECARENA_REQUIRE_DATASET(dir, "amazon-industrial");
  data::LoadReport report;
  const data::Dataset ds = data::LoadDataset(data::DatasetKind::kAmazon, dir, {}, &report);
  CHECK(ds.items.size() == 3686);
  std::set<int64_t> valid_rows, test_rows;
  for (const auto& x : ds.interactions) (x.part == 0 ? valid_rows : test_rows).insert(x.session);
  CHECK(valid_rows.size() == 4532);
  CHECK(test_rows.size() == 4533);
  CHECK(ds.users.size() == 3285);  // 713 users appear in both files
  CHECK(ds.items.titles[0] ==
        "SUPCO SPP6 Relay/Capacitor Hard Start Kit with 500% Increase Starting Torque");
  // First test row: history [3466, 2697, 3557, 2660, 2507, 2152, 3453, 1888, 2544, 3669] + 3681.
  const auto seq = ItemsOf(ds, 4532);
  REQUIRE(seq.size() == 11);
  CHECK(ds.items.external_ids[seq[0]] == "3466");
  CHECK(ds.items.external_ids[seq[10]] == "3681");
}

TEST_CASE("real lastfm-2k matches the manifest", "[loaders][real]") {
  RECARENA_REQUIRE_DATASET(dir, "lastfm-2k");
  data::LoadReport report;
  const data::Dataset ds = data::LoadDataset(data::DatasetKind::kLastfm, dir, {}, &report);
  // 186,479 tag lines collapse to 85,015 distinct (user, artist, date) events.
  CHECK(data::CountByPart(ds) == std::vector<int64_t>{85015, 92834});
  CHECK(ds.users.size() == 1892);
  CHECK(ds.items.size() == 17632 + 390);
  CHECK(ds.items.titles[ds.items.Find("64")] == "R\xC3\xB6yksopp");
  CHECK(report.notes.size() == 1);
}
