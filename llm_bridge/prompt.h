// The preference prompt p(s, a^k) of thesis Table 7.1, as a configurable template rendered from a
// dataset's item texts (config section `prompt:` of `recarena llm distill` / `llm check` and of the
// llm_online agent; docs/llm.md).
//
// Template placeholders: {scenario} {item} {behavior} {attributes} {history} {candidates}
// {none_label} {user} (the user's external id; the default template does not show it). The
// candidates are labelled a, b, c, ... (at most 25, so
// that one letter is left for "None"), one per line ("a. <item text>"), followed by "<none_label>.
// None".
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/config_schema.h"
#include "data/dataset.h"

namespace recarena::llm_bridge {

// Table 7.1, with History / candidates in the input part and the response begun ("... the user will
// select"), so that a completion model continues with the label.
extern const char* const kTable71Template;

struct PromptOptions {
  // '' = the dataset's default (PromptDefaults): e.g. scenario "music streaming", item "artist",
  // behavior "listening", attributes "name; tags" for lastfm-2k.
  std::string scenario, item, behavior, attributes;
  std::string template_text = kTable71Template;  // YAML key `template`
  int64_t max_history = 10;                      // most recent history items shown
  int64_t max_item_chars = 100;  // an item's text is cut (UTF-8 safe) after this many bytes
  int64_t max_categories = 3;    // categories / tags shown per item

  template <class V>
  void Visit(V& v) {
    v("scenario", scenario);
    v("item", item);
    v("behavior", behavior);
    v("attributes", attributes);
    v("template", template_text);
    v("max_history", max_history);
    v("max_item_chars", max_item_chars);
    v("max_categories", max_categories);
  }
  // ConfigError("<section>.<key>"): unknown or missing placeholders, non-positive sizes.
  void Validate(const std::string& section = "prompt") const;
};

// The dataset-specific wording: fills the empty fields of options from the dataset's name
// (synthetic, ml-latest-small, ml-100k, coat, rc15, amazon-industrial, lastfm-2k, csv).
PromptOptions WithDatasetDefaults(PromptOptions options, const std::string& dataset_name);

// Renders prompts over one catalog. Item texts are built once: the title (or the external id when
// there is none) followed by up to max_categories categories in parentheses, with control
// characters replaced by spaces and cut at max_item_chars.
class PromptBuilder {
 public:
  PromptBuilder(const PromptOptions& options, const data::ItemCatalog& catalog);
  // history: dense item ids, oldest first (only the last max_history are shown; ids out of range
  // throw recarena::Error); candidates: 1..25 dense ids.
  std::string Render(const std::vector<int64_t>& history, const std::vector<int64_t>& candidates,
                     const std::string& user = "") const;
  // The text shown for item i (also what the answer parser matches quoted titles against).
  const std::string& ItemText(int64_t item) const;
  // The bare title used for title matching (title, else external id).
  const std::string& ItemTitle(int64_t item) const;
  int64_t num_items() const { return static_cast<int64_t>(texts_.size()); }

 private:
  PromptOptions options_;
  std::vector<std::string> texts_, titles_;
};

// The label of candidate position p (0 -> "a").
char CandidateLabel(int64_t position);

}  // namespace recarena::llm_bridge
