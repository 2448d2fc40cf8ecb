#include "experiments/train/ialp_setup.h"

#include <fmt/format.h>

#include "core/config.h"
#include "core/error.h"
#include "experiments/train/ialp_distill.h"
#include "experiments/train/llm_chooser.h"
#include "experiments/train/trained_run.h"

namespace recarena::experiments {

namespace fs = std::filesystem;

std::optional<agents::IalpSetup> ResolveIalpSetup(const OnlineRunConfig& cfg,
                                                  const env::Simulator& train_sim) {
  using K = agents::OnlineAgentKind;
  const K kind = cfg.agent.kind;
  if (kind != K::kIalp && kind != K::kIalpFt && kind != K::kIalpAp && kind != K::kLlmOnline)
    return std::nullopt;
  const agents::IalpOptions& o = cfg.agent.ialp;
  agents::IalpSetup setup;
  setup.encoder = cfg.agent.encoder;
  if (!o.init_from.empty()) {
    const fs::path dir = o.init_from;
    const fs::path config_file = dir / "config.yaml", agent = dir / "agent.pt";
    if (!fs::exists(config_file) || !fs::exists(agent))
      throw FileError((fs::exists(config_file) ? agent : config_file).string(), 0,
                      "agent.ialp.init_from: not found (" + QuoteForError(dir.string()) +
                          " must be a finished run directory of `recarena llm distill`)");
    const auto distill = config::Load<DistillConfig>(config_file);
    const auto sim = env::LoadSimulator(distill.distill.sim, env::ParseRole(distill.distill.role));
    if (sim->num_items != train_sim.num_items || sim->state_len != train_sim.state_len)
      throw FileError(
          config_file.string(), 0,
          fmt::format("agent.ialp.init_from: distilled over {} items with state_len "
                      "{}, but this simulator has {} items and state_len {}",
                      sim->num_items, sim->state_len, train_sim.num_items, train_sim.state_len));
    setup.encoder = distill.agent.encoder;
    setup.init_checkpoint = agent.string();
  }
  setup.encoder.num_items = train_sim.num_items;
  setup.encoder.state_len = train_sim.state_len;
  if (kind == K::kLlmOnline) {
    const data::PreparedDataset data = SimulatorDataset(cfg.simulator.dir);
    setup.chooser = std::make_shared<LlmChooser>(
        cfg.llm, llm_bridge::WithDatasetDefaults(cfg.prompt, data.dataset.name), data.dataset.items,
        data.dataset.users);
  }
  return setup;
}

}  // namespace recarena::experiments
