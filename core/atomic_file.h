// Atomic file writes: content goes to a temporary file "<name>.tmp.<pid>.<random>" in the same
// directory, created exclusively (O_CREAT | O_EXCL | O_NOFOLLOW: an existing file or symlink of
// that name is never opened or followed), flushed and fsynced, then renamed over <path>. A crash
// leaves either the old file or the new one, never a torn one; the temporary files a killed
// writer left behind are removed by the next write of the same path (those whose pid no longer
// runs).
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

// Removes the temporary files "<path's name>.tmp.<pid>[.<suffix>]" beside path whose writer
// (pid) no longer runs: what a killed WriteFileAtomic left. Returns how many were removed.
int RemoveOrphanedTemporaries(const std::filesystem::path& path);

// Reads a whole file; throws FileError (naming the path) if it is missing or unreadable.
std::string ReadFile(const std::filesystem::path& path);

}  // namespace recarena
