// libFuzzer target: the LLM answer parser on arbitrary bytes. The first byte picks k (1..25);
// the parser must return, without crashing, an index in [-1, k) that agrees with its kind.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "llm_bridge/answer_parser.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const int64_t k = 1 + data[0] % 25;
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  static const std::vector<std::string> titles = {"Megadeth", "Miles Davis", "Shakira", "abc",
                                                  "none"};
  const auto c = recarena::llm_bridge::ParseChoice(text, k, titles);
  if (c.index < -1 || c.index >= k) std::abort();
  const bool picks = c.kind == recarena::llm_bridge::ChoiceKind::kLetter ||
                     c.kind == recarena::llm_bridge::ChoiceKind::kTitle ||
                     c.kind == recarena::llm_bridge::ChoiceKind::kJson;
  if (picks != c.picked()) std::abort();
  return 0;
}
