#include "models/checkpoint.h"

#include <mutex>

#include "core/error.h"
#include "core/json_read.h"

namespace recarena::models {

torch::Tensor StringToTensor(const std::string& s) {
  return torch::from_blob(const_cast<char*>(s.data()), {static_cast<int64_t>(s.size())},
                          torch::kUInt8)
      .clone();
}

std::string TensorToString(const torch::Tensor& t) {
  auto c = t.contiguous();
  return std::string(reinterpret_cast<const char*>(c.data_ptr<uint8_t>()),
                     static_cast<size_t>(c.numel()));
}

torch::Tensor JsonToTensor(const nlohmann::json& j) { return StringToTensor(j.dump()); }

nlohmann::json TensorToJson(const torch::Tensor& t) {
  return ParseJson(TensorToString(t), "a checkpoint's JSON entry");
}

void SaveTorchRng(torch::serialize::OutputArchive& archive) {
  at::Generator gen = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(gen.mutex());
  archive.write("torch_rng", gen.get_state());
}

void LoadTorchRng(torch::serialize::InputArchive& archive) {
  torch::Tensor state;
  archive.read("torch_rng", state);
  at::Generator gen = at::detail::getDefaultCPUGenerator();  // a handle sharing the global one
  std::lock_guard<std::mutex> lock(gen.mutex());
  gen.set_state(state);
}

torch::serialize::InputArchive OpenArchive(const std::filesystem::path& file,
                                           const std::string& what) {
  torch::serialize::InputArchive archive;
  try {
    archive.load_from(file.string());
  } catch (const c10::Error& e) {
    throw FileError(file.string(), 0, what + ": " + e.what_without_backtrace());
  }
  return archive;
}

void LoadArchiveFile(const std::filesystem::path& file,
                     const std::function<void(torch::serialize::InputArchive&)>& load,
                     const std::string& what) {
  torch::serialize::InputArchive archive;
  try {
    archive.load_from(file.string());
    load(archive);
  } catch (const c10::Error& e) {
    throw FileError(file.string(), 0, what + ": " + e.what_without_backtrace());
  }
}

}  // namespace recarena::models
