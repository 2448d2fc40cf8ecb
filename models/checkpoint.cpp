#include "models/checkpoint.h"

#include <fmt/format.h>

#include <mutex>
#include <sstream>

#include "core/error.h"
#include "core/json_read.h"
#include "core/sealed_file.h"

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

void SaveArchiveFile(const std::filesystem::path& file, torch::serialize::OutputArchive& archive,
                     const std::filesystem::path& config_file) {
  std::ostringstream os;
  archive.save_to(os);
  WriteSealedFile(file, os.str(), config_file);
}

namespace {

std::string ShapeString(torch::IntArrayRef sizes) {
  std::string s = "[";
  for (size_t i = 0; i < sizes.size(); ++i) s += (i ? ", " : "") + std::to_string(sizes[i]);
  return s + "]";
}

// Module::save writes a module's own parameters and buffers under their names and each child
// under a nested archive of its name; the check walks the same layout.
void CheckModuleShapes(torch::nn::Module& module, torch::serialize::InputArchive& archive,
                       const std::string& prefix) {
  auto check = [&](const std::string& key, const torch::Tensor& mine, bool buffer) {
    torch::Tensor stored;
    if (!archive.try_read(key, stored, buffer)) return;  // Module::load reports it as missing
    if (stored.sizes() != mine.sizes()) {
      throw Error(fmt::format(
          "parameter '{}{}' has shape {} in the checkpoint but {} in the model built from the "
          "config (a checkpoint of another catalog size, hidden size or architecture)",
          prefix, key, ShapeString(stored.sizes()), ShapeString(mine.sizes())));
    }
  };
  for (const auto& p : module.named_parameters(/*recurse=*/false)) check(p.key(), p.value(), false);
  // An empty buffer is a placeholder for data whose size comes with the checkpoint (the
  // simulator's co-occurrence tables): it takes the stored shape.
  for (const auto& b : module.named_buffers(/*recurse=*/false)) {
    if (b.value().numel() > 0) check(b.key(), b.value(), true);
  }
  for (const auto& c : module.named_children()) {
    torch::serialize::InputArchive child;
    if (!archive.try_read(c.key(), child)) continue;
    CheckModuleShapes(*c.value(), child, prefix + c.key() + ".");
  }
}

torch::serialize::InputArchive ReadArchive(const std::filesystem::path& file,
                                           const std::string& what) {
  torch::serialize::InputArchive archive;
  // A corrupt sealed file is a FileError naming the file and both hashes.
  std::istringstream in(ReadSealedFile(file).payload);
  try {
    archive.load_from(in);
  } catch (const c10::Error& e) {
    throw FileError(file.string(), 0, what + ": " + e.what_without_backtrace());
  }
  return archive;
}

}  // namespace

void LoadModule(torch::nn::Module& module, torch::serialize::InputArchive& archive) {
  CheckModuleShapes(module, archive, "");
  module.load(archive);
}

torch::serialize::InputArchive OpenArchive(const std::filesystem::path& file,
                                           const std::string& what) {
  return ReadArchive(file, what);
}

void LoadArchiveFile(const std::filesystem::path& file,
                     const std::function<void(torch::serialize::InputArchive&)>& load,
                     const std::string& what) {
  torch::serialize::InputArchive archive = ReadArchive(file, what);
  NameFileInErrors(file, what, [&] { load(archive); });
}

void NameFileInErrors(const std::filesystem::path& file, const std::string& what,
                      const std::function<void()>& fn) {
  try {
    fn();
  } catch (const c10::Error& e) {
    throw FileError(file.string(), 0, what + ": " + e.what_without_backtrace());
  } catch (const FileError&) {
    throw;
  } catch (const Error& e) {
    throw FileError(file.string(), 0, what + ": " + e.what());
  }
}

}  // namespace recarena::models
