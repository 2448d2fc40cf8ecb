// Starting helper programs (the plot scripts) without a shell: the arguments are passed as an
// argument vector, so no path or name can be interpreted as shell syntax.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace recarena {

// The Python that runs recarena's scripts: $RECARENA_PYTHON if set, else the project virtualenv's
// interpreter found at configure time (scripts/setup.sh installs matplotlib there).
std::string PythonInterpreter();

// Runs `program args...` (program looked up on PATH when it has no '/'), waits for it, and returns
// its exit status (127 when it cannot be started, 128 + signal when killed). stdout and stderr go
// to /dev/null unless quiet is false.
int RunProgram(const std::string& program, const std::vector<std::string>& args, bool quiet = true);

// RunProgram(PythonInterpreter(), {script, args...}).
int RunPythonScript(const std::filesystem::path& script, const std::vector<std::string>& args);

}  // namespace recarena
