// `recarena llm check`: is the configured LLM there, and how does it answer the preference prompt?
// Lists the server's models, then asks n preference prompts (thesis Table 7.1) built from a
// simulator's dataset (histories from its start states, k random other items as candidates) or,
// without a simulator, from a small built-in movie catalog, and reports every answer, its parse,
// the latency and the token rates.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <ostream>
#include <string>

#include "core/config_schema.h"
#include "core/run_config.h"
#include "llm_bridge/llm_config.h"
#include "llm_bridge/prompt.h"

namespace recarena::experiments {

struct LlmCheckConfig {
  RunConfig run;  // run.seed draws the prompts
  llm_bridge::LlmConfig llm;
  llm_bridge::PromptOptions prompt;
  template <class V>
  void Visit(V& v) {
    v("run", run);
    v("llm", llm);
    v("prompt", prompt);
  }
  void Validate() const {
    run.Validate();
    llm.Validate();
    prompt.Validate();
  }
};

struct LlmCheckOptions {
  std::string sim;  // a fitted simulator directory, or '' for the built-in catalog
  int64_t prompts = 4;
  int64_t k = 10;
};

// Prints a line per answer to `log` and returns the JSON summary (models, answers, parse rate,
// latency and tokens per second). Throws llm_bridge::LlmError when the server cannot be reached.
nlohmann::json RunLlmCheck(const LlmCheckConfig& cfg, const LlmCheckOptions& options,
                           std::ostream& log);

}  // namespace recarena::experiments
