#include "env/response_cache.h"

#include <utility>

#include "core/error.h"

namespace recarena::env {

std::unique_ptr<ResponseStepCache> ResponseStepCache::Make(const ResponseEnsemble& ensemble,
                                                           int64_t B) {
  if (B < 1) throw Error("ResponseStepCache: B must be >= 1, got " + std::to_string(B));
  std::vector<Member> members;
  for (const auto& model : ensemble.models()) {
    auto* seq = dynamic_cast<SequentialResponseImpl*>(model.get());
    if (seq == nullptr) return nullptr;
    Member m;
    m.model = seq;
    m.sasrec = dynamic_cast<models::SasRecImpl*>(seq->encoder.get());
    if (m.sasrec != nullptr) m.kv = m.sasrec->MakeCache(B);
    m.gru = dynamic_cast<models::Gru4RecImpl*>(seq->encoder.get());
    const auto& table = seq->ItemVectors();
    m.state = torch::zeros({B, table.size(1)}, table.options());
    if (m.gru != nullptr) m.hidden = torch::zeros({B, table.size(1)}, table.options());
    members.push_back(std::move(m));
  }
  return std::unique_ptr<ResponseStepCache>(new ResponseStepCache(ensemble, std::move(members)));
}

ResponseStepCache::ResponseStepCache(const ResponseEnsemble& ensemble, std::vector<Member> members)
    : ensemble_(ensemble), members_(std::move(members)) {}

torch::Tensor ResponseStepCache::Recompute(Member& m, const torch::Tensor& items,
                                           const torch::Tensor& lengths,
                                           const torch::Tensor& rows) {
  const auto sub_items = items.index_select(0, rows);
  const auto sub_lengths = lengths.index_select(0, rows);
  torch::Tensor h;
  if (m.sasrec != nullptr) {
    h = m.sasrec->ForwardCaching(sub_items, sub_lengths, *m.kv, rows);
  } else if (m.gru != nullptr) {
    h = m.gru->forward(sub_items, sub_lengths).last;
    m.hidden.index_copy_(0, rows, h);
  } else {
    return m.model->State(ResponseInput{sub_items, sub_lengths, {}, {}});
  }
  if (m.model->bag_table_) h = h + m.model->Bag(sub_items);  // State's sum, with the cache filled
  return h;
}

torch::Tensor ResponseStepCache::Append(Member& m, const torch::Tensor& items,
                                        const torch::Tensor& lengths, const torch::Tensor& rows) {
  if (m.sasrec == nullptr && m.gru == nullptr) return Recompute(m, items, lengths, rows);
  const auto pos = lengths.index_select(0, rows) - 1;  // where the appended item sits
  const auto item = items.index_select(0, rows).gather(1, pos.unsqueeze(1)).squeeze(1);
  torch::Tensor h;
  if (m.sasrec != nullptr) {
    h = m.sasrec->Append(item, pos, *m.kv, rows);
  } else {
    h = m.gru->Step(item, m.hidden.index_select(0, rows));
    m.hidden.index_copy_(0, rows, h);
  }
  if (m.model->bag_table_) h = h + m.model->Bag(items.index_select(0, rows));
  return h;
}

void ResponseStepCache::Refresh(const torch::Tensor& items, const torch::Tensor& lengths,
                                const torch::Tensor& recompute, const torch::Tensor& append) {
  torch::NoGradGuard no_grad;
  for (auto& m : members_) {
    if (recompute.numel() > 0) {
      m.state.index_copy_(0, recompute, Recompute(m, items, lengths, recompute));
    }
    if (append.numel() > 0) m.state.index_copy_(0, append, Append(m, items, lengths, append));
  }
}

torch::Tensor ResponseStepCache::Expected(const ResponseInput& in) const {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> outs;
  outs.reserve(members_.size());
  for (const auto& m : members_) outs.push_back(m.model->FromState(m.state, in));
  return ensemble_.Combine(outs);
}

}  // namespace recarena::env
