// `recarena llm check | distill | oracle-server | cache stats | cache export | cache prune`: the
// LLM bridge (docs/llm.md).
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace recarena::experiments {
int RunLlmCheckCommand(const std::vector<std::string>& args, std::ostream& out);
int RunLlmDistillCommand(const std::vector<std::string>& args, std::ostream& out);
int RunLlmOracleServerCommand(const std::vector<std::string>& args, std::ostream& out);
int RunLlmCacheStats(const std::vector<std::string>& args, std::ostream& out);
int RunLlmCacheExport(const std::vector<std::string>& args, std::ostream& out);
int RunLlmCachePrune(const std::vector<std::string>& args, std::ostream& out);
}  // namespace recarena::experiments
