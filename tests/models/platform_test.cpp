// The platform the binary links: LibTorch from the torch wheel and libstdc++ (this test executable
// links LibTorch through recarena_models, as the recarena binary does).
#include <dlfcn.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>

#include "models/device.h"

namespace fs = std::filesystem;

TEST_CASE("std::filesystem resolves to libstdc++, not to libtorch's copies", "[platform]") {
  // libtorch.so of the 2.x wheels exports unversioned std::filesystem functions that crash when a
  // program calls them (CMakeLists.txt lists libstdc++ first among the NEEDED libraries).
  using RemoveAll = std::uintmax_t (*)(const fs::path&, std::error_code&);
  const RemoveAll fn = &fs::remove_all;
  Dl_info info{};
  REQUIRE(dladdr(reinterpret_cast<void*>(fn), &info) != 0);
  INFO("std::filesystem::remove_all comes from " << info.dli_fname);
  CHECK(std::string(info.dli_fname).find("libstdc++") != std::string::npos);
  // And it works on a nested tree.
  const fs::path root = fs::temp_directory_path() / ("recarena-fs-" + std::to_string(::getpid()));
  fs::create_directories(root / "a" / "b");
  std::ofstream(root / "a" / "b" / "f.txt") << "x";
  std::error_code ec;
  CHECK(fs::remove_all(root, ec) == 4u);
  CHECK_FALSE(ec);
  CHECK_FALSE(fs::exists(root));
}

TEST_CASE("recarena info: LibTorch 2.x, CUDA compiled in", "[platform]") {
  const auto info = recarena::models::QueryTorchBuild();
  CHECK(info.libtorch_version.rfind("2.", 0) == 0);
  const std::string text = recarena::models::FormatTorchBuild(info);
  CHECK(text.find("libtorch: " + info.libtorch_version) != std::string::npos);
  CHECK(text.find("gpus: " + std::to_string(info.gpus.size())) != std::string::npos);
  // The project's build links the CUDA-enabled LibTorch of the torch wheel (a user's CPU-only
  // LibTorch reports "no", and the GPU list is then empty).
  if (info.cuda_compiled) {
    CHECK(info.cuda_runtime.rfind("13.", 0) == 0);
  } else {
    CHECK(info.gpus.empty());
  }
  CHECK(info.gpus.size() == (recarena::models::CudaAvailable() ? info.gpus.size() : 0u));
}
