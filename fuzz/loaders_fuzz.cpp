// libFuzzer target: every dataset loader's file parsers (data/load_*.h), including Amazon's item
// JSON. Each loader has a small valid fixture (the one of tests/data/loaders_test.cpp); the first
// input byte picks a (loader, file) pair and the rest replaces that file's content. The loader must
// return a dataset or throw recarena::Error (which names the file and line); any other exception
// or a crash is a bug. Files are written to one scratch directory per process.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "core/error.h"
#include "data/load_amazon.h"
#include "data/load_coat.h"
#include "data/load_lastfm.h"
#include "data/load_movielens.h"
#include "data/load_rc15.h"
#include "scratch_dir.h"

namespace fs = std::filesystem;
using recarena::data::LoadOptions;

namespace {

using Files = std::vector<std::pair<std::string, std::string>>;
struct Loader {
  Files files;
  std::function<void(const fs::path&)> load;
};

const std::vector<Loader>& Loaders() {
  static const std::vector<Loader> loaders = {
      {{{"movies.csv",
         "movieId,title,genres\r\n1,Toy Story (1995),Adventure|Animation\r\n"
         "11,\"American President, The (1995)\",Comedy\r\n"},
        {"ratings.csv", "userId,movieId,rating,timestamp\r\n3,11,4.5,964982703\r\n3,1,3.0,1\r\n"}},
       [](const fs::path& d) { recarena::data::LoadMlLatestSmall(d, LoadOptions{}, nullptr); }},
      {{{"u.genre", "unknown|0\nAction|1\nComedy|2\n\n"},
        {"u.item",
         "1|Toy Story (1995)|01-Jan-1995||http://x|0|0|1\n"
         "2|Mis\xE9rables, Les (1995)|01-Jan-1995||http://y|0|1|1\n"},
        {"u.occupation", "artist\nwriter\nother\n"},
        {"u.user", "1|24|M|writer|85711\n2|53|F|other|94043\n"},
        {"u.data", "2\t1\t4\t881250949\n1\t1\t5\t881250950\n"}},
       [](const fs::path& d) { recarena::data::LoadMl100k(d, LoadOptions{}, nullptr); }},
      {{{"train.ascii", "0 5 0 1 \r\n0 0 0 0 \r\n2 0 3 0 \r\n"},
        {"test.ascii", "4 0 0 0 \r\n0 1 0 2 \r\n0 0 0 5 \r\n"},
        {"user_item_features/user_features.ascii", "1 0\r\n0 1\r\n0 1\r\n"},
        {"user_item_features/user_features_map.txt", "gender:men\ngender:women"},
        {"user_item_features/item_features.ascii", "1 0 1\r\n0 1 1\r\n1 0 0\r\n0 1 0\r\n"},
        {"user_item_features/item_features_map.txt", "gender:men\ngender:women\ncolor:red"}},
       [](const fs::path& d) {
         recarena::data::LoadCoat(d, LoadOptions{}, nullptr);
         recarena::data::LoadCoatPropensities(d);
       }},
      {{{"yoochoose-clicks-100k_train_full.txt",
         "SessionId\tItemId\tTime\n3\t214716935\t1396437466.94\n3\t214832672\t1396438212.3\n"},
        {"yoochoose-clicks-100k_test.txt",
         "SessionId\tItemId\tTime\n1\t214536502\t1396860669.2\n"}},
       [](const fs::path& d) { recarena::data::LoadRc15(d, LoadOptions{}, nullptr); }},
      {{{"index/Cat.item.json",
         "{\"1\": {\"title\": \"Glue\", \"description\": \"['Sticks.']\", \"brand\": \"L\"},\n"
         " \"0\": {\"title\": \"\"}, \"2\": {\"title\": \"Tape\"}}"},
        {"info/Cat_5.txt", "<a_1>\tRelay kit\t0\n<a_2>\tGlue, strong\t1\n"},
        {"valid/Cat_5.csv",
         "user_id,history_item_title,item_title,history_item_id,item_id\n"
         "A1,\"['Relay kit']\",\"Glue, strong\",[0],1\n"},
        {"test/Cat_5.csv",
         "user_id,history_item_title,item_title,history_item_id,item_id\n"
         "A1,\"['Relay kit', 'Glue']\",Tape,\"[0, 1]\",2\n"}},
       [](const fs::path& d) { recarena::data::LoadAmazon(d, LoadOptions{}, nullptr); }},
      {{{"artists.dat", "id\tname\turl\tpictureURL\n1\tMALICE MIZER\thttp://a\thttp://b\n"},
        {"tags.dat", "tagID\ttagValue\n1\tmetal\n3\tjazz\n"},
        {"user_artists.dat", "userID\tartistID\tweight\n5\t1\t100\n"},
        {"user_taggedartists.dat",
         "userID\tartistID\ttagID\tday\tmonth\tyear\n7\t1\t3\t1\t4\t2009\n5\t1\t1\t29\t2\t2008\n"}},
       [](const fs::path& d) { recarena::data::LoadLastfm(d, LoadOptions{}, nullptr); }},
  };
  return loaders;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::vector<std::pair<size_t, size_t>> pairs;  // (loader, file)
  for (size_t l = 0; l < Loaders().size(); ++l) {
    for (size_t f = 0; f < Loaders()[l].files.size(); ++f) pairs.emplace_back(l, f);
  }
  const auto [l, f] = pairs[data[0] % pairs.size()];
  const Loader& loader = Loaders()[l];
  // One directory per (loader, file): the fixtures are written once, then only the fuzzed file
  // per input (640 executions/s against 375 when every file was rewritten, 20-30 s runs).
  const fs::path dir =
      recarena::fuzz::ScratchDir("loaders") / (std::to_string(l) + "-" + std::to_string(f));
  static std::set<std::pair<size_t, size_t>> ready;
  if (ready.insert({l, f}).second) {
    for (const auto& [name, content] : loader.files) recarena::fuzz::WriteFile(dir / name, content);
  }
  recarena::fuzz::WriteFile(dir / loader.files[f].first,
                            std::string(reinterpret_cast<const char*>(data + 1), size - 1));
  try {
    loader.load(dir);
  } catch (const recarena::Error&) {
    // a clear error: fine
  }
  return 0;
}
