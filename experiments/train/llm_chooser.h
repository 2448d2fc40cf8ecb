// The LLM behind agents::CandidateChooser (thesis Eq. 7.2): each query is rendered into the
// preference prompt (llm_bridge/prompt.h), all of a step's prompts go to the LLM together
// (llm_bridge/llm_client.h: concurrency, retries, cache), and each answer is parsed
// (llm_bridge/answer_parser.h). It counts what every run reports: the parse rate, the kinds of
// answers, and the choice distribution over candidate positions (position bias).
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "agents/candidate_chooser.h"
#include "core/config_schema.h"
#include "data/dataset.h"
#include "llm_bridge/answer_parser.h"
#include "llm_bridge/llm_client.h"
#include "llm_bridge/prompt.h"

namespace recarena::experiments {

struct ChooserStats {
  int64_t queries = 0, failed_calls = 0;
  std::vector<int64_t> kinds = std::vector<int64_t>(5, 0);  // by llm_bridge::ChoiceKind
  std::vector<int64_t> positions;  // picks per candidate position (a, b, ...)
  double seconds = 0;
  // parse_rate = (queries whose answer was a pick or "none") / queries; pick_rate and none_rate;
  // kinds by name; positions with their share; seconds per query.
  nlohmann::json ToJson() const;
  void Load(const nlohmann::json& j);  // the counts back from ToJson (resume)
};

// A chooser that keeps what a distillation run records of every step: the raw answers, their
// parses and the counts. LlmChooser and OracleChooser (oracle_chooser.h) are the two kinds.
class RecordingChooser : public agents::CandidateChooser {
 public:
  double seconds() const override { return stats_.seconds; }
  // The raw answers of the last Choose, in order, and their parses (D_LLM keeps them).
  const std::vector<std::string>& last_answers() const { return last_answers_; }
  const std::vector<llm_bridge::Choice>& last_choices() const { return last_choices_; }
  ChooserStats& stats() { return stats_; }
  // The transport's counters for the run's summary (requests, latency, tokens); {} when none.
  virtual nlohmann::json Metrics() const { return nlohmann::json::object(); }

 protected:
  // Records the parses of one Choose (last_choices, counts) and returns its results.
  std::vector<agents::ChoiceResult> Record(std::vector<llm_bridge::Choice> choices, double seconds);

  ChooserStats stats_;
  std::vector<std::string> last_answers_;
  std::vector<llm_bridge::Choice> last_choices_;
};

class LlmChooser : public RecordingChooser {
 public:
  // catalog: the items' texts (the simulator's dataset), users: their external ids (for the
  // {user} placeholder). llm.on_failure says what a failed call does. Throws like LlmClient's
  // constructor.
  LlmChooser(const llm_bridge::LlmConfig& llm, const llm_bridge::PromptOptions& prompt,
             const data::ItemCatalog& catalog, const data::UserTable& users);

  std::vector<agents::ChoiceResult> Choose(const std::vector<agents::ChoiceQuery>& q) override;
  nlohmann::json Metrics() const override { return client_.metrics().ToJson(); }

  // The prompt of a query (what Choose sends), and the parse of an answer to it.
  std::string Prompt(const agents::ChoiceQuery& q) const;
  llm_bridge::Choice Parse(const std::string& answer, const agents::ChoiceQuery& q) const;

  llm_bridge::LlmClient& client() { return client_; }

 private:
  llm_bridge::LlmClient client_;
  llm_bridge::PromptBuilder prompts_;
  std::vector<std::string> user_ids_;
  llm_bridge::LlmFailure on_failure_;
};

}  // namespace recarena::experiments
