#include "agents/llm_online.h"

#include <algorithm>
#include <cmath>

#include "agents/online_config.h"
#include "core/error.h"
#include "policies/baseline_policies.h"
#include "policies/exploration.h"

namespace recarena::agents {

LlmOnlineAgent::LlmOnlineAgent(const OnlineAgentOptions& options, const IalpSetup& setup,
                               const policies::ExplorationOptions& exploration, int64_t num_items,
                               torch::Device device)
    : chooser_(setup.chooser),
      k_(options.ialp.k),
      sample_(options.ialp.candidates == CandidateSampling::kSample),
      llm_in_eval_(options.ialp.llm_in_eval) {
  if (!chooser_) throw Error("llm_online: no LLM chooser was configured");
  OnlineAgentOptions o = options;
  o.encoder = setup.encoder;
  o.a2c.variant = A2cVariant::kThesis;
  inner_ = std::make_unique<A2cAgent>(o, exploration, num_items, device, "llm_online", true);
  LoadDistilledNetworks(setup.init_checkpoint,
                        [&](torch::serialize::InputArchive& a) { inner_->InitNetworks(a); });
}

std::vector<std::vector<int64_t>> LlmOnlineAgent::Candidates(const torch::Tensor& logits,
                                                             const torch::Tensor& mask, int64_t k,
                                                             bool sample, Rng& rng) {
  const auto s = logits.detach().to(torch::kCPU, torch::kFloat).contiguous();
  const auto m = mask.to(torch::kCPU, torch::kBool).contiguous();
  const int64_t B = s.size(0), N = s.size(1);
  const float* sp = s.data_ptr<float>();
  const bool* mp = m.data_ptr<bool>();
  std::vector<std::vector<int64_t>> out(static_cast<size_t>(B));
  std::vector<std::pair<double, int64_t>> row;
  for (int64_t b = 0; b < B; ++b) {
    row.clear();
    for (int64_t i = 0; i < N; ++i) {
      if (!mp[b * N + i]) continue;
      double v = sp[b * N + i];
      if (sample) {  // Gumbel top-k = k draws without replacement from softmax(logits)
        double u = rng.Uniform();
        while (u <= 0.0) u = rng.Uniform();
        v += -std::log(-std::log(u));
      }
      row.emplace_back(v, i);
    }
    const size_t kk = std::min(row.size(), static_cast<size_t>(k));
    std::partial_sort(row.begin(), row.begin() + static_cast<std::ptrdiff_t>(kk), row.end(),
                      [](const auto& a, const auto& b) {
                        return a.first > b.first || (a.first == b.first && a.second < b.second);
                      });
    for (size_t j = 0; j < kk; ++j) out[static_cast<size_t>(b)].push_back(row[j].second);
  }
  return out;
}

policies::ActionSelection LlmOnlineAgent::Act(const env::Observation& obs,
                                              const torch::Tensor& mask, bool explore, Rng& rng) {
  if (!explore && !llm_in_eval_) return inner_->Act(obs, mask, false, rng);
  const torch::Tensor logits = inner_->Scores(obs);
  const auto m = mask.to(logits.device());
  const auto cands = Candidates(logits, m, k_, sample_ && explore, rng);
  const auto items = obs.items.to(torch::kCPU).contiguous();
  const auto lengths = obs.lengths.to(torch::kCPU).contiguous();
  const auto users = obs.users.to(torch::kCPU).contiguous();
  const int64_t B = items.size(0), L = items.size(1);
  std::vector<ChoiceQuery> queries(static_cast<size_t>(B));
  for (int64_t b = 0; b < B; ++b) {
    auto& q = queries[static_cast<size_t>(b)];
    q.user = users[b].item<int64_t>();
    const int64_t len = lengths[b].item<int64_t>();
    const int64_t* row = items.data_ptr<int64_t>() + b * L;
    q.history.assign(row, row + len);
    q.candidates = cands[static_cast<size_t>(b)];
    if (q.candidates.empty()) throw Error("llm_online: a row has no allowed item");
  }
  const double t0 = chooser_->seconds();
  const auto results = chooser_->Choose(queries);
  llm_seconds_ += chooser_->seconds() - t0;
  auto actions = torch::empty({B}, torch::kInt64);
  for (int64_t b = 0; b < B; ++b) {
    const auto& c = queries[static_cast<size_t>(b)].candidates;
    const int64_t pos = results[static_cast<size_t>(b)].position;
    ++asked_;
    if (pos >= 0 && pos < static_cast<int64_t>(c.size())) {
      ++picks_;
      actions[b] = c[static_cast<size_t>(pos)];
    } else {  // Eq. 7.2's fallback: a random candidate
      actions[b] = c[rng.UniformInt(c.size())];
    }
  }
  policies::ActionSelection sel;
  sel.actions = actions.to(logits.device());
  sel.greedy = sel.actions.eq(policies::MaskedArgmax(logits, m));
  return sel;
}

MetricList LlmOnlineAgent::Observe(const Transition& t) {
  MetricList m = inner_->Observe(t);
  if (!m.empty()) {
    m.emplace_back("llm_s_per_step", llm_seconds_);
    m.emplace_back("llm_pick_rate",
                   asked_ > 0 ? static_cast<double>(picks_) / static_cast<double>(asked_) : 0.0);
    llm_seconds_ = 0;
    picks_ = asked_ = 0;
  }
  return m;
}

std::unique_ptr<OnlineAgent> MakeLlmOnlineAgent(const OnlineAgentContext& c) {
  if (c.ialp_setup == nullptr) throw Error("llm_online: no iALP setup was resolved");
  return std::make_unique<LlmOnlineAgent>(c.options, *c.ialp_setup, c.exploration, c.num_items,
                                          c.device);
}

}  // namespace recarena::agents
