#include "llm_bridge/prompt.h"

#include <fmt/format.h>

#include <map>

#include "core/error.h"

namespace recarena::llm_bridge {

const char* const kTable71Template =
    "Below is an instruction that describes a task, paired with an input that provides further "
    "context. Write a response that appropriately completes the request.\n\n"
    "### Instruction:\n"
    "You are a user in a {scenario} platform now. The {item} is in the form of {attributes}. "
    "Given a user's {behavior} history of {item}, and candidate {item} labelled by lowercase "
    "letter to be decided to recommend to the user, identify which {item} the user will mostly "
    "prefer to at next timestamp. Please judge by the user's preference on {attributes}; if you "
    "think that none of the candidates will be selected by the user, please answer \"None\".\n\n"
    "### Input:\n"
    "History: {history}.\n"
    "Which one the user will mostly like at next timestamp in the following candidates?\n"
    "{candidates}\n\n"
    "### Response:\n"
    "By analysing the user's preference, the user will select";

namespace {
const std::vector<std::string>& Placeholders() {
  static const std::vector<std::string> p = {"scenario", "item",       "behavior",   "attributes",
                                             "history",  "candidates", "none_label", "user"};
  return p;
}

// Cuts s to at most n bytes without splitting a UTF-8 sequence; control bytes become spaces.
std::string Clean(const std::string& s, size_t n) {
  std::string out;
  out.reserve(std::min(s.size(), n));
  for (unsigned char c : s) out.push_back(c < 0x20 || c == 0x7f ? ' ' : static_cast<char>(c));
  if (out.size() > n) {
    size_t cut = n;
    while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;
    out.resize(cut);
    out += "...";
  }
  return out;
}
}  // namespace

char CandidateLabel(int64_t position) { return static_cast<char>('a' + position); }

void PromptOptions::Validate(const std::string& section) const {
  auto bad = [&](const std::string& key, const std::string& msg) {
    return ConfigError(section + "." + key, section + "." + key + " " + msg);
  };
  if (max_history < 1 || max_history > 200) throw bad("max_history", "must be in 1..200");
  if (max_item_chars < 8 || max_item_chars > 2000)
    throw bad("max_item_chars", "must be in 8..2000");
  if (max_categories < 0 || max_categories > 50) throw bad("max_categories", "must be in 0..50");
  // Every {name} must be a known placeholder; history and candidates must be there.
  for (size_t pos = template_text.find('{'); pos != std::string::npos;
       pos = template_text.find('{', pos + 1)) {
    const size_t end = template_text.find('}', pos);
    if (end == std::string::npos) throw bad("template", "has a '{' without a closing '}'");
    const std::string name = template_text.substr(pos + 1, end - pos - 1);
    bool known = false;
    for (const auto& p : Placeholders()) known = known || p == name;
    if (!known)
      throw bad("template", "uses the unknown placeholder " + QuoteForError("{" + name + "}", 40) +
                                "; known: {" + Join(Placeholders(), "} {") + "}");
  }
  for (const char* need : {"{history}", "{candidates}"})
    if (template_text.find(need) == std::string::npos)
      throw bad("template", std::string("must contain ") + need);
}

PromptOptions WithDatasetDefaults(PromptOptions o, const std::string& dataset) {
  struct Words {
    const char *scenario, *item, *behavior, *attributes;
  };
  static const std::map<std::string, Words> table = {
      {"synthetic", {"content streaming", "item", "consumption", "name; topic"}},
      {"ml-latest-small", {"movie streaming", "movie", "watching", "title; genres"}},
      {"ml-100k", {"movie streaming", "movie", "watching", "title; genres"}},
      {"coat", {"online shopping", "coat", "shopping", "gender; jacket type; colour"}},
      {"rc15", {"online shopping", "product", "clicking", "product id"}},
      {"amazon-industrial", {"online shopping", "product", "purchase", "title; brand; category"}},
      {"lastfm-2k", {"music streaming", "artist", "listening", "name; tags"}},
  };
  Words w{"online", "item", "interaction", "title; categories"};
  const auto it = table.find(dataset);
  if (it != table.end()) w = it->second;
  if (o.scenario.empty()) o.scenario = w.scenario;
  if (o.item.empty()) o.item = w.item;
  if (o.behavior.empty()) o.behavior = w.behavior;
  if (o.attributes.empty()) o.attributes = w.attributes;
  return o;
}

PromptBuilder::PromptBuilder(const PromptOptions& options, const data::ItemCatalog& catalog)
    : options_(options) {
  options_.Validate();
  const int32_t n = catalog.size();
  texts_.resize(static_cast<size_t>(n));
  titles_.resize(static_cast<size_t>(n));
  const size_t cap = static_cast<size_t>(options_.max_item_chars);
  for (int32_t i = 0; i < n; ++i) {
    const size_t k = static_cast<size_t>(i);
    std::string title = k < catalog.titles.size() ? catalog.titles[k] : std::string();
    if (title.empty()) title = catalog.external_ids[k];
    titles_[k] = Clean(title, cap);
    std::string text = title;
    if (k < catalog.categories.size() && options_.max_categories > 0 &&
        !catalog.categories[k].empty()) {
      std::vector<std::string> cats;
      for (const auto& c : catalog.categories[k]) {
        if (static_cast<int64_t>(cats.size()) >= options_.max_categories) break;
        cats.push_back(c);
      }
      text += " (" + Join(cats, "; ") + ")";
    }
    texts_[k] = Clean(text, cap);
  }
}

const std::string& PromptBuilder::ItemText(int64_t item) const {
  if (item < 0 || item >= num_items())
    throw Error(
        fmt::format("prompt: item id {} is outside the catalog of {} items", item, num_items()));
  return texts_[static_cast<size_t>(item)];
}

const std::string& PromptBuilder::ItemTitle(int64_t item) const {
  ItemText(item);  // range check
  return titles_[static_cast<size_t>(item)];
}

std::string PromptBuilder::Render(const std::vector<int64_t>& history,
                                  const std::vector<int64_t>& candidates,
                                  const std::string& user) const {
  if (candidates.empty() || candidates.size() > 25)
    throw Error(
        fmt::format("prompt: {} candidates; 1..25 can be labelled a..y (one letter is "
                    "left for None)",
                    candidates.size()));
  std::string hist;
  const size_t first = history.size() > static_cast<size_t>(options_.max_history)
                           ? history.size() - static_cast<size_t>(options_.max_history)
                           : 0;
  for (size_t i = first; i < history.size(); ++i)
    hist += (i > first ? "; " : "") + ItemText(history[i]);
  if (hist.empty()) hist = "(none yet)";
  std::string cands;
  for (size_t p = 0; p < candidates.size(); ++p)
    cands +=
        fmt::format("{}. {}\n", CandidateLabel(static_cast<int64_t>(p)), ItemText(candidates[p]));
  const std::string none(1, CandidateLabel(static_cast<int64_t>(candidates.size())));
  cands += none + ". None";
  const std::map<std::string, std::string> values = {{"scenario", options_.scenario},
                                                     {"item", options_.item},
                                                     {"behavior", options_.behavior},
                                                     {"attributes", options_.attributes},
                                                     {"history", hist},
                                                     {"candidates", cands},
                                                     {"none_label", none},
                                                     {"user", Clean(user, 64)}};
  std::string out;
  const std::string& t = options_.template_text;
  size_t pos = 0;
  while (pos < t.size()) {
    const size_t open = t.find('{', pos);
    if (open == std::string::npos) {
      out.append(t, pos, std::string::npos);
      break;
    }
    const size_t close = t.find('}', open);
    out.append(t, pos, open - pos);
    out += values.at(t.substr(open + 1, close - open - 1));  // Validate checked the names
    pos = close + 1;
  }
  return out;
}

}  // namespace recarena::llm_bridge
