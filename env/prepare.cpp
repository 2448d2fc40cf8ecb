#include "env/prepare.h"

#include "core/paths.h"
#include "core/rng.h"

namespace recarena::env {

std::filesystem::path ResolveSource(const DataConfig& cfg) {
  if (!cfg.source.empty()) return cfg.source;
  const std::string folder = DefaultDataFolder(cfg.dataset);
  return folder.empty() ? std::filesystem::path() : DataDir(folder);
}

SequenceUnit ResolveUnit(const Dataset& ds, SequenceUnit unit) {
  if (unit != SequenceUnit::kAuto) return unit;
  for (const auto& x : ds.interactions) {
    if (x.session >= 0) return SequenceUnit::kSession;
  }
  return SequenceUnit::kUser;
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
  const bool filtered = cfg.preprocess.min_item_freq > 1 || cfg.preprocess.min_seq_len > 1 ||
                        cfg.preprocess.keep != KeepInteractions::kAll;
  out.dataset = Preprocess(raw, cfg.preprocess, &out.preprocess_report);
  // Ground truth is indexed by the generator's ids; it stays valid only while preprocessing keeps ids.
  if (out.truth && filtered) out.truth.reset();
  out.unit = ResolveUnit(out.dataset, cfg.preprocess.sequence_unit);
  std::vector<Sequence> seqs = BuildSequences(out.dataset, out.unit);
  Rng split_rng = root.Fork(2);
  out.split = SplitSequences(out.dataset, seqs, cfg.split, split_rng);
  out.item_stats = ComputeItemStats(out.dataset, cfg.preprocess.long_tail_top_share);
  return out;
}

}  // namespace recarena::env
