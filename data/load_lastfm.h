// HetRec 2011 Last.fm-2K loader.
//
// Files (tab-separated, one header line each):
//   artists.dat              id, name, url, pictureURL -> the catalog in file order, title = name
//                            (must be valid UTF-8: an invalid byte is a FileError)
//   tags.dat                 tagID, tagValue (the real file is Latin-1 for 8 tags: each line that
//   is
//                            not valid UTF-8 is converted from Latin-1)
//   user_taggedartists.dat   userID, artistID, tagID, day, month, year
//   user_artists.dat         userID, artistID, weight (play count)
// Parts:
//   "tags" (0): the sequential signal. One interaction per distinct (user, artist, date) of
//     user_taggedartists.dat, in order of first occurrence; timestamp = that date at 00:00 UTC
//     (unix seconds), value = 1.
//   "plays" (1): one interaction per line of user_artists.dat, timestamp = 0 (the file has no
//     time), value = the play count.
// ValueKind::kCount (a tag event counts once; plays count plays). Users in order of first
// appearance in user_artists.dat, then user_taggedartists.dat. An artist's categories are the
// names of its 5 most frequent tags (counting every (user, artist, tag) line; ties -> lower tag
// id). The real user_taggedartists.dat refers to artists missing from artists.dat (390 of them):
// they are appended to the catalog with empty titles, and a note says how many.
#pragma once

#include <filesystem>

#include "data/dataset.h"
#include "data/load_options.h"

namespace recarena::data {

Dataset LoadLastfm(const std::filesystem::path& dir, const LoadOptions& opts, LoadReport* report);

// How many tag names LoadLastfm keeps as an artist's categories.
inline constexpr int kLastfmTopTags = 5;

}  // namespace recarena::data
