// Starting helper programs (the plot scripts) without a shell: the arguments are passed as an
// argument vector, so no path or name can be interpreted as shell syntax.
#pragma once

#include <filesystem>
#include <string>
#include <utility>
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

// A program running beside this one (a server for a test or an experiment), started like
// RunProgram (argument vector, no shell). Its stdout and stderr go to log (appended; '' =
// /dev/null). The destructor stops it: SIGTERM, then SIGKILL after a grace period.
class ChildProcess {
 public:
  struct Options {
    std::filesystem::path log;    // stdout + stderr appended here ('' = /dev/null) ...
    bool inherit_output = false;  // ... unless true: this process's stdout and stderr
    // Variables set (or replaced) in the child's environment; the rest is this process's.
    std::vector<std::pair<std::string, std::string>> env;
  };
  // Throws recarena::Error naming the program when it cannot be started.
  ChildProcess(const std::string& program, const std::vector<std::string>& args,
               const std::filesystem::path& log = {});
  ChildProcess(const std::string& program, const std::vector<std::string>& args,
               const Options& options);
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  int pid() const { return pid_; }
  // Whether it is still running (reaps it when it has ended).
  bool Running();
  // Sends the signal (SIGTERM, SIGKILL, ...) when it is running.
  void Signal(int sig);
  // Waits for it to end and returns its status as RunProgram does.
  int Wait();
  // SIGTERM, up to grace_s to end, then SIGKILL; returns the status.
  int Stop(double grace_s = 5.0);

 private:
  int pid_ = -1;
  int status_ = -1;  // set once reaped
};

}  // namespace recarena
