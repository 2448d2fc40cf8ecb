// The fault-injecting OpenAI-compatible server of tests/llm_bridge/fault_server.py, started for
// one test and stopped when the object dies.
#pragma once

#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <vector>

#include "core/process.h"
#include "test_util.h"

namespace recarena::testing {

class FaultServer {
 public:
  FaultServer();
  // The next requests take these modes in order, then `fallback` (see fault_server.py); `answer`
  // is what `ok` answers ("hash": a label of the prompt chosen by its MD5). Resets the stats.
  void Script(const std::vector<std::string>& modes, const std::string& fallback = "ok",
              const std::string& answer = "b");
  nlohmann::json Stats();
  const std::string& base_url() const { return base_url_; }
  std::string port() const { return port_; }

 private:
  TempDir dir_;
  std::unique_ptr<ChildProcess> proc_;
  std::string port_, base_url_;
};

}  // namespace recarena::testing
