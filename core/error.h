// Error types shared by every recarena library.
//
// Contract: every error a user can cause (bad file, bad config, bad flag) is thrown as
// recarena::Error (or a subclass) whose what() names the file, line and offending value when they
// are known. The CLI catches Error at the top, prints what() and exits with status 2; anything else
// is a bug (status 1).
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace recarena {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

// An error in an input file. line is 1-based; 0 means "the file as a whole".
class FileError : public Error {
 public:
  FileError(std::string file, int64_t line, const std::string& message);
  const std::string& file() const { return file_; }
  int64_t line() const { return line_; }

 private:
  std::string file_;
  int64_t line_;
};

// An invalid configuration value. path is the dotted key ("data.preprocess.min_item_freq").
class ConfigError : public Error {
 public:
  ConfigError(std::string path, const std::string& message);
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Shortens a value for an error message ("abc..." after max_len bytes), escaping control bytes.
std::string QuoteForError(std::string_view value, size_t max_len = 80);

}  // namespace recarena
