#include "experiments/report/sim_predict.h"

#include <algorithm>

#include "core/error.h"
#include "data/text_reader.h"

namespace recarena::experiments {

std::vector<PredictQuery> ReadPredictQueries(const std::filesystem::path& file,
                                             const data::Dataset& dataset, bool need_user) {
  data::CsvReader reader(file, ',');
  const std::string name = file.string();
  std::vector<std::string> fields;
  if (!reader.Next(fields) || fields != std::vector<std::string>{"user", "history", "item"}) {
    throw FileError(name, std::max<int64_t>(1, reader.line_number()),
                    "the first line must be the header 'user,history,item'");
  }
  std::vector<PredictQuery> out;
  while (reader.Next(fields)) {
    const int64_t line = reader.line_number();
    if (fields.size() != 3) {
      throw FileError(
          name, line,
          "expected 3 fields (user,history,item), got " + std::to_string(fields.size()));
    }
    PredictQuery q;
    if (fields[0].empty()) {
      if (need_user) {
        throw FileError(name, line,
                        "the user is empty, and this simulator's response model "
                        "(deepfm) needs one");
      }
    } else {
      const auto u = dataset.users.Find(fields[0]);
      if (u < 0) throw FileError(name, line, "unknown user id " + QuoteForError(fields[0]));
      q.user = u;
    }
    for (auto id : data::SplitWhitespace(fields[1])) {
      const auto i = dataset.items.Find(std::string(id));
      if (i < 0) {
        throw FileError(name, line,
                        "unknown item id " + QuoteForError(std::string(id)) + " in the history");
      }
      q.history.push_back(i);
    }
    const auto item = dataset.items.Find(fields[2]);
    if (item < 0) throw FileError(name, line, "unknown item id " + QuoteForError(fields[2]));
    q.item = item;
    out.push_back(std::move(q));
  }
  return out;
}

std::vector<float> PredictQueries(const env::Simulator& sim, const std::vector<PredictQuery>& q,
                                  torch::Device device) {
  const int64_t L = sim.state_len, pad = sim.num_items;
  const auto n = static_cast<int64_t>(q.size());
  std::vector<float> out(q.size());
  for (int64_t b0 = 0; b0 < n; b0 += 4096) {
    const int64_t m = std::min<int64_t>(4096, n - b0);
    auto items = torch::full({m, L}, pad, torch::kInt64);
    auto lengths = torch::ones({m}, torch::kInt64);
    auto users = torch::empty({m}, torch::kInt64), actions = torch::empty({m}, torch::kInt64);
    auto* ip = items.data_ptr<int64_t>();
    for (int64_t r = 0; r < m; ++r) {
      const auto& x = q[static_cast<size_t>(b0 + r)];
      const auto k = static_cast<int64_t>(x.history.size());
      const int64_t keep = std::min(k, L);
      for (int64_t j = 0; j < keep; ++j)
        ip[r * L + j] = x.history[static_cast<size_t>(k - keep + j)];
      lengths[r] = std::max<int64_t>(1, keep);  // an empty history: the padding history of length 1
      users[r] = x.user;
      actions[r] = x.item;
    }
    env::ResponseInput in{items.to(device), lengths.to(device), users.to(device),
                          actions.to(device)};
    auto p = sim.response->Expected(in).to(torch::kCPU, torch::kFloat).contiguous();
    std::copy(p.data_ptr<float>(), p.data_ptr<float>() + m, out.begin() + b0);
  }
  return out;
}

}  // namespace recarena::experiments
