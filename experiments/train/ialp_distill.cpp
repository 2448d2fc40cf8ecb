#include "experiments/train/ialp_distill.h"

#include <fmt/format.h>

#include <chrono>
#include <sstream>

#include "agents/actor_critic.h"
#include "agents/llm_online.h"
#include "agents/replay_buffer.h"
#include "core/atomic_file.h"
#include "core/config.h"
#include "core/error.h"
#include "core/log.h"
#include "core/progress.h"
#include "core/rng.h"
#include "env/simulator.h"
#include "experiments/train/oracle_chooser.h"
#include "experiments/train/trained_run.h"
#include "models/checkpoint.h"
#include "models/device.h"

namespace recarena::experiments {

namespace fs = std::filesystem;
using nlohmann::json;

void DistillOptions::Validate() const {
  auto bad = [](const std::string& key, const std::string& want, auto got) {
    return ConfigError("distill." + key,
                       fmt::format("distill.{} must be {}: got {}", key, want, got));
  };
  if (sim.empty()) throw ConfigError("distill.sim", "distill.sim must name a fitted simulator");
  try {
    env::ParseRole(role);
  } catch (const Error& e) {
    throw ConfigError("distill.role", std::string("distill.role: ") + e.what());
  }
  if (iterations < 1) throw bad("iterations", ">= 1", iterations);
  if (num_envs < 1 || num_envs > 4096) throw bad("num_envs", "in 1..4096", num_envs);
  if (episode_len < 1) throw bad("episode_len", ">= 1", episode_len);
  if (k < 1 || k > 25) throw bad("k", "in 1..25 (labels a..y)", k);
  if (batch_size < 1) throw bad("batch_size", ">= 1", batch_size);
  if (updates_per_step < 0) throw bad("updates_per_step", ">= 0", updates_per_step);
  if (learning_starts < 1) throw bad("learning_starts", ">= 1", learning_starts);
  if (buffer_size < 1) throw bad("buffer_size", ">= 1", buffer_size);
  try {
    env::ParseRole(oracle_role);
  } catch (const Error& e) {
    throw ConfigError("distill.oracle_role", std::string("distill.oracle_role: ") + e.what());
  }
}

void DistillConfig::Validate() const {
  run.Validate();
  distill.Validate();
  agent.Validate();
  llm.Validate();
  prompt.Validate();
}

namespace {

// Allowed candidates [B, N]: everything, or everything outside each history.
torch::Tensor CandidateMask(const std::vector<std::vector<int64_t>>& hist, int64_t N,
                            bool mask_history) {
  auto m = torch::ones({static_cast<int64_t>(hist.size()), N}, torch::kBool);
  if (!mask_history) return m;
  auto* mp = m.data_ptr<bool>();
  for (size_t b = 0; b < hist.size(); ++b)
    for (int64_t i : hist[b]) mp[static_cast<int64_t>(b) * N + i] = false;
  return m;
}

std::vector<std::string> ExternalIds(const std::vector<int64_t>& ids,
                                     const data::ItemCatalog& catalog) {
  std::vector<std::string> out;
  out.reserve(ids.size());
  for (int64_t i : ids) out.push_back(catalog.external_ids[static_cast<size_t>(i)]);
  return out;
}

struct LoopState {
  int64_t iteration = 0;
  std::vector<json> rows;     // D_LLM, one per transition
  std::vector<json> history;  // metrics.jsonl lines
};

void WriteOutputs(const fs::path& dir, const LoopState& st) {
  WriteFileAtomic(dir / "d_llm.jsonl", [&](std::ostream& os) {
    for (const auto& r : st.rows) os << r.dump() << "\n";
  });
  WriteFileAtomic(dir / "d_llm.csv", [&](std::ostream& os) {
    os << "episode,item,step,reward\n";
    for (const auto& r : st.rows)
      os << r["episode"].get<int64_t>() << "," << r["action"].get<std::string>() << ","
         << r["step"].get<int64_t>() << "," << r["reward"].get<double>() << "\n";
  });
  WriteFileAtomic(dir / "metrics.jsonl", [&](std::ostream& os) {
    for (const auto& h : st.history) os << h.dump() << "\n";
  });
}

void SaveCheckpoint(const fs::path& dir, agents::ActorCritic& net,
                    const agents::ReplayBuffer& buffer, const Rng& rng, const LoopState& st,
                    const ChooserStats& stats) {
  torch::serialize::OutputArchive a, n, b;
  net.Save(n);
  a.write("net", n);
  buffer.Save(b);
  a.write("buffer", b);
  a.write("iteration", torch::tensor(st.iteration, torch::kInt64));
  a.write("rng", models::StringToTensor(rng.SerializeState()));
  json rows = st.rows, hist = st.history;
  a.write("rows", models::StringToTensor(rows.dump()));
  a.write("history", models::StringToTensor(hist.dump()));
  a.write("chooser", models::StringToTensor(stats.ToJson().dump()));
  models::SaveTorchRng(a);
  models::SaveArchiveFile(dir / "checkpoint.pt", a, dir / "config.yaml");
}

void LoadCheckpoint(const fs::path& file, agents::ActorCritic& net, agents::ReplayBuffer& buffer,
                    Rng& rng, LoopState& st, ChooserStats& stats) {
  models::LoadArchiveFile(file, [&](torch::serialize::InputArchive& a) {
    torch::serialize::InputArchive n, b;
    a.read("net", n);
    net.Load(n);
    a.read("buffer", b);
    buffer.Load(b);
    auto read = [&](const char* key) {
      torch::Tensor t;
      a.read(key, t);
      return t;
    };
    st.iteration = read("iteration").item<int64_t>();
    rng.DeserializeState(models::TensorToString(read("rng")));
    st.rows = models::TensorToJson(read("rows")).get<std::vector<json>>();
    st.history = models::TensorToJson(read("history")).get<std::vector<json>>();
    stats.Load(models::TensorToJson(read("chooser")));
    models::LoadTorchRng(a);
  });
}

std::string TeacherName(const DistillConfig& cfg) {
  return cfg.distill.teacher == DistillTeacher::kLlm ? cfg.llm.model
                                                     : "oracle (" + cfg.distill.oracle_role + ")";
}

}  // namespace

DistillResult RunDistill(const DistillConfig& cfg, const fs::path& dir,
                         int64_t stop_after_iterations) {
  cfg.Validate();
  const DistillOptions& o = cfg.distill;
  const torch::Device device = models::ResolveDevice(cfg.run.device);
  const auto sim = env::LoadSimulator(o.sim, env::ParseRole(o.role));
  const data::PreparedDataset data = SimulatorDataset(o.sim);
  const auto& catalog = data.dataset.items;
  if (catalog.size() != sim->num_items)
    throw FileError((fs::path(o.sim) / "config.yaml").string(), 0,
                    fmt::format("distill.sim: the prepared dataset has {} items, the simulator {}",
                                catalog.size(), sim->num_items));
  const int64_t N = sim->num_items, L = sim->state_len, B = o.num_envs, T = o.episode_len;
  std::unique_ptr<RecordingChooser> teacher;
  if (o.teacher == DistillTeacher::kLlm)
    teacher = std::make_unique<LlmChooser>(
        cfg.llm, llm_bridge::WithDatasetDefaults(cfg.prompt, data.dataset.name), catalog,
        data.dataset.users);
  else
    teacher = std::make_unique<OracleChooser>(
        env::LoadSimulator(o.sim, env::ParseRole(o.oracle_role)), o.oracle_min);
  RecordingChooser& chooser = *teacher;

  torch::manual_seed(cfg.run.seed);
  models::EncoderOptions enc = cfg.agent.encoder;
  enc.state_len = L;
  agents::ActorCritic net(enc, N, N, cfg.agent.lr, cfg.agent.grad_clip, device);
  agents::ReplayBuffer buffer(std::min(o.buffer_size, o.iterations * B * T), L);
  Rng rng = Rng(cfg.run.seed).Fork(71);
  LoopState st;
  DistillResult result;
  if (fs::exists(dir / "checkpoint.pt")) {
    LoadCheckpoint(dir / "checkpoint.pt", net, buffer, rng, st, chooser.stats());
    result.resumed = true;
    log::Info("distill: resuming {} at iteration {}/{}", dir.string(), st.iteration, o.iterations);
  }
  Progress progress("distill", o.iterations * T);
  progress.Resume(st.iteration * T);
  const auto t_start = std::chrono::steady_clock::now();
  int64_t done_now = 0;
  while (st.iteration < o.iterations) {
    std::vector<std::vector<int64_t>> hist(static_cast<size_t>(B));
    std::vector<int64_t> users(static_cast<size_t>(B));
    for (int64_t b = 0; b < B; ++b) {
      const uint64_t episode = static_cast<uint64_t>(st.iteration * B + b);
      Rng er = Rng(cfg.run.seed).Fork(7000 + episode);
      const auto& start = sim->starts[er.UniformInt(sim->starts.size())];
      hist[static_cast<size_t>(b)] = start.items;
      users[static_cast<size_t>(b)] = start.user;
    }
    double reward_sum = 0;
    torch::Tensor actor_sum = torch::zeros({}, torch::kDouble),
                  critic_sum = torch::zeros({}, torch::kDouble);  // read once per iteration
    int64_t updates = 0;
    for (int64_t t = 0; t < T; ++t) {
      const env::Observation obs = HistoryObservation(hist, users, L, N, t);
      const torch::Tensor mask = CandidateMask(hist, N, o.mask_history);
      torch::Tensor logits;
      {
        torch::NoGradGuard ng;
        logits = net.Forward(obs.items, obs.lengths, /*train=*/false).logits;
      }
      const auto cands = agents::LlmOnlineAgent::Candidates(
          logits, mask, o.k, o.candidates == agents::CandidateSampling::kSample, rng);
      std::vector<agents::ChoiceQuery> queries(static_cast<size_t>(B));
      for (int64_t b = 0; b < B; ++b)
        queries[static_cast<size_t>(b)] = {users[static_cast<size_t>(b)],
                                           hist[static_cast<size_t>(b)],
                                           cands[static_cast<size_t>(b)]};
      const auto results = chooser.Choose(queries);  // Eq. 7.2
      auto actions = torch::empty({B}, torch::kInt64);
      auto rewards = torch::empty({B}, torch::kFloat);
      for (int64_t b = 0; b < B; ++b) {
        const auto& q = queries[static_cast<size_t>(b)];
        const auto& r = results[static_cast<size_t>(b)];
        const bool picked =
            r.position >= 0 && r.position < static_cast<int64_t>(q.candidates.size());
        const int64_t a = picked ? q.candidates[static_cast<size_t>(r.position)]
                                 : q.candidates[rng.UniformInt(q.candidates.size())];
        actions[b] = a;
        rewards[b] = picked ? 1.0f : 0.0f;  // Eq. 7.3
        reward_sum += picked ? 1.0 : 0.0;
        const auto& c = chooser.last_choices()[static_cast<size_t>(b)];
        st.rows.push_back(
            json{{"iteration", st.iteration},
                 {"episode", st.iteration * B + b},
                 {"step", t},
                 {"user", data.dataset.users.external_ids[static_cast<size_t>(q.user)]},
                 {"history", ExternalIds(q.history, catalog)},
                 {"candidates", ExternalIds(q.candidates, catalog)},
                 {"answer", chooser.last_answers()[static_cast<size_t>(b)]},
                 {"kind", llm_bridge::ChoiceKindName(c.kind)},
                 {"position", c.index},
                 {"action", catalog.external_ids[static_cast<size_t>(a)]},
                 {"reward", picked ? 1.0 : 0.0}});
        hist[static_cast<size_t>(b)].push_back(a);
      }
      agents::Transition tr;
      tr.obs = obs;
      tr.mask = mask;
      tr.actions = actions;
      tr.rewards = rewards;
      tr.next_obs = HistoryObservation(hist, users, L, N, t + 1);
      tr.next_mask = CandidateMask(hist, N, o.mask_history);
      tr.terminated = torch::zeros({B}, torch::kBool);
      tr.truncated = torch::full({B}, t == T - 1, torch::kBool);
      tr.accepted = rewards > 0;
      buffer.Add(tr);
      for (int64_t u = 0; u < o.updates_per_step && buffer.size() >= o.learning_starts; ++u) {
        const auto batch = buffer.Sample(o.batch_size, cfg.agent.gamma, rng, device);
        const torch::Tensor target =
            agents::ThesisTdTarget(net, batch.next_obs.items, batch.next_obs.lengths,
                                   batch.next_mask, batch.rewards, batch.discounts);
        auto out = net.Forward(batch.obs.items, batch.obs.lengths, /*train=*/true);
        const auto l = agents::ThesisA2cLoss(out.critic, torch::log_softmax(out.logits, 1),
                                             batch.actions, target);  // Eqs. 7.6-7.10
        net.Step(l.actor + cfg.agent.a2c.value_coef * l.critic);
        actor_sum += l.actor.detach().to(torch::kCPU, torch::kDouble);
        critic_sum += l.critic.detach().to(torch::kCPU, torch::kDouble);
        ++updates;
      }
      progress.Add(1);
    }
    st.history.push_back(json{{"iteration", st.iteration},
                              {"reward_mean", reward_sum / static_cast<double>(B * T)},
                              {"updates", updates},
                              {"actor_loss", updates ? actor_sum.item<double>() / updates : 0.0},
                              {"critic_loss", updates ? critic_sum.item<double>() / updates : 0.0},
                              {"transitions", buffer.num_added()}});
    ++st.iteration;
    ++done_now;
    WriteOutputs(dir, st);  // before the checkpoint: a resume rewrites them from its state
    SaveCheckpoint(dir, net, buffer, rng, st, chooser.stats());
    if (stop_after_iterations > 0 && done_now >= stop_after_iterations &&
        st.iteration < o.iterations) {
      result.iterations_done = st.iteration;
      result.transitions = static_cast<int64_t>(st.rows.size());
      return result;
    }
  }
  progress.Finish();
  torch::serialize::OutputArchive agent, n;
  net.Save(n);
  agent.write("net", n);
  models::SaveArchiveFile(dir / "agent.pt", agent, dir / "config.yaml");
  const double wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();
  json summary;
  summary["transitions"] = st.rows.size();
  summary["iterations"] = st.iteration;
  summary["num_items"] = N;
  summary["dataset"] = data.dataset.name;
  summary["chooser"] = chooser.stats().ToJson();
  summary["llm"] = chooser.Metrics();
  summary["teacher"] = TeacherName(cfg);
  summary["wall_s_this_session"] = wall;
  WriteFileAtomic(dir / "distill.json", summary.dump(2) + "\n");
  std::ostringstream md;
  const json& ch = summary["chooser"];
  md << "# iALP distillation: " << cfg.run.name << " (" << data.dataset.name << ", LLM "
     << TeacherName(cfg) << ")\n\n"
     << fmt::format(
            "{} transitions in {} iterations x {} episodes x {} steps; k = {} candidates "
            "({}).\n\n",
            st.rows.size(), st.iteration, B, T, o.k, config::EnumToString(o.candidates))
     << fmt::format(
            "| parse rate | pick rate (r^p = 1) | none rate | s per query |\n|---|---|---|---|\n"
            "| {:.3f} | {:.3f} | {:.3f} | {:.3f} |\n\n",
            ch["parse_rate"].get<double>(), ch["pick_rate"].get<double>(),
            ch["none_rate"].get<double>(), ch["seconds_per_query"].get<double>())
     << "Picks by candidate position (a, b, ...): " << ch["positions"].dump() << "\n";
  WriteFileAtomic(dir / "report.md", md.str());
  result.iterations_done = st.iteration;
  result.transitions = static_cast<int64_t>(st.rows.size());
  result.finished = true;
  result.summary = summary;
  return result;
}

}  // namespace recarena::experiments
