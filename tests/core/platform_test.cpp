// The platform the binary links: LibTorch from the torch wheel, libstdc++, the process helper.
#include <dlfcn.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>

#include "core/device.h"
#include "core/process.h"
#include "test_util.h"

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
  const auto info = recarena::QueryTorchBuild();
  CHECK(info.libtorch_version.rfind("2.", 0) == 0);
  const std::string text = recarena::FormatTorchBuild(info);
  CHECK(text.find("libtorch: " + info.libtorch_version) != std::string::npos);
  CHECK(text.find("gpus: " + std::to_string(info.gpus.size())) != std::string::npos);
  // The project's build links the CUDA-enabled LibTorch of the torch wheel (a user's CPU-only
  // LibTorch reports "no", and the GPU list is then empty).
  if (info.cuda_compiled) {
    CHECK(info.cuda_runtime.rfind("13.", 0) == 0);
  } else {
    CHECK(info.gpus.empty());
  }
  CHECK(info.gpus.size() == (recarena::CudaAvailable() ? info.gpus.size() : 0u));
}

TEST_CASE("RunProgram passes arguments without a shell", "[platform]") {
  recarena::testing::TempDir dir;
  const fs::path out = dir.path() / "it's; echo pwned > x";
  // The file name holds a quote and shell syntax; a shell would split it. Argument vectors do not.
  CHECK(recarena::RunProgram("touch", {out.string()}) == 0);
  CHECK(fs::exists(out));
  CHECK_FALSE(fs::exists(dir.path() / "x"));
  CHECK(recarena::RunProgram("false", {}) == 1);
  CHECK(recarena::RunProgram("/nonexistent/program", {}) == 127);
}

TEST_CASE("PythonInterpreter: RECARENA_PYTHON wins, else the project virtualenv", "[platform]") {
  ::setenv("RECARENA_PYTHON", "/opt/some/python", 1);
  CHECK(recarena::PythonInterpreter() == "/opt/some/python");
  ::unsetenv("RECARENA_PYTHON");
  const std::string py = recarena::PythonInterpreter();
  CHECK_FALSE(py.empty());
  // The configured interpreter can run the plot scripts: matplotlib is in the virtualenv.
  CHECK(recarena::RunProgram(py, {"-c", "import matplotlib"}) == 0);
}
