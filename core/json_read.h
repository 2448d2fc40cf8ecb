// Reading JSON from files, servers and users with limits: nlohmann::json parses iteratively, but
// dump() and the code that walks a value recurse, so a value nested a million levels deep (a
// hostile item file, an HTTP body) would overflow the stack later. Every JSON recarena reads goes
// through these functions, which refuse nesting deeper than kMaxJsonDepth.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

namespace recarena {

// Deeper than any JSON recarena writes or reads (its deepest is about 6 levels).
constexpr int kMaxJsonDepth = 64;

// Parses text (the content of `where`, a file name or a description such as "HTTP body").
// Throws FileError(where, line, ...) naming the line and the problem on invalid JSON or on
// nesting deeper than kMaxJsonDepth.
nlohmann::json ParseJson(std::string_view text, const std::string& where);

// Parses text; a discarded value (is_discarded()) on invalid JSON or too deep nesting. For
// answers that are allowed to be malformed (LLM output, server bodies checked afterwards).
nlohmann::json ParseJsonOrDiscarded(std::string_view text);

}  // namespace recarena
