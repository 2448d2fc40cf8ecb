#include "experiments/train/llm_chooser.h"

#include <chrono>

#include "core/error.h"
#include "core/log.h"

namespace recarena::experiments {

using llm_bridge::ChoiceKind;
using nlohmann::json;

nlohmann::json ChooserStats::ToJson() const {
  json j;
  const double n = queries > 0 ? static_cast<double>(queries) : 1.0;
  const int64_t picks = kinds[static_cast<size_t>(ChoiceKind::kLetter)] +
                        kinds[static_cast<size_t>(ChoiceKind::kTitle)] +
                        kinds[static_cast<size_t>(ChoiceKind::kJson)];
  const int64_t none = kinds[static_cast<size_t>(ChoiceKind::kNone)];
  j["queries"] = queries;
  j["failed_calls"] = failed_calls;
  j["parse_rate"] = static_cast<double>(picks + none) / n;
  j["pick_rate"] = static_cast<double>(picks) / n;
  j["none_rate"] = static_cast<double>(none) / n;
  json k;
  for (size_t i = 0; i < kinds.size(); ++i)
    k[llm_bridge::ChoiceKindName(static_cast<ChoiceKind>(i))] = kinds[i];
  j["kinds"] = k;
  j["positions"] = positions;
  std::vector<double> share;
  for (int64_t p : positions)
    share.push_back(picks > 0 ? static_cast<double>(p) / static_cast<double>(picks) : 0.0);
  j["position_share"] = share;
  j["seconds"] = seconds;
  j["seconds_per_query"] = queries > 0 ? seconds / n : 0.0;
  return j;
}

void ChooserStats::Load(const nlohmann::json& j) {
  queries = j.value("queries", int64_t{0});
  failed_calls = j.value("failed_calls", int64_t{0});
  for (size_t i = 0; i < kinds.size(); ++i)
    kinds[i] = j["kinds"].value(llm_bridge::ChoiceKindName(static_cast<ChoiceKind>(i)), int64_t{0});
  positions = j.value("positions", std::vector<int64_t>{});
  seconds = j.value("seconds", 0.0);
}

std::vector<agents::ChoiceResult> RecordingChooser::Record(std::vector<llm_bridge::Choice> choices,
                                                           double seconds) {
  std::vector<agents::ChoiceResult> results(choices.size());
  for (size_t i = 0; i < choices.size(); ++i) {
    const llm_bridge::Choice& c = choices[i];
    ++stats_.kinds[static_cast<size_t>(c.kind)];
    if (c.picked()) {
      if (stats_.positions.size() <= static_cast<size_t>(c.index))
        stats_.positions.resize(static_cast<size_t>(c.index) + 1, 0);
      ++stats_.positions[static_cast<size_t>(c.index)];
    }
    results[i].position = c.index;
    results[i].none = c.kind == ChoiceKind::kNone;
  }
  stats_.queries += static_cast<int64_t>(choices.size());
  stats_.seconds += seconds;
  last_choices_ = std::move(choices);
  return results;
}

LlmChooser::LlmChooser(const llm_bridge::LlmConfig& llm, const llm_bridge::PromptOptions& prompt,
                       const data::ItemCatalog& catalog, const data::UserTable& users)
    : client_(llm),
      prompts_(prompt, catalog),
      user_ids_(users.external_ids),
      on_failure_(llm.on_failure) {}

std::string LlmChooser::Prompt(const agents::ChoiceQuery& q) const {
  std::string user;
  if (q.user >= 0 && q.user < static_cast<int64_t>(user_ids_.size()))
    user = user_ids_[static_cast<size_t>(q.user)];
  return prompts_.Render(q.history, q.candidates, user);
}

llm_bridge::Choice LlmChooser::Parse(const std::string& answer,
                                     const agents::ChoiceQuery& q) const {
  std::vector<std::string> titles;
  for (int64_t c : q.candidates) titles.push_back(prompts_.ItemTitle(c));
  return llm_bridge::ParseChoice(answer, static_cast<int64_t>(q.candidates.size()), titles);
}

std::vector<agents::ChoiceResult> LlmChooser::Choose(const std::vector<agents::ChoiceQuery>& q) {
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<std::string> prompts;
  prompts.reserve(q.size());
  for (const auto& query : q) prompts.push_back(Prompt(query));
  last_answers_.assign(q.size(), std::string());
  bool failed = false;
  try {
    const auto out = client_.Complete(prompts);
    for (size_t i = 0; i < out.size(); ++i) last_answers_[i] = out[i].text;
  } catch (const llm_bridge::LlmError& e) {
    if (on_failure_ == llm_bridge::LlmFailure::kError) throw;
    log::Warn("LLM call failed, the step goes on without choices: {}", e.what());
    failed = true;
    ++stats_.failed_calls;
  }
  std::vector<llm_bridge::Choice> choices(q.size());
  if (!failed)
    for (size_t i = 0; i < q.size(); ++i) choices[i] = Parse(last_answers_[i], q[i]);
  return Record(std::move(choices),
                std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
}

}  // namespace recarena::experiments
