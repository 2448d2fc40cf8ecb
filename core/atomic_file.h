// Atomic file writes: content goes to "<path>.tmp.<pid>" in the same directory, is flushed and
// fsynced, then renamed over <path>. A crash leaves either the old file or the new one, never a
// torn one.
#pragma once

#include <filesystem>
#include <functional>
#include <ostream>
#include <string>
#include <string_view>

namespace recarena {

// Writes content to path atomically; creates parent directories. Throws FileError on failure.
void WriteFileAtomic(const std::filesystem::path& path, std::string_view content);

// Streams into a temporary file through write(os), then renames it over path. If write throws, the
// temporary file is removed and path is untouched.
void WriteFileAtomic(const std::filesystem::path& path,
                     const std::function<void(std::ostream&)>& write);

// Reads a whole file; throws FileError (naming the path) if it is missing or unreadable.
std::string ReadFile(const std::filesystem::path& path);

}  // namespace recarena
