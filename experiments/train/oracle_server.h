// The oracle teacher behind the same HTTP interface as an LLM (`recarena llm oracle-server`,
// docs/llm.md): an OpenAI-compatible server (POST /v1/chat/completions and /v1/completions, GET
// /v1/models; model id "oracle") that reads each preference prompt back into a choice query (the
// user from a "User: {user}" line of the template, the history and the labelled candidates from
// their item texts) and answers the label of the candidate the simulator role's truth prefers
// (OracleChooser), "None" when none reaches min_reward. A distillation pointed at it goes through
// the whole LLM path - prompt rendering, client, cache, parser - with a teacher whose preferences
// are known to be right: the control that tells the method's effect from the LLM's quality.
// Prompts it cannot read back are answered "I cannot tell." (the parser's "no choice").
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "data/dataset.h"
#include "experiments/train/oracle_chooser.h"
#include "llm_bridge/prompt.h"

namespace recarena::experiments {

struct DistillConfig;

class OracleServer {
 public:
  // prompt: the options the clients render with (item texts must match theirs; the template must
  // show {user}). Throws ConfigError naming prompt.template when it does not.
  OracleServer(std::shared_ptr<const env::Simulator> truth, const data::Dataset& dataset,
               const llm_bridge::PromptOptions& prompt, double min_reward);
  ~OracleServer();
  OracleServer(const OracleServer&) = delete;
  OracleServer& operator=(const OracleServer&) = delete;

  // Listens on 127.0.0.1:port (0 = a free port) in a background thread; returns the bound port.
  int Start(int port);
  // Blocks until the server stops (it serves until the process ends or Stop is called).
  void Wait();
  void Stop();

  // The answer to one prompt (what the server sends back as the completion).
  std::string Answer(const std::string& prompt);
  int64_t requests() const { return requests_.load(); }

 private:
  struct Net;  // Boost.Asio acceptor and threads (oracle_server.cpp)

  OracleChooser chooser_;
  llm_bridge::PromptBuilder prompts_;
  std::map<std::string, int64_t> item_by_text_, user_by_id_;
  std::mutex mu_;  // chooser_ is not thread-safe
  std::atomic<int64_t> requests_{0};
  std::unique_ptr<Net> net_;
};

// The server of a distill config: distill.sim's dataset and its role distill.oracle_role as the
// truth, distill.oracle_min, and prompt: with the dataset's default wording filled in.
std::unique_ptr<OracleServer> MakeOracleServer(const DistillConfig& cfg);

}  // namespace recarena::experiments
