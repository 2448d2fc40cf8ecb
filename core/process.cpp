#include "core/process.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

extern char** environ;

namespace recarena {

std::string PythonInterpreter() {
  if (const char* p = std::getenv("RECARENA_PYTHON"); p != nullptr && *p != '\0') return p;
#ifdef RECARENA_DEFAULT_PYTHON
  if (::access(RECARENA_DEFAULT_PYTHON, X_OK) == 0) return RECARENA_DEFAULT_PYTHON;
#endif
  return "python3";
}

int RunProgram(const std::string& program, const std::vector<std::string>& args, bool quiet) {
  std::vector<std::string> storage;
  storage.reserve(args.size() + 1);
  storage.push_back(program);
  storage.insert(storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& s : storage) argv.push_back(s.data());
  argv.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (quiet) {
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
  }
  pid_t pid = 0;
  const int rc = posix_spawnp(&pid, program.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return 127;
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return 127;
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 127;
}

int RunPythonScript(const std::filesystem::path& script, const std::vector<std::string>& args) {
  std::vector<std::string> all{script.string()};
  all.insert(all.end(), args.begin(), args.end());
  return RunProgram(PythonInterpreter(), all);
}

}  // namespace recarena
