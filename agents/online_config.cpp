#include "agents/online_config.h"

#include <fmt/format.h>

#include <cmath>

#include "core/error.h"

namespace recarena::agents {
namespace {
template <class T>
[[noreturn]] void Bad(const std::string& key, const std::string& want, const T& got) {
  throw ConfigError("agent." + key,
                    "agent." + key + " must be " + want + ": got " + fmt::format("{}", got));
}
}  // namespace

void BadAgentOption(const std::string& key, const std::string& want, double got) {
  Bad(key, want, got);
}
void BadAgentOption(const std::string& key, const std::string& want, int64_t got) {
  Bad(key, want, got);
}

const OnlineAgentRow& OnlineAgentRowOf(OnlineAgentKind kind) {
  for (const auto& row : OnlineAgentRegistry())
    if (row.kind == kind) return row;
  throw ConfigError("agent.kind", "unknown agent.kind");
}

void OnlineAgentOptions::Validate() const {
  encoder.Validate();
  if (!(lr > 0) || !std::isfinite(lr)) Bad("lr", "> 0", lr);
  if (!(gamma >= 0 && gamma <= 1)) Bad("gamma", "in [0, 1]", gamma);
  if (!(grad_clip >= 0)) Bad("grad_clip", ">= 0 (0 = off)", grad_clip);
  for (const auto& row : OnlineAgentRegistry())
    if (row.validate != nullptr) row.validate(*this);
}

std::unique_ptr<OnlineAgent> MakeOnlineAgent(const OnlineAgentOptions& options,
                                             const policies::ExplorationOptions& exploration,
                                             int64_t num_items, torch::Device device,
                                             const torch::Tensor& popularity,
                                             std::shared_ptr<const env::Simulator> oracle_sim,
                                             const DtSetup* dt_setup, const IalpSetup* ialp_setup) {
  options.Validate();
  exploration.Validate();
  return OnlineAgentRowOf(options.kind)
      .make(OnlineAgentContext{options, exploration, num_items, device, popularity,
                               std::move(oracle_sim), dt_setup, ialp_setup});
}

}  // namespace recarena::agents
