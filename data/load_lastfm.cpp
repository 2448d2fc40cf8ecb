#include "data/load_lastfm.h"

#include <fmt/format.h>

#include <algorithm>
#include <unordered_map>
#include <unordered_set>

#include "core/strings.h"
#include "data/text_reader.h"

namespace recarena::data {

namespace fs = std::filesystem;

namespace {

// Opens a .dat file and checks its header line.
void OpenWithHeader(LineReader& in, const std::vector<std::string_view>& header,
                    LoadReport* report) {
  NoteFileRead(in.file_name(), report);
  std::string text;
  if (!in.Next(text) || SplitChar(text, '\t') != header) {
    std::vector<std::string> names(header.begin(), header.end());
    throw FileError(in.file_name(), 1,
                    "expected the header " + QuoteForError(Join(names, "<TAB>")) + ", found " +
                        QuoteForError(text));
  }
}

struct TagEventKey {
  UserId user;
  ItemId item;
  int64_t day;
  bool operator==(const TagEventKey& o) const {
    return user == o.user && item == o.item && day == o.day;
  }
};
struct TagEventHash {
  size_t operator()(const TagEventKey& k) const {
    uint64_t h = static_cast<uint32_t>(k.user);
    h = h * 0x9E3779B97F4A7C15ULL + static_cast<uint32_t>(k.item);
    h = h * 0x9E3779B97F4A7C15ULL + static_cast<uint64_t>(k.day);
    return static_cast<size_t>(h ^ (h >> 29));
  }
};

}  // namespace

Dataset LoadLastfm(const fs::path& dir, const LoadOptions& opts, LoadReport* report) {
  Dataset ds;
  ds.name = "lastfm-2k";
  ds.value_kind = ValueKind::kCount;
  ds.parts = {"tags", "plays"};
  std::string text;

  {
    LineReader in(dir / "artists.dat", TextEncoding::kUtf8);
    OpenWithHeader(in, {"id", "name", "url", "pictureURL"}, report);
    ForEachRecord(
        opts, report, [&] { return in.Next(text); },
        [&] {
          if (text.empty()) return;
          const auto f = SplitChar(text, '\t');
          RequireFieldCount(f.size(), 4, text, in.file_name(), in.line_number());
          const std::string id =
              std::to_string(ParseInt64(f[0], in.file_name(), in.line_number(), "artist id"));
          if (ds.items.Find(id) >= 0) {
            throw FileError(in.file_name(), in.line_number(),
                            "duplicate artist id " + QuoteForError(f[0]));
          }
          const ItemId item = ds.items.Intern(id);
          ds.items.Normalize();
          ds.items.titles[item] = std::string(f[1]);
        });
  }
  const int32_t catalog_size = ds.items.size();
  if (catalog_size == 0) throw FileError((dir / "artists.dat").string(), 0, "no artists");

  std::unordered_map<int64_t, std::string> tag_names;
  {
    LineReader in(dir / "tags.dat", TextEncoding::kUtf8OrLatin1);
    OpenWithHeader(in, {"tagID", "tagValue"}, report);
    ForEachRecord(
        opts, report, [&] { return in.Next(text); },
        [&] {
          if (text.empty()) return;
          const auto f = SplitChar(text, '\t');
          RequireFieldCount(f.size(), 2, text, in.file_name(), in.line_number());
          const int64_t id = ParseInt64(f[0], in.file_name(), in.line_number(), "tag id");
          if (!tag_names.emplace(id, std::string(f[1])).second) {
            throw FileError(in.file_name(), in.line_number(),
                            "duplicate tag id " + QuoteForError(f[0]));
          }
        });
  }

  std::vector<Interaction> plays;
  {
    LineReader in(dir / "user_artists.dat");
    OpenWithHeader(in, {"userID", "artistID", "weight"}, report);
    ForEachRecord(
        opts, report, [&] { return in.Next(text); },
        [&] {
          if (text.empty()) return;
          const std::string& file = in.file_name();
          const int64_t line = in.line_number();
          const auto f = SplitChar(text, '\t');
          RequireFieldCount(f.size(), 3, text, file, line);
          const std::string user = std::to_string(ParseInt64(f[0], file, line, "userID"));
          const int64_t artist_id = ParseInt64(f[1], file, line, "artistID");
          const int64_t weight = ParseInt64(f[2], file, line, "weight");
          if (weight < 0) throw FileError(file, line, "negative weight " + QuoteForError(f[2]));
          Interaction x;
          x.user = ds.users.Intern(user);
          x.item = ds.items.Intern(std::to_string(artist_id));
          x.value = static_cast<float>(weight);
          x.timestamp = 0;
          x.part = 1;
          plays.push_back(x);
        });
    if (plays.empty()) throw FileError(in.file_name(), 0, "no user-artist pairs");
  }

  std::unordered_set<TagEventKey, TagEventHash> seen;
  std::unordered_map<ItemId, std::unordered_map<int64_t, int64_t>> tag_counts;
  {
    LineReader in(dir / "user_taggedartists.dat");
    OpenWithHeader(in, {"userID", "artistID", "tagID", "day", "month", "year"}, report);
    ForEachRecord(
        opts, report, [&] { return in.Next(text); },
        [&] {
          if (text.empty()) return;
          const std::string& file = in.file_name();
          const int64_t line = in.line_number();
          const auto f = SplitChar(text, '\t');
          RequireFieldCount(f.size(), 6, text, file, line);
          const std::string user = std::to_string(ParseInt64(f[0], file, line, "userID"));
          const int64_t artist_id = ParseInt64(f[1], file, line, "artistID");
          const int64_t tag = ParseInt64(f[2], file, line, "tagID");
          const int64_t day = ParseInt64(f[3], file, line, "day");
          const int64_t month = ParseInt64(f[4], file, line, "month");
          const int64_t year = ParseInt64(f[5], file, line, "year");
          if (year < 1000 || year > 9999 ||
              !IsValidDate(year, static_cast<int>(month), static_cast<int>(day))) {
            throw FileError(file, line,
                            fmt::format("bad date: day {} month {} year {}", QuoteForError(f[3]),
                                        QuoteForError(f[4]), QuoteForError(f[5])));
          }
          if (tag_names.count(tag) == 0) {
            throw FileError(file, line, "tagID " + QuoteForError(f[2]) + " is not in tags.dat");
          }
          const UserId u = ds.users.Intern(user);
          const ItemId item = ds.items.Intern(std::to_string(artist_id));
          ++tag_counts[item][tag];
          const int64_t days = DaysFromCivil(year, static_cast<int>(month), static_cast<int>(day));
          if (seen.insert({u, item, days}).second) {
            Interaction x;
            x.user = u;
            x.item = item;
            x.timestamp = static_cast<double>(days) * 86400.0;
            x.value = 1.0f;
            x.part = 0;
            ds.interactions.push_back(x);
          }
        });
    if (ds.interactions.empty()) throw FileError(in.file_name(), 0, "no tag events");
  }
  ds.interactions.insert(ds.interactions.end(), plays.begin(), plays.end());
  ds.items.Normalize();
  if (ds.items.size() > catalog_size) {
    AddNote(fmt::format("lastfm-2k: {} artists referenced by user_artists.dat or "
                        "user_taggedartists.dat are missing from artists.dat; added with empty "
                        "titles",
                        ds.items.size() - catalog_size),
            report);
  }
  for (auto& [item, counts] : tag_counts) {
    std::vector<std::pair<int64_t, int64_t>> ranked(counts.begin(), counts.end());  // tag, count
    std::sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) {
      return a.second != b.second ? a.second > b.second : a.first < b.first;
    });
    if (ranked.size() > static_cast<size_t>(kLastfmTopTags)) ranked.resize(kLastfmTopTags);
    for (const auto& [tag, _] : ranked) ds.items.categories[item].push_back(tag_names.at(tag));
  }
  ds.CheckConsistency();
  return ds;
}

}  // namespace recarena::data
