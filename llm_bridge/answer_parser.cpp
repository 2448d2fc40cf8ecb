#include "llm_bridge/answer_parser.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <initializer_list>

#include "core/json_read.h"

namespace recarena::llm_bridge {

const char* ChoiceKindName(ChoiceKind kind) {
  switch (kind) {
    case ChoiceKind::kLetter:
      return "letter";
    case ChoiceKind::kTitle:
      return "title";
    case ChoiceKind::kJson:
      return "json";
    case ChoiceKind::kNone:
      return "none";
    case ChoiceKind::kNoChoice:
      return "no_choice";
  }
  return "?";
}

namespace {
constexpr size_t kMaxText = 64 * 1024;
constexpr size_t kNpos = std::string::npos;

bool Alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}
bool Space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }
bool In(char c, const char* set) { return c != '\0' && std::strchr(set, c) != nullptr; }

// Lowercase ASCII copy (other bytes unchanged, so positions match the input).
std::string LowerCopy(std::string_view s) {
  std::string out(s.substr(0, std::min(s.size(), kMaxText)));
  for (char& c : out) c = Lower(c);
  return out;
}

// The word ending just before position i (skipping spaces and quote/markup characters), or "".
std::string WordBefore(const std::string& s, size_t i) {
  size_t j = i;
  while (j > 0 && (Space(s[j - 1]) || In(s[j - 1], ":\"'*`(-=>"))) --j;
  size_t start = j;
  while (start > 0 && s[start - 1] >= 'a' && s[start - 1] <= 'z') --start;
  return s.substr(start, j - start);
}

bool IsCue(const std::string& w) {
  static const char* const cues[] = {"select", "selects", "selected", "answer",  "choice",
                                     "option", "letter",  "choose",   "chooses", "pick",
                                     "picks",  "is",      "candidate"};
  for (const char* c : cues)
    if (w == c) return true;
  return false;
}

// The first accepted label letter: its position and index (0..k; k = the None label).
size_t FindLetter(const std::string& s, int64_t k, int64_t* index) {
  const char last = static_cast<char>('a' + k);
  // The whole answer is one letter (after stripping markup and punctuation).
  size_t b = 0, e = s.size();
  while (b < e && (Space(s[b]) || In(s[b], "*`'\"_.:()[]{}<>-!#"))) ++b;
  while (e > b && (Space(s[e - 1]) || In(s[e - 1], "*`'\"_.:()[]{}<>-!#"))) --e;
  if (e == b + 1 && s[b] >= 'a' && s[b] <= last) {
    *index = s[b] - 'a';
    return b;
  }
  const size_t n = s.size();
  for (size_t i = 0; i < n; ++i) {
    const char c = s[i];
    if (c < 'a' || c > last) continue;
    const char prev = i > 0 ? s[i - 1] : '\0';
    const char next = i + 1 < n ? s[i + 1] : '\0';
    if (Alnum(prev) || Alnum(next)) continue;
    // "user's", "i'm": a letter glued to a word by an apostrophe is part of that word.
    if (prev == '\'' && i >= 2 && Alnum(s[i - 2])) continue;
    if (next == '\'' && i + 2 < n && Alnum(s[i + 2])) continue;
    const bool end_or_punct = next == '\0' || In(next, ".,;:!?)]}\n\r*\"'`");
    bool accept = false;
    if ((prev == '(' && next == ')') || (prev == '[' && next == ']')) {
      accept = true;
    } else if (In(next, ".):") && (prev == '\0' || Space(prev) || In(prev, "*(\"'`#-"))) {
      // ... but not an abbreviation ("e.g.", "i.e.").
      accept = !(next == '.' && i + 2 < n && s[i + 2] >= 'a' && s[i + 2] <= 'z');
    } else if (IsCue(WordBefore(s, i))) {
      accept = (c == 'a' || c == 'i') ? end_or_punct : (end_or_punct || next == ' ');
    }
    if (accept) {
      *index = c - 'a';
      return i;
    }
  }
  return kNpos;
}

// The first "none" as a word.
size_t FindNone(const std::string& s) {
  for (size_t p = s.find("none"); p != kNpos; p = s.find("none", p + 1)) {
    const bool left = p == 0 || !Alnum(s[p - 1]);
    const bool right = p + 4 >= s.size() || !Alnum(s[p + 4]);
    if (left && right) return p;
  }
  return kNpos;
}

// Where `title` first occurs in s as a whole word sequence: not inside a longer word or number
// ("item 15" is not found in "item 155"); kNpos when nowhere.
size_t FindWhole(const std::string& s, const std::string& title) {
  auto word = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; };
  for (size_t p = s.find(title); p != kNpos; p = s.find(title, p + 1)) {
    const size_t end = p + title.size();
    const bool left = p == 0 || !word(s[p - 1]) || !word(title.front());
    const bool right = end >= s.size() || !word(s[end]) || !word(title.back());
    if (left && right) return p;
  }
  return kNpos;
}

// The earliest candidate title in the text (longest on a tie).
size_t FindTitle(const std::string& s, const std::vector<std::string>& titles, int64_t k,
                 int64_t* index) {
  size_t best = kNpos, best_len = 0;
  for (size_t t = 0; t < titles.size() && static_cast<int64_t>(t) < k; ++t) {
    const std::string full = LowerCopy(titles[t]);
    // The title, and its core without a trailing parenthesis ("blade runner" of "Blade Runner
    // (1982)"): answers cut by max_tokens often end inside the year.
    std::string core = full;
    const size_t open = core.rfind(" (");
    if (open != kNpos && !core.empty() && core.back() == ')') core.resize(open);
    for (const std::string* title : std::initializer_list<const std::string*>{&full, &core}) {
      if (title->size() < 3 || (title == &core && (core == full || core.size() < 4))) continue;
      const size_t p = FindWhole(s, *title);
      if (p == kNpos) continue;
      if (p < best || (p == best && title->size() > best_len)) {
        best = p;
        best_len = title->size();
        *index = static_cast<int64_t>(t);
      }
    }
  }
  return best;
}

Choice Parse(std::string_view answer, int64_t k, const std::vector<std::string>& titles,
             bool allow_json) {
  answer = answer.substr(0, std::min(answer.size(), kMaxText));
  if (k < 1 || k > 25) return {};
  if (allow_json) {
    const size_t open = answer.find('{');
    const size_t close = answer.rfind('}');
    if (open != kNpos && close != kNpos && close > open) {
      // Nesting beyond kMaxJsonDepth is refused (discarded), as from any hostile input.
      const auto j = ParseJsonOrDiscarded(answer.substr(open, close - open + 1));
      if (j.is_object()) {
        for (const char* key : {"choice", "answer", "label", "selection", "option", "item"}) {
          const auto it = j.find(key);
          if (it == j.end() || !it->is_string()) continue;
          Choice c = Parse(it->get_ref<const std::string&>(), k, titles, false);
          if (c.kind == ChoiceKind::kNone) return c;
          if (c.picked()) return {ChoiceKind::kJson, c.index};
        }
      }
    }
  }
  const std::string s = LowerCopy(answer);
  int64_t letter = -1, title = -1;
  const size_t lp = FindLetter(s, k, &letter);
  const size_t np = FindNone(s);
  const size_t tp = FindTitle(s, titles, k, &title);
  const size_t first = std::min({lp, np, tp});
  if (first == kNpos) return {};
  if (first == lp) {
    if (letter == k) return {ChoiceKind::kNone, -1};
    return {ChoiceKind::kLetter, letter};
  }
  if (first == np) return {ChoiceKind::kNone, -1};
  return {ChoiceKind::kTitle, title};
}
}  // namespace

Choice ParseChoice(std::string_view answer, int64_t k, const std::vector<std::string>& titles) {
  return Parse(answer, k, titles, true);
}

}  // namespace recarena::llm_bridge
