// MovieLens loaders.
//
// LoadMlLatestSmall(dir): ratings.csv (userId,movieId,rating,timestamp) + movies.csv
//   (movieId,title,genres; RFC-4180 quoting, titles may contain commas). The catalog is every movie
//   of movies.csv in file order (including movies nobody rated); genres split on '|' become
//   categories ("(no genres listed)" -> none). Users in order of first appearance in ratings.csv.
//   value = rating (0.5..5), timestamp = unix seconds, ValueKind::kRating, one part "all".
// LoadMl100k(dir): u.data (user item rating ts, tab-separated), u.item (pipe-separated Latin-1,
//   converted to UTF-8; 19 genre flags -> category names from u.genre), u.user
//   (id|age|gender|occupation|zip; the user catalog, in file order) and u.occupation. User
//   features (feature_dim 30): 7 age buckets (MovieLens-1M's: under 18, 18-24, 25-34, 35-44, 45-49,
//   50-55, 56+), 2 genders (M, F) and one flag per occupation of u.occupation; named
//   "age:18-24", "gender:M", "occupation:writer". The zip code is not used.
// External ids are the decimal ids of the files (normalised: "007" -> "7").
#pragma once

#include <filesystem>

#include "data/dataset.h"
#include "data/load_options.h"

namespace recarena::data {

Dataset LoadMlLatestSmall(const std::filesystem::path& dir, const LoadOptions& opts,
                          LoadReport* report);
Dataset LoadMl100k(const std::filesystem::path& dir, const LoadOptions& opts, LoadReport* report);

}  // namespace recarena::data
