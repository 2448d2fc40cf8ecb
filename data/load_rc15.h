// RecSys Challenge 2015 (YOOCHOOSE) click sample loader.
//
// Files: yoochoose-clicks-100k_train_full.txt -> part "train" (0) and
// yoochoose-clicks-100k_test.txt
// -> part "test" (1); tab-separated with the header "SessionId ItemId Time" (Time = float unix
// seconds). Each session is a user: UserTable external id = the session id, Interaction::session =
// the numeric session id. Items in order of first appearance (train, then test). value = 1,
// ValueKind::kClick.
#pragma once

#include <filesystem>

#include "data/dataset.h"
#include "data/load_options.h"

namespace recarena::data {

Dataset LoadRc15(const std::filesystem::path& dir, const LoadOptions& opts, LoadReport* report);

}  // namespace recarena::data
