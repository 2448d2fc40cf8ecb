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
// Throws Error naming the file otherwise. Without a config.yaml, a sealed checkpoint (*.pt in dir
// or one level below, core/sealed_file.h) written under another config is refused the same way.
void CheckRunDirConfig(const std::filesystem::path& dir, const std::string& resolved_yaml);

}  // namespace recarena
