#include "core/error.h"

#include <fmt/format.h>

namespace recarena {

namespace {
std::string FileMessage(const std::string& file, int64_t line, const std::string& message) {
  if (line > 0) return fmt::format("{}:{}: {}", file, line, message);
  return fmt::format("{}: {}", file, message);
}
}  // namespace

FileError::FileError(std::string file, int64_t line, const std::string& message)
    : Error(FileMessage(file, line, message)), file_(std::move(file)), line_(line) {}

ConfigError::ConfigError(std::string path, const std::string& message)
    : Error(message), path_(std::move(path)) {}

std::string QuoteForError(std::string_view value, size_t max_len) {
  std::string out = "'";
  size_t n = 0;
  for (char c : value) {
    if (n++ >= max_len) {
      out += "...";
      break;
    }
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) {
      out += fmt::format("\\x{:02x}", u);
    } else {
      out += c;
    }
  }
  out += "'";
  return out;
}

}  // namespace recarena
