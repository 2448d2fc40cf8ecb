// Run directories: every command that produces results writes them under one directory,
// runs/<name>-<YYYYmmdd-HHMMSS>/ by default, next to its fully resolved config.yaml.
#pragma once

#include <filesystem>
#include <string>

namespace recarena {

// Returns base/<name>-<timestamp> (adding -2, -3, ... if it exists) and creates it.
std::filesystem::path CreateRunDir(const std::filesystem::path& base, const std::string& name);

// Creates dir if missing (an explicit --out or run.dir); an existing directory is reused so that a
// killed run can resume in it.
std::filesystem::path EnsureDir(const std::filesystem::path& dir);

// Writes dir/config.yaml (atomically) with the resolved config text, or, when the directory
// already holds one, checks that it is the same: a run directory resumes only its own config.
// A directory holding nothing but config.yaml (a start that failed before its first result) takes
// the new config.
// Throws Error naming the file otherwise. Without a config.yaml, a sealed checkpoint (*.pt in dir
// or one level below, core/sealed_file.h) written under another config is refused the same way.
void CheckRunDirConfig(const std::filesystem::path& dir, const std::string& resolved_yaml);

// A failed start leaves no half-made run directory: constructed once the directory is set up, it
// undoes the start when its scope is left by an exception and the directory holds nothing but
// config.yaml (and temporaries): those files are removed, and the directories this start created
// (dir and its parents up to created_root, the outermost one it created; empty = none). A
// directory with any result in it is left alone, and so is everything on a normal exit. A kill -9
// runs no destructor; CheckRunDirConfig then lets the next start take over a config-only directory.
class FailedStartCleanup {
 public:
  FailedStartCleanup(std::filesystem::path dir, std::filesystem::path created_root);
  ~FailedStartCleanup();
  FailedStartCleanup(const FailedStartCleanup&) = delete;
  FailedStartCleanup& operator=(const FailedStartCleanup&) = delete;

 private:
  std::filesystem::path dir_;
  std::filesystem::path created_root_;
  int exceptions_;  // std::uncaught_exceptions() at construction
};

}  // namespace recarena
