// The process helper: programs run from an argument vector, the plot scripts' interpreter.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "core/process.h"
#include "test_util.h"

namespace fs = std::filesystem;

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
