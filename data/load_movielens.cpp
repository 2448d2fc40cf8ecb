#include "data/load_movielens.h"

#include <fmt/format.h>

#include "core/strings.h"
#include "data/text_reader.h"

namespace recarena::data {

namespace fs = std::filesystem;

namespace {

// Throws unless the CSV header is exactly `expected` (names, in order).
void RequireHeader(CsvReader& reader, const std::vector<std::string>& expected) {
  std::vector<std::string> fields;
  if (!reader.Next(fields)) throw FileError(reader.file_name(), 0, "file has no header line");
  for (auto& f : fields) f = std::string(Trim(f));
  if (fields != expected) {
    throw FileError(reader.file_name(), reader.line_number(),
                    "unexpected header " + QuoteForError(Join(fields, ",")) + ", expected " +
                        QuoteForError(Join(expected, ",")));
  }
}

std::string IdString(std::string_view s, const std::string& file, int64_t line,
                     std::string_view what) {
  return std::to_string(ParseInt64(s, file, line, what));
}

}  // namespace

Dataset LoadMlLatestSmall(const fs::path& dir, const LoadOptions& opts, LoadReport* report) {
  Dataset ds;
  ds.name = "ml-latest-small";
  ds.value_kind = ValueKind::kRating;
  std::vector<std::string> fields;

  {
    CsvReader movies(dir / "movies.csv", ',');
    NoteFileRead(movies.file_name(), report);
    RequireHeader(movies, {"movieId", "title", "genres"});
    ForEachRecord(
        opts, report, [&] { return movies.Next(fields); },
        [&] {
          const std::string& file = movies.file_name();
          const int64_t line = movies.line_number();
          RequireFieldCount(fields.size(), 3, Join(fields, ","), file, line);
          const std::string id = IdString(fields[0], file, line, "movieId");
          if (ds.items.Find(id) >= 0) {
            throw FileError(file, line, "duplicate movieId " + QuoteForError(fields[0]));
          }
          const ItemId item = ds.items.Intern(id);
          ds.items.Normalize();
          ds.items.titles[item] = std::string(Trim(fields[1]));
          if (fields[2] != "(no genres listed)" && !fields[2].empty()) {
            for (const auto& g : SplitChar(fields[2], '|')) {
              if (!g.empty()) ds.items.categories[item].emplace_back(g);
            }
          }
        });
  }
  if (ds.items.size() == 0) throw FileError((dir / "movies.csv").string(), 0, "no movies");

  CsvReader ratings(dir / "ratings.csv", ',');
  NoteFileRead(ratings.file_name(), report);
  RequireHeader(ratings, {"userId", "movieId", "rating", "timestamp"});
  ForEachRecord(
      opts, report, [&] { return ratings.Next(fields); },
      [&] {
        const std::string& file = ratings.file_name();
        const int64_t line = ratings.line_number();
        RequireFieldCount(fields.size(), 4, Join(fields, ","), file, line);
        const std::string user = IdString(fields[0], file, line, "userId");
        const std::string movie = IdString(fields[1], file, line, "movieId");
        Interaction x;
        x.item = ds.items.Find(movie);
        if (x.item < 0) {
          throw FileError(file, line,
                          "movieId " + QuoteForError(fields[1]) + " is not in movies.csv");
        }
        x.value = ParseFloat(fields[2], file, line, "rating");
        x.timestamp = static_cast<double>(ParseInt64(fields[3], file, line, "timestamp"));
        x.user = ds.users.Intern(user);
        ds.interactions.push_back(x);
      });
  if (ds.interactions.empty()) throw FileError(ratings.file_name(), 0, "no ratings");
  ds.items.Normalize();
  ds.CheckConsistency();
  return ds;
}

namespace {

// Age bucket index (MovieLens-1M buckets).
const std::vector<std::string> kAgeBuckets = {"under 18", "18-24", "25-34", "35-44",
                                              "45-49",    "50-55", "56+"};
int AgeBucket(int64_t age) {
  if (age < 18) return 0;
  if (age <= 24) return 1;
  if (age <= 34) return 2;
  if (age <= 44) return 3;
  if (age <= 49) return 4;
  if (age <= 55) return 5;
  return 6;
}

}  // namespace

Dataset LoadMl100k(const fs::path& dir, const LoadOptions& opts, LoadReport* report) {
  Dataset ds;
  ds.name = "ml-100k";
  ds.value_kind = ValueKind::kRating;
  std::string line_text;

  // u.genre: "name|index", indices 0..18 in order.
  std::vector<std::string> genres;
  {
    LineReader in(dir / "u.genre", TextEncoding::kLatin1);
    NoteFileRead(in.file_name(), report);
    while (in.Next(line_text)) {
      if (line_text.empty()) continue;
      const auto f = SplitChar(line_text, '|');
      RequireFieldCount(f.size(), 2, line_text, in.file_name(), in.line_number());
      const int64_t index = ParseInt64(f[1], in.file_name(), in.line_number(), "genre index");
      if (index != static_cast<int64_t>(genres.size())) {
        throw FileError(
            in.file_name(), in.line_number(),
            fmt::format("genre index {} out of order (expected {})", index, genres.size()));
      }
      genres.emplace_back(f[0]);
    }
    if (genres.empty()) throw FileError(in.file_name(), 0, "no genres");
  }

  // u.item: id|title|release|video release|url|flags...
  {
    LineReader in(dir / "u.item", TextEncoding::kLatin1);
    NoteFileRead(in.file_name(), report);
    const size_t expected = 5 + genres.size();
    ForEachRecord(
        opts, report, [&] { return in.Next(line_text); },
        [&] {
          if (line_text.empty()) return;
          const std::string& file = in.file_name();
          const int64_t line = in.line_number();
          const auto f = SplitChar(line_text, '|');
          RequireFieldCount(f.size(), expected, line_text, file, line);
          const std::string id = IdString(f[0], file, line, "movie id");
          if (ds.items.Find(id) >= 0) {
            throw FileError(file, line, "duplicate movie id " + QuoteForError(f[0]));
          }
          std::vector<std::string> cats;
          for (size_t g = 0; g < genres.size(); ++g) {
            const auto flag = f[5 + g];
            if (flag == "1") {
              cats.push_back(genres[g]);
            } else if (flag != "0") {
              throw FileError(file, line,
                              fmt::format("genre flag {} ({}) must be 0 or 1, got {}", g + 1,
                                          genres[g], QuoteForError(flag)));
            }
          }
          const ItemId item = ds.items.Intern(id);
          ds.items.Normalize();
          ds.items.titles[item] = std::string(Trim(f[1]));
          ds.items.categories[item] = std::move(cats);
        });
    if (ds.items.size() == 0) throw FileError(in.file_name(), 0, "no movies");
  }

  // u.occupation: one name per line.
  std::vector<std::string> occupations;
  {
    LineReader in(dir / "u.occupation", TextEncoding::kLatin1);
    NoteFileRead(in.file_name(), report);
    while (in.Next(line_text)) {
      const auto name = Trim(line_text);
      if (!name.empty()) occupations.emplace_back(name);
    }
  }

  // u.user: id|age|gender|occupation|zip -> user catalog + one-hot features.
  {
    auto& users = ds.users;
    for (const auto& a : kAgeBuckets) users.feature_names.push_back("age:" + a);
    users.feature_names.push_back("gender:M");
    users.feature_names.push_back("gender:F");
    for (const auto& o : occupations) users.feature_names.push_back("occupation:" + o);
    users.feature_dim = static_cast<int32_t>(users.feature_names.size());
    const size_t gender_base = kAgeBuckets.size();
    const size_t occ_base = gender_base + 2;

    LineReader in(dir / "u.user", TextEncoding::kLatin1);
    NoteFileRead(in.file_name(), report);
    ForEachRecord(
        opts, report, [&] { return in.Next(line_text); },
        [&] {
          if (line_text.empty()) return;
          const std::string& file = in.file_name();
          const int64_t line = in.line_number();
          const auto f = SplitChar(line_text, '|');
          RequireFieldCount(f.size(), 5, line_text, file, line);
          const std::string id = IdString(f[0], file, line, "user id");
          if (users.Find(id) >= 0) {
            throw FileError(file, line, "duplicate user id " + QuoteForError(f[0]));
          }
          const int64_t age = ParseInt64(f[1], file, line, "age");
          if (age < 0 || age > 150) throw FileError(file, line, "bad age: " + QuoteForError(f[1]));
          size_t gender;
          if (f[2] == "M") {
            gender = 0;
          } else if (f[2] == "F") {
            gender = 1;
          } else {
            throw FileError(file, line,
                            "bad gender: " + QuoteForError(f[2]) + " (expected M or F)");
          }
          size_t occ = occupations.size();
          for (size_t k = 0; k < occupations.size(); ++k) {
            if (occupations[k] == f[3]) occ = k;
          }
          if (occ == occupations.size()) {
            throw FileError(file, line,
                            "occupation " + QuoteForError(f[3]) + " is not in u.occupation" +
                                DidYouMean(f[3], occupations));
          }
          users.Intern(id);
          const size_t base = users.features.size();
          users.features.resize(base + users.feature_dim, 0.0f);
          users.features[base + AgeBucket(age)] = 1.0f;
          users.features[base + gender_base + gender] = 1.0f;
          users.features[base + occ_base + occ] = 1.0f;
        });
    if (users.size() == 0) throw FileError(in.file_name(), 0, "no users");
  }

  // u.data: user item rating timestamp (tab).
  LineReader in(dir / "u.data", TextEncoding::kUtf8);
  NoteFileRead(in.file_name(), report);
  ForEachRecord(
      opts, report, [&] { return in.Next(line_text); },
      [&] {
        if (line_text.empty()) return;
        const std::string& file = in.file_name();
        const int64_t line = in.line_number();
        const auto f = SplitChar(line_text, '\t');
        RequireFieldCount(f.size(), 4, line_text, file, line);
        Interaction x;
        x.user = ds.users.Find(IdString(f[0], file, line, "user id"));
        if (x.user < 0) {
          throw FileError(file, line, "user id " + QuoteForError(f[0]) + " is not in u.user");
        }
        x.item = ds.items.Find(IdString(f[1], file, line, "item id"));
        if (x.item < 0) {
          throw FileError(file, line, "item id " + QuoteForError(f[1]) + " is not in u.item");
        }
        x.value = ParseFloat(f[2], file, line, "rating");
        x.timestamp = static_cast<double>(ParseInt64(f[3], file, line, "timestamp"));
        ds.interactions.push_back(x);
      });
  if (ds.interactions.empty()) throw FileError(in.file_name(), 0, "no ratings");
  ds.items.Normalize();
  ds.CheckConsistency();
  return ds;
}

}  // namespace recarena::data
