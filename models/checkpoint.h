// Small helpers for checkpoints, for every layer that saves or loads one (simulator, agents,
// training loops): JSON and strings stored as uint8 tensors in LibTorch archives,
// and the global LibTorch CPU generator's state (dropout masks draw from it).
#pragma once

#include <torch/torch.h>

#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>

namespace recarena::models {

torch::Tensor JsonToTensor(const nlohmann::json& j);
nlohmann::json TensorToJson(const torch::Tensor& t);
torch::Tensor StringToTensor(const std::string& s);
std::string TensorToString(const torch::Tensor& t);
// Writes / restores the global CPU generator state under key "torch_rng".
void SaveTorchRng(torch::serialize::OutputArchive& archive);
void LoadTorchRng(torch::serialize::InputArchive& archive);
// Opens a checkpoint file; FileError naming it ("<what>: <LibTorch's reason>") when LibTorch
// cannot read it.
torch::serialize::InputArchive OpenArchive(const std::filesystem::path& file,
                                           const std::string& what = "cannot read checkpoint");
// Reads the archive file and hands it to load (e.g. agent.Load); a LibTorch error of either step
// becomes a FileError naming the file ("<what>: <LibTorch's reason>").
void LoadArchiveFile(const std::filesystem::path& file,
                     const std::function<void(torch::serialize::InputArchive&)>& load,
                     const std::string& what = "cannot load the checkpoint");

}  // namespace recarena::models
