// Reads which candidate an LLM's answer picks, for k candidates labelled a.. (the label after the
// last one means "None"). Never throws and never reads out of bounds, whatever the text (fuzzed:
// fuzz/answer_parser_fuzz.cpp and tests/llm_bridge/answer_parser_test.cpp).
//
// Accepted forms, first match in the text wins:
// - JSON: an object with a string (or one-letter) field choice / answer / label / selection /
//   option / item, read with the rules below;
// - a label letter, in either case, standing alone as the whole answer ("b", " B. ", "**c**"), in
//   brackets ("(b)", "[b]"), followed by '.', ')' or ':' ("b.", "b) Title"), or after a cue word
//   (select, answer, choice, option, letter, choose, pick, is, candidate) and followed by the end,
//   punctuation or a space (but "a" and "i" only when followed by the end or punctuation, since
//   they are English words: "will select a movie" is not a choice);
// - "none" / "none of" / the None label: no candidate is preferred (r^p = 0, Eq. 7.3);
// - a quoted or verbatim candidate title (case-insensitive, at least 3 characters; the earliest in
//   the text, the longest on a tie), or its core without a trailing parenthesis ("Blade Runner"
//   for "Blade Runner (1982)", at least 4 characters).
// Anything else is "no choice". The none/letter decision goes by position: whichever comes first.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace recarena::llm_bridge {

enum class ChoiceKind {
  kLetter,    // a candidate's label
  kTitle,     // a candidate's title
  kJson,      // a JSON field naming a label or title
  kNone,      // the model says none of the candidates
  kNoChoice,  // nothing recognisable
};
const char* ChoiceKindName(ChoiceKind kind);  // "letter", "title", "json", "none", "no_choice"

struct Choice {
  ChoiceKind kind = ChoiceKind::kNoChoice;
  int64_t index = -1;  // 0..k-1 for letter / title / json, -1 otherwise
  bool picked() const { return index >= 0; }
};

// k in 1..25; titles (size k, may be empty strings) are the candidates' titles for title matching.
// Texts over 64 KiB are read only up to there.
Choice ParseChoice(std::string_view answer, int64_t k, const std::vector<std::string>& titles);

}  // namespace recarena::llm_bridge
