#include "experiments/train/online_shard.h"

#include <fmt/format.h>

#include <regex>
#include <vector>

#include "core/error.h"
#include "models/checkpoint.h"

namespace recarena::experiments {
namespace fs = std::filesystem;

env::VectorEnvOptions OnlineShard::Env(env::VectorEnvOptions base, bool divide) const {
  const int W = size();
  if (W == 1) return base;
  if (divide && base.num_envs % W != 0) {
    throw ConfigError("train.num_envs",
                      fmt::format("train.num_envs must be a multiple of the number of processes "
                                  "({}) for sharded simulation: got {}",
                                  W, base.num_envs));
  }
  base.num_envs = std::max<int64_t>(1, base.num_envs / W);
  base.episode_offset = rank();
  base.episode_stride = W;
  return base;
}

Rng OnlineShard::Stream(const Rng& base) const {
  return group == nullptr ? base : base.Fork(static_cast<uint64_t>(rank()) + 1);
}

void OnlineShard::Gather(EpisodeStats& stats) const {
  if (group == nullptr) return;
  std::vector<double> all;
  for (const auto* v : {&stats.returns, &stats.lengths, &stats.avg_rewards}) {
    all.insert(all.end(), v->begin(), v->end());
  }
  for (const auto* v : {&stats.consumed_counts, &stats.shown_counts}) {
    for (const int64_t c : *v) all.push_back(static_cast<double>(c));
  }
  all.push_back(static_cast<double>(stats.terminated));
  all.push_back(static_cast<double>(stats.truncated));
  // Float64 sums of values and zeros: exact, and the same on every rank.
  std::vector<torch::Tensor> t{torch::tensor(all, torch::kDouble)};
  group->AllReduceSum(t, "evaluation episodes");
  const double* p = t[0].data_ptr<double>();
  for (auto* v : {&stats.returns, &stats.lengths, &stats.avg_rewards}) {
    for (double& x : *v) x = *p++;
  }
  for (auto* v : {&stats.consumed_counts, &stats.shown_counts}) {
    for (int64_t& c : *v) c = static_cast<int64_t>(*p++);
  }
  stats.terminated = static_cast<int64_t>(*p++);
  stats.truncated = static_cast<int64_t>(*p++);
}

void OnlineShard::Gather(std::map<std::string, double>& sums,
                         std::map<std::string, int64_t>& counts) const {
  if (group == nullptr) return;
  std::vector<double> all{static_cast<double>(sums.size())};
  for (const auto& [k, v] : sums) {
    all.push_back(v);
    all.push_back(static_cast<double>(counts[k]));
  }
  // The key count first: ranks with other keys would reduce vectors of other lengths.
  std::vector<torch::Tensor> n{torch::tensor({all[0]}, torch::kDouble)};
  group->AllReduceSum(n, "segment metric count");
  if (n[0].item<double>() != all[0] * size()) {
    throw Error(
        fmt::format("rank {} of {}: the ranks' agents reported different metrics in a "
                    "segment ({} here)",
                    rank(), size(), sums.size()));
  }
  std::vector<torch::Tensor> t{torch::tensor(all, torch::kDouble)};
  group->AllReduceSum(t, "segment metrics");
  const double* p = t[0].data_ptr<double>() + 1;
  for (auto& [k, v] : sums) {
    v = *p++;
    counts[k] = static_cast<int64_t>(*p++);
  }
}

void OnlineShard::Broadcast(std::vector<int64_t>& values) const {
  if (group == nullptr) return;
  std::vector<torch::Tensor> t{torch::tensor(values, torch::kInt64)};
  group->Broadcast(t, 0, "resume point");
  for (size_t i = 0; i < values.size(); ++i)
    values[i] = t[0][static_cast<int64_t>(i)].item<int64_t>();
}

void OnlineShard::Barrier(const std::string& what) const {
  if (group != nullptr) group->Barrier(what);
}

fs::path RankStateFile(const fs::path& run_dir, int rank, int64_t step) {
  return run_dir / "ranks" / fmt::format("rank{}-step{}.pt", rank, step);
}

void WriteRankState(torch::serialize::OutputArchive& archive, const agents::OnlineAgent& agent,
                    const Rng& act_rng, int64_t step) {
  torch::serialize::OutputArchive agent_archive;
  agent.Save(agent_archive);
  archive.write("agent", agent_archive);
  archive.write("step", torch::tensor(step));
  archive.write("act_rng", models::StringToTensor(act_rng.SerializeState()));
  models::SaveTorchRng(archive);
}

int64_t ReadRankState(torch::serialize::InputArchive& archive, agents::OnlineAgent& agent,
                      Rng& act_rng) {
  torch::serialize::InputArchive agent_archive;
  archive.read("agent", agent_archive);
  agent.Load(agent_archive);
  torch::Tensor step, rng;  // fresh tensors per read (read set_()s in place)
  archive.read("step", step);
  archive.read("act_rng", rng);
  act_rng.DeserializeState(models::TensorToString(rng));
  models::LoadTorchRng(archive);
  return step.item<int64_t>();
}

void SaveRankState(const fs::path& file, const agents::OnlineAgent& agent, const Rng& act_rng,
                   int64_t step) {
  torch::serialize::OutputArchive archive;
  WriteRankState(archive, agent, act_rng, step);
  fs::create_directories(file.parent_path());
  models::SaveArchiveFile(file, archive);
}

void LoadRankState(const fs::path& file, agents::OnlineAgent& agent, Rng& act_rng, int64_t step) {
  if (!fs::exists(file)) {
    throw FileError(file.string(), 0,
                    fmt::format("this rank's state at step {} is missing: was the run started "
                                "with another number of processes?",
                                step));
  }
  models::LoadArchiveFile(file, [&](torch::serialize::InputArchive& archive) {
    const int64_t held = ReadRankState(archive, agent, act_rng);
    if (held != step) throw Error(fmt::format("holds step {}, rank 0 resumes at {}", held, step));
  });
}

void PruneRankStates(const fs::path& run_dir, int rank, int64_t keep_step) {
  const fs::path dir = run_dir / "ranks";
  if (!fs::exists(dir)) return;
  const std::regex name(fmt::format("rank{}-step([0-9]+)\\.pt", rank));
  for (const auto& entry : fs::directory_iterator(dir)) {
    std::smatch m;
    const std::string file = entry.path().filename().string();
    if (std::regex_match(file, m, name) && std::stoll(m[1].str()) != keep_step) {
      fs::remove(entry.path());
    }
  }
}

}  // namespace recarena::experiments
