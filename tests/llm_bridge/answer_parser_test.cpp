#include "llm_bridge/answer_parser.h"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "core/rng.h"

using namespace recarena;
using namespace recarena::llm_bridge;

namespace {
const std::vector<std::string> kTitles = {"Megadeth", "Miles Davis", "Shakira", "Britney Spears"};
Choice P(const std::string& s) { return ParseChoice(s, 4, kTitles); }
}  // namespace

TEST_CASE("answer parser: a label letter in the common forms", "[llm_bridge]") {
  struct Case {
    const char* text;
    int64_t index;
  };
  const std::vector<Case> cases = {
      {"b", 1},
      {" B ", 1},
      {"c.", 2},
      {"**d**", 3},
      {"(a)", 0},
      {"[c]", 2},
      {" b. Megadeth (thrash metal)", 1},
      {"b) Megadeth", 1},
      {"Answer: c", 2},
      {"The answer is d.", 3},
      {" the user will select b because they like metal", 1},
      {"I would choose option c", 2},
      {"By analysing the user's preference, the user will select a.", 0},
      {"\n\na. Megadeth\n", 0},
      {"Letter: D", 3},
  };
  for (const auto& c : cases) {
    INFO(c.text);
    const Choice got = P(c.text);
    CHECK(got.kind == ChoiceKind::kLetter);
    CHECK(got.index == c.index);
  }
}

TEST_CASE("answer parser: English words are not labels", "[llm_bridge]") {
  // "a" and "i" are words; a letter inside a word or glued by an apostrophe is not a label.
  for (const char* text : {"the user will select a movie they like", "I think so", "user's taste",
                           "e.g. something", "abc def", "it's a tie", ""}) {
    INFO(text);
    CHECK(P(text).kind == ChoiceKind::kNoChoice);
    CHECK(P(text).index == -1);
  }
}

TEST_CASE("answer parser: none, the None label and position order", "[llm_bridge]") {
  CHECK(P("None").kind == ChoiceKind::kNone);
  CHECK(P("none of the candidates").kind == ChoiceKind::kNone);
  CHECK(P("e. None").kind == ChoiceKind::kNone);  // e is the None label for k = 4
  CHECK(P("e").kind == ChoiceKind::kNone);
  CHECK(P("None. Otherwise b.").kind == ChoiceKind::kNone);
  const Choice c = P("b. (none of the others)");
  CHECK(c.kind == ChoiceKind::kLetter);
  CHECK(c.index == 1);
  // f is beyond the None label for k = 4: not a label at all.
  CHECK(P("f").kind == ChoiceKind::kNoChoice);
  CHECK(P("nonesuch").kind == ChoiceKind::kNoChoice);
}

TEST_CASE("answer parser: titles, quoted or verbatim, earliest first", "[llm_bridge]") {
  Choice c = P("The user will most likely enjoy \"Miles Davis\".");
  CHECK(c.kind == ChoiceKind::kTitle);
  CHECK(c.index == 1);
  c = P("shakira, then megadeth");
  CHECK(c.kind == ChoiceKind::kTitle);
  CHECK(c.index == 2);
  // A title cut inside its trailing parenthesis still matches by its core.
  c = ParseChoice("The user will prefer the movie Blade Runner (198", 2,
                  {"Alien (1979)", "Blade Runner (1982)"});
  CHECK(c.kind == ChoiceKind::kTitle);
  CHECK(c.index == 1);
  // Titles shorter than 3 characters are never matched.
  CHECK(ParseChoice("xy", 2, {"xy", "Zed"}).kind == ChoiceKind::kNoChoice);
  // Whole words only: "item 15" is not in "item 155", which is not a candidate.
  const std::vector<std::string> items = {"item 15 (topic 3)", "item 7 (topic 1)"};
  CHECK(ParseChoice("The user will select item 155.", 2, items).kind == ChoiceKind::kNoChoice);
  c = ParseChoice("The user will select item 15.", 2, items);
  CHECK(c.kind == ChoiceKind::kTitle);
  CHECK(c.index == 0);
  c = ParseChoice("The user will select item 7 (topic 1) now", 2, items);
  CHECK(c.index == 1);
}

TEST_CASE("answer parser: JSON fields", "[llm_bridge]") {
  Choice c = P("{\"choice\": \"c\"}");
  CHECK(c.kind == ChoiceKind::kJson);
  CHECK(c.index == 2);
  c = P("Sure! ```json\n{\"answer\": \"Shakira\", \"why\": \"pop\"}\n```");
  CHECK(c.kind == ChoiceKind::kJson);
  CHECK(c.index == 2);
  CHECK(P("{\"answer\": \"none\"}").kind == ChoiceKind::kNone);
  // A JSON object without a usable field falls back to the text rules ("b." after it).
  c = P("{\"x\": 1} b.");
  CHECK(c.kind == ChoiceKind::kLetter);
  CHECK(c.index == 1);
  CHECK(P("{\"choice\": 3}").kind == ChoiceKind::kNoChoice);
}

TEST_CASE("answer parser: bad k and hostile input never crash", "[llm_bridge][fuzz]") {
  CHECK(ParseChoice("a", 0, {}).kind == ChoiceKind::kNoChoice);
  CHECK(ParseChoice("a", 26, {}).kind == ChoiceKind::kNoChoice);
  // Titles vector shorter or longer than k.
  CHECK(ParseChoice("zebra", 3, {"zebra"}).index == 0);
  CHECK(ParseChoice("yak", 1, {"zebra", "yak"}).kind == ChoiceKind::kNoChoice);
  const std::string deep =
      std::string(100000, '{') + "\"choice\": \"b\"" + std::string(100000, '}');
  const Choice d = ParseChoice(deep, 4, kTitles);
  CHECK(d.index >= -1);
  CHECK(d.index < 4);
  std::string zeros(70000, '\0');
  zeros[3] = 'b';
  CHECK(ParseChoice(zeros, 4, kTitles).index >= -1);
}

// A random search over texts built from the characters and words the rules look at, plus byte
// noise: the parser never crashes (sanitizer builds check the memory accesses), returns an index in
// range, and a picked index comes with a picking kind. fuzz/answer_parser_fuzz.cpp runs the same
// property under libFuzzer.
TEST_CASE("answer parser: randomised inputs keep the contract", "[llm_bridge][fuzz]") {
  Rng rng(7);
  const std::vector<std::string> atoms = {
      "a",        "b",       "c",        "d",      "e",  "f",      "A",
      "B",        "(",       ")",        "[",      "]",  ".",      ":",
      "'",        "\"",      "*",        " ",      "\n", "{",      "}",
      "none",     "None",    "select",   "answer", "is", "option", "{\"choice\": \"",
      "Megadeth", "shakira", "\xc3\xa9", "\xff",   "\0", "e.g.",   "user's",
      "i"};
  int picked = 0, none = 0;
  for (int it = 0; it < 100000; ++it) {
    std::string s;
    const int n = static_cast<int>(rng.UniformInt(24));
    for (int j = 0; j < n; ++j) {
      if (rng.Bernoulli(0.1)) {
        s.push_back(static_cast<char>(rng.UniformInt(256)));
      } else {
        s += atoms[rng.UniformInt(atoms.size())];
      }
    }
    const int64_t k = 1 + static_cast<int64_t>(rng.UniformInt(6));
    const Choice c = ParseChoice(s, k, kTitles);
    REQUIRE(c.index >= -1);
    REQUIRE(c.index < k);
    const bool picks = c.kind == ChoiceKind::kLetter || c.kind == ChoiceKind::kTitle ||
                       c.kind == ChoiceKind::kJson;
    REQUIRE(picks == c.picked());
    picked += c.picked();
    none += c.kind == ChoiceKind::kNone;
  }
  // The search reaches every branch kind (a check that the generator is not degenerate).
  CHECK(picked > 1000);
  CHECK(none > 1000);
}
