// Amazon Reviews (MiniOneRec-style split) loader, e.g. Industrial_and_Scientific.
//
// Folder layout (file names are found by globbing, so any category works; each folder must hold
// exactly one matching file):
//   index/*.item.json  {"<dense item id>": {"title", "description", "brand", "categories"}, ...}
//                      -> the catalog, in numeric key order (external id = the key)
//   info/*.txt         sid <TAB> title <TAB> item_id (optional folder): checked against the
//                      catalog; fills titles the JSON leaves empty
//   valid/*.csv        user_id, history_item_title, item_title, history_item_id, item_id, ...
//   test/*.csv         same columns (found by header name)
// history_item_id is a Python-literal list of ints ("[3466, 2697]"); every row becomes the
// sequence history + [item_id].
//
// Representation: in the real data user ids repeat, both within a file (one row per prefix of the
// user's history: A5382 has rows with histories of 4 and 5 items) and across valid and test (713 of
// the users), so the rows are overlapping windows, not disjoint logs. Each CSV row is therefore its
// own sequence: Interaction::session = the row's global index (valid rows 0..V-1, then test rows
// V..), user = the dense id of user_id, timestamp = the position in the row's sequence (0, 1, ...;
// the files carry no time), part = "valid" (0) or "test" (1), value = 1, ValueKind::kImplicit.
// Users are interned in order of first appearance (valid, then test). texts = the description
// (a Python-literal list of strings, joined with '\n' when it parses as one, kept raw otherwise);
// categories = {brand} plus the JSON "categories" string when non-empty.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "data/dataset.h"
#include "data/load_options.h"

namespace recarena::data {

Dataset LoadAmazon(const std::filesystem::path& dir, const LoadOptions& opts, LoadReport* report);

// Parses a Python-literal list of integers ("[1, 2]", "[7]", "[]"; spaces allowed around items).
// Returns nullopt for anything else (nested lists, strings, trailing commas, floats, ...).
std::optional<std::vector<int64_t>> ParsePythonIntList(std::string_view s);
// Parses a Python-literal list of quoted strings ("['a', \"b\"]", with \\ \' \" \n \t escapes);
// nullopt for anything else.
std::optional<std::vector<std::string>> ParsePythonStringList(std::string_view s);

}  // namespace recarena::data
