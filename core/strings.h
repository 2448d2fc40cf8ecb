// Small string helpers used across recarena (no locale dependence).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace recarena {

std::vector<std::string> Split(std::string_view s, char sep);
std::string_view Trim(std::string_view s);
std::string Join(const std::vector<std::string>& parts, std::string_view sep);
// Levenshtein edit distance (bytes).
size_t EditDistance(std::string_view a, std::string_view b);
// The candidate closest to word by edit distance, or "" if candidates is empty.
std::string ClosestMatch(std::string_view word, const std::vector<std::string>& candidates);
// Formats " (did you mean 'x'?)" or "" when nothing is close enough to help.
std::string DidYouMean(std::string_view word, const std::vector<std::string>& candidates);

}  // namespace recarena
