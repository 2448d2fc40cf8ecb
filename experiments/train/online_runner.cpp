#include "experiments/train/online_runner.h"

#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <optional>

#include "agents/online_agent.h"
#include "core/atomic_file.h"
#include "core/config.h"
#include "core/error.h"
#include "core/log.h"
#include "core/rng.h"
#include "dist/grad_sync.h"
#include "env/simulator.h"
#include "env/vector_env.h"
#include "experiments/eval/metrics.h"
#include "experiments/eval/rollout.h"
#include "experiments/train/dt_setup.h"
#include "experiments/train/ialp_setup.h"
#include "models/checkpoint.h"
#include "models/device.h"

namespace recarena::experiments {
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {
template <class T>
[[noreturn]] void Bad(const std::string& key, const std::string& want, const T& got) {
  throw ConfigError(key, key + " must be " + want + ": got " + fmt::format("{}", got));
}
}  // namespace

void OnlineTrainConfig::Validate() const {
  if (total_steps < 1) Bad("train.total_steps", ">= 1", total_steps);
  if (num_envs < 1) Bad("train.num_envs", ">= 1", num_envs);
  if (eval_every < 1) Bad("train.eval_every", ">= 1", eval_every);
  if (steps_per_epoch < 1 || steps_per_epoch % eval_every != 0) {
    Bad("train.steps_per_epoch",
        "a positive multiple of train.eval_every (" + std::to_string(eval_every) + ")",
        steps_per_epoch);
  }
  if (eval_episodes < 1) Bad("train.eval_episodes", ">= 1", eval_episodes);
  if (eval_num_envs < 1) Bad("train.eval_num_envs", ">= 1", eval_num_envs);
}

void OnlineRunConfig::Validate() const {
  run.Validate();
  if (simulator.dir.empty()) {
    throw ConfigError("simulator.dir",
                      "simulator.dir is required: a directory written by `recarena sim fit`");
  }
  env::ParseRole(simulator.train_role);
  env::ParseRole(simulator.eval_role);
  agent.Validate();
  exploration.Validate();
  train.Validate();
  llm.Validate();
  prompt.Validate();
}

json ToJson(const OnlineEvaluation& e) {
  return json{{"step", e.step},
              {"user_steps", e.user_steps},
              {"return", e.return_mean},
              {"return_ci95", {e.return_lo, e.return_hi}},
              {"length", e.length_mean},
              {"length_ci95", {e.length_lo, e.length_hi}},
              {"avg_reward", e.ravg_mean},
              {"avg_reward_ci95", {e.ravg_lo, e.ravg_hi}},
              {"long_tail_share", e.long_tail_share},
              {"coverage", e.coverage},
              {"train_return", e.train_return},
              {"train_metrics", e.train_metrics}};
}

namespace {

OnlineEvaluation FromJson(const json& j) {
  OnlineEvaluation e;
  e.step = j.at("step").get<int64_t>();
  e.user_steps = j.at("user_steps").get<int64_t>();
  e.return_mean = j.at("return").get<double>();
  e.return_lo = j.at("return_ci95")[0].get<double>();
  e.return_hi = j.at("return_ci95")[1].get<double>();
  e.length_mean = j.at("length").get<double>();
  e.length_lo = j.at("length_ci95")[0].get<double>();
  e.length_hi = j.at("length_ci95")[1].get<double>();
  e.ravg_mean = j.at("avg_reward").get<double>();
  e.ravg_lo = j.at("avg_reward_ci95")[0].get<double>();
  e.ravg_hi = j.at("avg_reward_ci95")[1].get<double>();
  e.long_tail_share = j.value("long_tail_share", 0.0);
  e.coverage = j.value("coverage", 0.0);
  e.train_return = j.at("train_return").get<double>();
  e.train_metrics = j.at("train_metrics").get<std::map<std::string, double>>();
  return e;
}

OnlineEvaluation Evaluate(agents::OnlineAgent& agent, const OnlineRunConfig& cfg,
                          std::shared_ptr<const env::Simulator> sim, torch::Device device,
                          int64_t step, const std::vector<uint8_t>& long_tail,
                          const OnlineShard& shard) {
  // The same evaluation users and draws at every evaluation: episode seed and policy stream are
  // fixed functions of run.seed (and of the rank).
  Rng rng = shard.Stream(Rng(cfg.run.seed).Fork(4));
  const auto stats =
      RunAgentEpisodes(agent, std::move(sim), cfg.train, device, cfg.train.eval_episodes,
                       MixSeed(cfg.run.seed, 999), rng, shard);
  OnlineEvaluation e;
  e.step = step;
  e.user_steps = step * cfg.train.num_envs;
  const auto r = Summarize(stats.returns), l = Summarize(stats.lengths),
             a = Summarize(stats.avg_rewards);
  e.return_mean = r.mean;
  e.return_lo = r.lo;
  e.return_hi = r.hi;
  e.length_mean = l.mean;
  e.length_lo = l.lo;
  e.length_hi = l.hi;
  e.ravg_mean = a.mean;
  e.ravg_lo = a.lo;
  e.ravg_hi = a.hi;
  const ShownStats shown = SummarizeShown(stats, long_tail);
  e.long_tail_share = shown.long_tail_share;
  e.coverage = shown.coverage;
  return e;
}

struct RunnerState {
  int64_t step = 0;
  int64_t segment = 0;
  std::vector<OnlineEvaluation> history;
};

json Summary(const OnlineRunConfig& cfg, const std::vector<OnlineEvaluation>& history,
             const std::string& agent_name) {
  json s;
  s["agent"] = agent_name;
  s["exploration"] = config::EnumToString(cfg.exploration.kind);
  s["seed"] = cfg.run.seed;
  s["steps"] = history.empty() ? 0 : history.back().step;
  for (int e = 0; e <= 2; ++e) {
    for (const auto& h : history) {
      if (h.step == e * cfg.train.steps_per_epoch) {
        s[fmt::format("R@{}", e)] = h.return_mean;
        s[fmt::format("Len@{}", e)] = h.length_mean;
        s[fmt::format("R_avg@{}", e)] = h.ravg_mean;
      }
    }
  }
  if (!history.empty()) {
    const auto& f = history.back();
    s["R"] = f.return_mean;
    s["R_ci95"] = {f.return_lo, f.return_hi};
    s["Len"] = f.length_mean;
    s["Len_ci95"] = {f.length_lo, f.length_hi};
    s["R_avg"] = f.ravg_mean;
    s["R_avg_ci95"] = {f.ravg_lo, f.ravg_hi};
    s["long_tail_share"] = f.long_tail_share;
    s["coverage"] = f.coverage;
  }
  return s;
}

void WriteOutputs(const fs::path& dir, const OnlineRunConfig& cfg,
                  const std::vector<OnlineEvaluation>& history, const std::string& agent_name) {
  std::string lines;
  for (const auto& h : history) lines += ToJson(h).dump() + "\n";
  WriteFileAtomic(dir / "metrics.jsonl", lines);
  const auto summary = Summary(cfg, history, agent_name);
  WriteFileAtomic(dir / "metrics.json", summary.dump(2) + "\n");
  std::string md = fmt::format("# Online run: {} ({} exploration, seed {})\n\n", agent_name,
                               config::EnumToString(cfg.exploration.kind), cfg.run.seed);
  md +=
      "| env steps | user steps | Return | Length | R_avg | long-tail share | coverage | train "
      "Return |\n|---|---|---|---|---|---|---|---|\n";
  for (const auto& h : history) {
    md += fmt::format(
        "| {} | {} | {:.3f} [{:.3f}, {:.3f}] | {:.2f} | {:.3f} | {:.3f} | {:.4f} | {:.3f} |\n",
        h.step, h.user_steps, h.return_mean, h.return_lo, h.return_hi, h.length_mean, h.ravg_mean,
        h.long_tail_share, h.coverage, h.train_return);
  }
  WriteFileAtomic(dir / "report.md", md);
}

void SaveCheckpoint(const fs::path& file, const agents::OnlineAgent& agent, const RunnerState& st,
                    const Rng& act_rng) {
  torch::serialize::OutputArchive archive;
  WriteRankState(archive, agent, act_rng, st.step);
  archive.write("segment", torch::tensor(st.segment));
  json h = json::array();
  for (const auto& e : st.history) h.push_back(ToJson(e));
  archive.write("history", models::JsonToTensor(h));
  models::SaveArchiveFile(file, archive, file.parent_path() / "config.yaml");
}

RunnerState LoadCheckpoint(const fs::path& file, agents::OnlineAgent& agent, Rng& act_rng) {
  RunnerState st;
  // Shape or entry mismatches (a checkpoint of another config) become errors naming the file.
  models::LoadArchiveFile(file, [&](torch::serialize::InputArchive& archive) {
    st.step = ReadRankState(archive, agent, act_rng);
    torch::Tensor segment, history;  // fresh tensors per read (read set_()s in place)
    archive.read("segment", segment);
    archive.read("history", history);
    st.segment = segment.item<int64_t>();
    for (const auto& e : models::TensorToJson(history)) st.history.push_back(FromJson(e));
  });
  return st;
}

// The run's agent (before any checkpoint is loaded), with LibTorch's generator seeded by run.seed.
std::unique_ptr<agents::OnlineAgent> BuildAgent(const OnlineRunConfig& cfg,
                                                const env::Simulator& train_sim,
                                                std::shared_ptr<const env::Simulator> eval_sim,
                                                torch::Device device) {
  std::optional<agents::DtSetup> dt;
  if (cfg.agent.kind == agents::OnlineAgentKind::kDt) dt = ResolveDtSetup(cfg, train_sim);
  const std::optional<agents::IalpSetup> ialp = ResolveIalpSetup(cfg, train_sim);
  torch::manual_seed(cfg.run.seed);
  auto popularity = torch::tensor(train_sim.logged_item_counts).to(torch::kFloat);
  return agents::MakeOnlineAgent(cfg.agent, cfg.exploration, train_sim.num_items, device,
                                 popularity, std::move(eval_sim), dt ? &*dt : nullptr,
                                 ialp ? &*ialp : nullptr);
}

}  // namespace

EpisodeStats RunAgentEpisodes(agents::OnlineAgent& agent, std::shared_ptr<const env::Simulator> sim,
                              const OnlineTrainConfig& train, torch::Device device,
                              int64_t episodes, uint64_t episode_seed, Rng& rng,
                              const OnlineShard& shard) {
  env::VectorEnvOptions vo;
  vo.num_envs = train.eval_num_envs;
  vo.mask_repeats = train.mask_repeats;
  vo.leave_enabled = train.leave_enabled;
  vo.device = device;
  env::VectorEnv venv(std::move(sim), shard.Env(vo, /*divide=*/false));
  const bool explore = train.eval_explore;
  auto stats = RunEpisodes(
      venv,
      [&](const env::StepResult& r) {
        return agent.Act(r.observation, r.candidate_mask, explore, rng).actions;
      },
      episodes, episode_seed,
      [&](const env::StepResult& before, const torch::Tensor& actions,
          const env::StepResult& after) {
        agent.Track(agents::MakeTransition(before, actions, after));
      });
  shard.Gather(stats);
  return stats;
}

LoadedOnlineRun LoadOnlineRun(const fs::path& run_dir) {
  for (const char* f : {"config.yaml", "checkpoint.pt"}) {
    if (!fs::exists(run_dir / f)) {
      throw FileError((run_dir / f).string(), 0,
                      "not an online run directory (written by `recarena online`)");
    }
  }
  LoadedOnlineRun out;
  out.cfg = config::Load<OnlineRunConfig>(run_dir / "config.yaml");
  out.cfg.Validate();
  out.device = models::ResolveDevice(out.cfg.run.device);
  auto train_sim = env::LoadSimulator(out.cfg.simulator.dir,
                                      env::ParseRole(out.cfg.simulator.train_role), out.device);
  out.eval_sim = env::LoadSimulator(out.cfg.simulator.dir,
                                    env::ParseRole(out.cfg.simulator.eval_role), out.device);
  out.cfg.agent.encoder.state_len = train_sim->state_len;
  out.agent = BuildAgent(out.cfg, *train_sim, out.eval_sim, out.device);
  Rng unused(0);
  LoadCheckpoint(run_dir / "checkpoint.pt", *out.agent, unused);
  return out;
}

OnlineRunResult RunOnline(const OnlineRunConfig& cfg_in, const fs::path& run_dir,
                          int64_t stop_after_segments, dist::ProcessGroup* group) {
  cfg_in.Validate();
  OnlineRunConfig cfg = cfg_in;
  const OnlineShard shard{group};
  env::VectorEnvOptions vo;
  vo.num_envs = cfg.train.num_envs;
  vo.mask_repeats = cfg.train.mask_repeats;
  vo.leave_enabled = cfg.train.leave_enabled;
  vo.device = models::ResolveDevice(cfg.run.device);
  vo = shard.Env(vo, /*divide=*/true);  // before anything is loaded: a bad split fails at once
  const auto device = vo.device;
  auto train_sim =
      env::LoadSimulator(cfg.simulator.dir, env::ParseRole(cfg.simulator.train_role), device);
  auto eval_sim =
      env::LoadSimulator(cfg.simulator.dir, env::ParseRole(cfg.simulator.eval_role), device);
  if (train_sim->num_items != eval_sim->num_items) {
    throw Error("simulator roles disagree on the catalog size");
  }
  // The agent's encoder reads the simulator's observation: its state length follows it.
  cfg.agent.encoder.state_len = train_sim->state_len;
  auto agent = BuildAgent(cfg, *train_sim, eval_sim, device);
  std::unique_ptr<dist::GradientSync> sync;
  if (group != nullptr) {
    sync = std::make_unique<dist::GradientSync>(*group);
    if (!agent->SetGradientSync(sync.get())) {
      throw Error(fmt::format(
          "agent.kind {} cannot run sharded over {} processes (docs/distributed.md lists the "
          "agents that can); run it as one process",
          config::EnumToString(cfg.agent.kind), shard.size()));
    }
    // The replicas start equal (BuildAgent seeded every rank alike); their dropout draws differ.
    torch::manual_seed(MixSeed(cfg.run.seed, 1000 + static_cast<uint64_t>(shard.rank())));
  }
  const std::vector<uint8_t> long_tail = LongTailFromPopularity(train_sim->logged_item_counts, 0.1);
  Rng act_rng = shard.Stream(Rng(cfg.run.seed).Fork(3));

  OnlineRunResult result;
  RunnerState st;
  const auto ckpt = run_dir / "checkpoint.pt";
  if (shard.lead() && fs::exists(ckpt)) {
    st = LoadCheckpoint(ckpt, *agent, act_rng);
    result.resumed = true;
    log::Info("resumed {} at step {} ({} evaluations)", run_dir.string(), st.step,
              st.history.size());
  }
  // Rank 0's resume point, for every rank; the others load their own state at that step.
  std::vector<int64_t> point{st.step, st.segment, st.history.empty() ? 0 : 1};
  shard.Broadcast(point);
  const bool fresh = point[2] == 0;
  if (!shard.lead() && !fresh) {
    st.step = point[0];
    st.segment = point[1];
    LoadRankState(RankStateFile(run_dir, shard.rank(), st.step), *agent, act_rng, st.step);
    result.resumed = true;
  }
  // Every rank's state at st.step: the other ranks' files first, then rank 0's checkpoint.pt (the
  // commit point), then the other ranks drop their older files.
  auto save = [&] {
    if (!shard.lead()) {
      SaveRankState(RankStateFile(run_dir, shard.rank(), st.step), *agent, act_rng, st.step);
    }
    shard.Barrier("rank states written");
    if (shard.lead()) {
      SaveCheckpoint(ckpt, *agent, st, act_rng);
      WriteOutputs(run_dir, cfg, st.history, agent->name());
    }
    shard.Barrier("checkpoint written");
    if (!shard.lead()) PruneRankStates(run_dir, shard.rank(), st.step);
  };
  if (fresh) {
    st.history.push_back(Evaluate(*agent, cfg, eval_sim, device, 0, long_tail, shard));
    save();
  }
  env::VectorEnv train_env(train_sim, vo);
  int64_t segments_now = 0;
  while (st.step < cfg.train.total_steps) {
    const int64_t len = std::min(cfg.train.eval_every, cfg.train.total_steps - st.step);
    auto r = train_env.Reset(MixSeed(cfg.run.seed, static_cast<uint64_t>(st.segment)));
    std::map<std::string, double> sums;
    std::map<std::string, int64_t> counts;
    double ret_sum = 0.0;
    int64_t episodes = 0;
    // Wall seconds of the segment's acting, simulating and learning (host time: on CUDA, queued
    // kernels are charged to whichever part next waits for them). Logged, never written to
    // metrics.jsonl (which a resumed run must reproduce byte for byte).
    using Clock = std::chrono::steady_clock;
    double act_s = 0.0, env_s = 0.0, learn_s = 0.0;
    auto seconds = [](Clock::time_point a, Clock::time_point b) {
      return std::chrono::duration<double>(b - a).count();
    };
    for (int64_t i = 0; i < len; ++i) {
      const auto c0 = Clock::now();
      auto sel = agent->Act(r.observation, r.candidate_mask, /*explore=*/true, act_rng);
      const auto c1 = Clock::now();
      auto next = train_env.Step(sel.actions);
      const auto c2 = Clock::now();
      auto t = agents::MakeTransition(r, sel.actions, next);
      if (i + 1 == len) t.truncated = t.truncated | t.terminated.logical_not();
      const auto observed = agent->Observe(t);
      const auto c3 = Clock::now();
      act_s += seconds(c0, c1);
      env_s += seconds(c1, c2);
      learn_s += seconds(c2, c3);
      for (const auto& [k, v] : observed) {
        sums[k] += v;
        ++counts[k];
      }
      auto ret = next.info.episode_return.to(torch::kCPU, torch::kDouble);
      for (size_t b = 0; b < next.info.final_episode_id.size(); ++b) {
        if (next.info.final_episode_id[b] >= 0) {
          ret_sum += ret[static_cast<int64_t>(b)].item<double>();
          ++episodes;
        }
      }
      r = std::move(next);
    }
    st.step += len;
    ++st.segment;
    shard.Gather(sums, counts);
    std::map<std::string, double> ret{{"return", ret_sum}};
    std::map<std::string, int64_t> eps{{"return", episodes}};
    shard.Gather(ret, eps);
    ret_sum = ret["return"];
    episodes = eps["return"];
    auto e = Evaluate(*agent, cfg, eval_sim, device, st.step, long_tail, shard);
    e.train_return = episodes > 0 ? ret_sum / static_cast<double>(episodes) : std::nan("");
    if (!std::isfinite(e.train_return)) e.train_return = 0.0;
    for (const auto& [k, v] : sums) e.train_metrics[k] = v / static_cast<double>(counts[k]);
    st.history.push_back(e);
    const double train_s = act_s + env_s + learn_s;
    const double rate = train_s > 0 ? static_cast<double>(len) / train_s : 0.0;
    const double per_step_ms = 1e3 / static_cast<double>(len);
    log::Info(
        "{} step {}/{}: {} Return {:.3f} [{:.3f}, {:.3f}] Length {:.2f} R_avg {:.3f} long-tail "
        "share {:.3f}; training {:.1f} env steps/s (act {:.2f}, env {:.2f}, learn {:.2f} ms per "
        "step), training ETA {:.0f} s",
        agent->name(), st.step, cfg.train.total_steps, cfg.simulator.eval_role, e.return_mean,
        e.return_lo, e.return_hi, e.length_mean, e.ravg_mean, e.long_tail_share, rate,
        act_s * per_step_ms, env_s * per_step_ms, learn_s * per_step_ms,
        rate > 0 ? static_cast<double>(cfg.train.total_steps - st.step) / rate : 0.0);
    save();
    if (stop_after_segments > 0 && ++segments_now >= stop_after_segments) break;
  }
  result.history = st.history;
  result.summary = Summary(cfg, st.history, agent->name());
  return result;
}

}  // namespace recarena::experiments
