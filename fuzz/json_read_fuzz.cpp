// libFuzzer target: the JSON reader every file, server answer and checkpoint entry goes through
// (core/json_read.h). On arbitrary bytes ParseJson must return a value or throw FileError, never
// crash; a returned value must be walkable (dump) and parse back to itself, and
// ParseJsonOrDiscarded must agree with ParseJson on which inputs are accepted.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/error.h"
#include "core/json_read.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto lenient = recarena::ParseJsonOrDiscarded(text);
  try {
    const auto j = recarena::ParseJson(text, "fuzz.json");
    if (lenient.is_discarded()) std::abort();
    const std::string again = j.dump();  // recursion is bounded by kMaxJsonDepth
    if (recarena::ParseJson(again, "dump") != j) std::abort();
  } catch (const recarena::FileError&) {
    if (!lenient.is_discarded()) std::abort();
  }
  return 0;
}
