// The scratch directory of a file-reading fuzz target: one per process under $TMPDIR (point it at
// /dev/shm for long runs: every input is written to disk), removed when the process exits.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace recarena::fuzz {

// ScratchDir("rankings") = $TMPDIR/recarena-rankings-fuzz-<pid>/, created on first use.
inline const std::filesystem::path& ScratchDir(const std::string& target) {
  static const struct Scratch {
    std::filesystem::path root;
    explicit Scratch(const std::string& name)
        : root(std::filesystem::temp_directory_path() /
               ("recarena-" + name + "-fuzz-" + std::to_string(::getpid()))) {
      std::filesystem::create_directories(root);
    }
    ~Scratch() {
      std::error_code ec;
      std::filesystem::remove_all(root, ec);
    }
  } scratch(target);
  return scratch.root;
}

// Writes content to file (creating its folder), replacing what was there.
inline void WriteFile(const std::filesystem::path& file, const std::string& content) {
  std::filesystem::create_directories(file.parent_path());
  std::ofstream(file, std::ios::binary | std::ios::trunc) << content;
}

}  // namespace recarena::fuzz
