#include "core/process.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>

#include "core/error.h"

extern char** environ;

namespace recarena {

std::string PythonInterpreter() {
  if (const char* p = std::getenv("RECARENA_PYTHON"); p != nullptr && *p != '\0') return p;
#ifdef RECARENA_DEFAULT_PYTHON
  if (::access(RECARENA_DEFAULT_PYTHON, X_OK) == 0) return RECARENA_DEFAULT_PYTHON;
#endif
  return "python3";
}

namespace {
int DecodeStatus(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 127;
}

// This process's environment with `set` applied (a name in `set` replaces its old value).
std::vector<std::string> Environment(const std::vector<std::pair<std::string, std::string>>& set) {
  std::vector<std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    const std::string entry(*e);
    const std::string name = entry.substr(0, entry.find('='));
    bool replaced = false;
    for (const auto& kv : set) replaced = replaced || kv.first == name;
    if (!replaced) env.push_back(entry);
  }
  for (const auto& [name, value] : set) env.push_back(name + "=" + value);
  return env;
}

// posix_spawnp with an argument vector; stdout/stderr to out_path (appended) when given, else to
// /dev/null when quiet (else inherited); the environment with `env` applied. Returns the pid, or
// -1 when the program cannot be started.
pid_t Spawn(const std::string& program, const std::vector<std::string>& args, bool quiet,
            const std::string& out_path,
            const std::vector<std::pair<std::string, std::string>>& env = {}) {
  std::vector<std::string> storage;
  storage.reserve(args.size() + 1);
  storage.push_back(program);
  storage.insert(storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& s : storage) argv.push_back(s.data());
  argv.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (!out_path.empty()) {
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, out_path.c_str(),
                                     O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  } else if (quiet) {
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
  }
  std::vector<std::string> env_storage = Environment(env);
  std::vector<char*> envp;
  for (auto& e : env_storage) envp.push_back(e.data());
  envp.push_back(nullptr);
  pid_t pid = 0;
  const int rc = posix_spawnp(&pid, program.c_str(), &actions, nullptr, argv.data(),
                              env.empty() ? environ : envp.data());
  posix_spawn_file_actions_destroy(&actions);
  return rc != 0 ? -1 : pid;
}
}  // namespace

int RunProgram(const std::string& program, const std::vector<std::string>& args, bool quiet) {
  const pid_t pid = Spawn(program, args, quiet, "");
  if (pid < 0) return 127;
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return 127;
  }
  return DecodeStatus(status);
}

ChildProcess::ChildProcess(const std::string& program, const std::vector<std::string>& args,
                           const std::filesystem::path& log) {
  pid_ = Spawn(program, args, true, log.string());
  if (pid_ < 0) throw Error("cannot start " + program);
}

ChildProcess::ChildProcess(const std::string& program, const std::vector<std::string>& args,
                           const Options& options) {
  pid_ = Spawn(program, args, !options.inherit_output,
               options.inherit_output ? std::string() : options.log.string(), options.env);
  if (pid_ < 0) throw Error("cannot start " + program);
}

ChildProcess::~ChildProcess() {
  if (pid_ > 0) Stop(2.0);
}

bool ChildProcess::Running() {
  if (status_ >= 0) return false;
  int status = 0;
  const pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    status_ = DecodeStatus(status);
    return false;
  }
  return r == 0;
}

void ChildProcess::Signal(int sig) {
  if (Running()) ::kill(pid_, sig);
}

int ChildProcess::Wait() {
  if (status_ >= 0) return status_;
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0) {
    if (errno != EINTR) return status_ = 127;
  }
  return status_ = DecodeStatus(status);
}

int ChildProcess::Stop(double grace_s) {
  Signal(SIGTERM);
  for (double waited = 0; waited < grace_s && Running(); waited += 0.02) ::usleep(20000);
  Signal(SIGKILL);
  return Wait();
}

int RunPythonScript(const std::filesystem::path& script, const std::vector<std::string>& args) {
  std::vector<std::string> all{script.string()};
  all.insert(all.end(), args.begin(), args.end());
  return RunProgram(PythonInterpreter(), all);
}

}  // namespace recarena
