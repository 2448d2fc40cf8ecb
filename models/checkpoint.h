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
// Writes archive to file as a sealed file (core/sealed_file.h: content hash, and the hash of
// config_file when given), atomically.
void SaveArchiveFile(const std::filesystem::path& file, torch::serialize::OutputArchive& archive,
                     const std::filesystem::path& config_file = {});
// Loads module's parameters and buffers from archive (the layout of torch::nn::Module::save) after
// checking that every one has the shape the module was built with: a checkpoint of another
// catalog size or hidden size is an Error naming the parameter and both shapes, where
// Module::load would silently resize the parameter. Empty buffers (placeholders for data whose
// size the checkpoint brings, like the simulator's co-occurrence tables) are not checked.
void LoadModule(torch::nn::Module& module, torch::serialize::InputArchive& archive);
// Opens a checkpoint file (sealed: its hash is checked first); FileError naming it ("<what>:
// <LibTorch's reason>") when it is corrupt or LibTorch cannot read it.
torch::serialize::InputArchive OpenArchive(const std::filesystem::path& file,
                                           const std::string& what = "cannot read checkpoint");
// Reads the archive file and hands it to load (e.g. agent.Load); a LibTorch error or an Error
// (LoadModule's shape check) of either step becomes a FileError naming the file ("<what>:
// <reason>").
void LoadArchiveFile(const std::filesystem::path& file,
                     const std::function<void(torch::serialize::InputArchive&)>& load,
                     const std::string& what = "cannot load the checkpoint");

// Runs fn; a LibTorch error (without its stack trace) or an Error that names no file becomes a
// FileError naming file ("<what>: <reason>").
void NameFileInErrors(const std::filesystem::path& file, const std::string& what,
                      const std::function<void()>& fn);

}  // namespace recarena::models
