#include "fault_server.h"

#include <chrono>
#include <fstream>
#include <thread>

#include "core/error.h"
#include "llm_bridge/http_connection.h"

namespace recarena::testing {

FaultServer::FaultServer() {
  const auto port_file = dir_.path() / "port";
  proc_ = std::make_unique<ChildProcess>(
      PythonInterpreter(),
      std::vector<std::string>{
          std::string(RECARENA_SOURCE_DIR) + "/tests/llm_bridge/fault_server.py", "--port-file",
          port_file.string()},
      dir_.path() / "server.log");
  for (int i = 0; i < 300 && !std::filesystem::exists(port_file); ++i) {
    if (!proc_->Running()) throw Error("fault_server.py exited at start (see its log)");
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  std::ifstream in(port_file);
  if (!(in >> port_)) throw Error("fault_server.py did not write its port within 15 s");
  base_url_ = "http://127.0.0.1:" + port_ + "/v1";
}

void FaultServer::Script(const std::vector<std::string>& modes, const std::string& fallback,
                         const std::string& answer) {
  llm_bridge::HttpConnection c(llm_bridge::ParseBaseUrl(base_url_), "");
  nlohmann::json body{{"script", modes}, {"default", fallback}, {"answer", answer}};
  const auto r = c.Exchange("POST", "/_control", {}, body.dump(), 10);
  if (r.status != 200) throw Error("fault server: /_control answered " + std::to_string(r.status));
}

nlohmann::json FaultServer::Stats() {
  llm_bridge::HttpConnection c(llm_bridge::ParseBaseUrl(base_url_), "");
  const auto r = c.Exchange("GET", "/_stats", {}, "", 10);
  return nlohmann::json::parse(r.body);
}

}  // namespace recarena::testing
