#include "experiments/train/train_state.h"

#include "core/atomic_file.h"
#include "core/error.h"
#include "models/checkpoint.h"

namespace recarena::experiments {

using nlohmann::json;

bool LoopState::RecordValidation(json rec, double ndcg, int64_t patience) {
  history.push_back(std::move(rec));
  loss_sums.clear();
  loss_n = 0;
  if (ndcg > best) {
    best = ndcg;
    bad_evals = 0;
    return true;
  }
  if (++bad_evals >= patience) stopped = true;
  return false;
}

void SaveLoopCheckpoint(const std::filesystem::path& file,
                        const std::function<void(torch::serialize::OutputArchive&)>& save_model,
                        const LoopState& st) {
  torch::serialize::OutputArchive archive;
  save_model(archive);
  archive.write("epoch", torch::tensor(st.epoch, torch::kInt64));
  archive.write("cursor", torch::tensor(st.cursor, torch::kInt64));
  archive.write("best", torch::tensor(st.best, torch::kFloat64));
  archive.write("bad_evals", torch::tensor(st.bad_evals, torch::kInt64));
  archive.write("stopped", torch::tensor(static_cast<int64_t>(st.stopped), torch::kInt64));
  archive.write("history", models::JsonToTensor(st.history));
  archive.write("loss_sums", models::JsonToTensor(json(st.loss_sums)));
  archive.write("loss_n", torch::tensor(st.loss_n, torch::kInt64));
  models::SaveTorchRng(archive);
  models::SaveArchiveFile(file, archive, file.parent_path() / "config.yaml");
}

LoopState LoadLoopCheckpoint(
    const std::filesystem::path& file,
    const std::function<void(torch::serialize::InputArchive&)>& load_model) {
  LoopState st;
  // Shape or entry mismatches (a checkpoint of another config) become errors naming the file.
  models::LoadArchiveFile(file, [&](torch::serialize::InputArchive& archive) {
    load_model(archive);
    // InputArchive::read set_()s into a defined tensor, so every read gets a fresh one.
    auto read = [&](const char* key) {
      torch::Tensor t;
      archive.read(key, t);
      return t;
    };
    st.epoch = read("epoch").item<int64_t>();
    st.cursor = read("cursor").item<int64_t>();
    st.best = read("best").item<double>();
    st.bad_evals = read("bad_evals").item<int64_t>();
    st.stopped = read("stopped").item<int64_t>() != 0;
    st.history = models::TensorToJson(read("history"));
    st.loss_sums = models::TensorToJson(read("loss_sums")).get<std::map<std::string, double>>();
    st.loss_n = read("loss_n").item<int64_t>();
    models::LoadTorchRng(archive);
  });
  return st;
}

void WriteHistory(const std::filesystem::path& dir, const json& history) {
  WriteFileAtomic(dir / "metrics.jsonl", [&](std::ostream& os) {
    for (const auto& h : history) os << h.dump() << "\n";
  });
}

}  // namespace recarena::experiments
