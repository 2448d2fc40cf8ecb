#include "data/prepare.h"

#include "core/error.h"
#include "core/paths.h"
#include "core/rng.h"
#include "core/strings.h"

#include <algorithm>

namespace recarena::data {

std::filesystem::path ResolveSource(const DataConfig& cfg) {
  if (!cfg.source.empty()) return cfg.source;
  const std::string folder = DefaultDataFolder(cfg.dataset);
  return folder.empty() ? std::filesystem::path() : DataDir(folder);
}

PreparedDataset PrepareDataset(const DataConfig& cfg, uint64_t seed) {
  PreparedDataset out;
  const Rng root(seed);
  Dataset raw;
  if (cfg.dataset == DatasetKind::kSynthetic) {
    Rng world_rng = root.Fork(1);
    SyntheticWorld world = GenerateSyntheticWorld(cfg.synthetic, world_rng);
    raw = std::move(world.dataset);
    out.truth = std::move(world.truth);
  } else {
    LoadOptions opts;
    opts.skip_bad_lines = cfg.skip_bad_lines;
    opts.csv = cfg.csv;
    raw = LoadDataset(cfg.dataset, ResolveSource(cfg), opts, &out.load_report);
  }
  if (!cfg.parts.empty()) {
    // Keep only the named parts (the part list itself is unchanged so part indices stay valid).
    std::vector<uint8_t> keep(raw.parts.size(), 0);
    for (const auto& name : cfg.parts) {
      auto it = std::find(raw.parts.begin(), raw.parts.end(), name);
      if (it == raw.parts.end()) {
        throw ConfigError("data.parts", "data.parts: dataset '" + raw.name + "' has no part '" +
                                            name + "'" + DidYouMean(name, raw.parts) +
                                            "; parts: " + Join(raw.parts, ", "));
      }
      keep[static_cast<size_t>(it - raw.parts.begin())] = 1;
    }
    std::vector<Interaction> kept;
    for (const auto& x : raw.interactions) {
      if (keep[x.part]) kept.push_back(x);
    }
    raw.interactions.swap(kept);
  }
  const bool filtered = cfg.preprocess.AnyRemovingFilter();
  out.dataset = Preprocess(raw, cfg.preprocess, &out.preprocess_report);
  // Ground truth is indexed by the generator's ids; it stays valid only while preprocessing keeps
  // ids.
  if (out.truth && filtered) out.truth.reset();
  out.unit = ResolveSequenceUnit(out.dataset, cfg.preprocess.sequence_unit);
  std::vector<Sequence> seqs = BuildSequences(out.dataset, out.unit);
  Rng split_rng = root.Fork(2);
  out.split = SplitSequences(out.dataset, seqs, cfg.split, split_rng);
  out.item_stats = ComputeItemStats(out.dataset, cfg.preprocess.long_tail_top_share);
  if (cfg.perturb.kind != PerturbKind::kNone) {
    Rng perturb_rng = cfg.perturb.seed != 0 ? Rng(cfg.perturb.seed) : root.Fork(7);
    out.perturbation =
        Perturb(&out.split.train, out.dataset.items.size(), cfg.perturb, perturb_rng);
  }
  return out;
}

}  // namespace recarena::data
