#include "core/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "core/error.h"

namespace recarena {

namespace fs = std::filesystem;

namespace {
void FsyncPath(const fs::path& path, bool directory) {
  int fd = ::open(path.c_str(), directory ? O_RDONLY | O_DIRECTORY : O_RDONLY);
  if (fd < 0) return;  // best effort for directories on exotic filesystems
  ::fsync(fd);
  ::close(fd);
}
}  // namespace

void WriteFileAtomic(const fs::path& path, const std::function<void(std::ostream&)>& write) {
  const fs::path parent = path.has_parent_path() ? path.parent_path() : fs::path(".");
  std::error_code ec;
  fs::create_directories(parent, ec);
  if (ec) throw FileError(parent.string(), 0, "cannot create directory: " + ec.message());
  const fs::path tmp = path.string() + ".tmp." + std::to_string(::getpid());
  try {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out)
      throw FileError(tmp.string(), 0,
                      std::string("cannot open for writing: ") + std::strerror(errno));
    write(out);
    out.flush();
    if (!out) throw FileError(tmp.string(), 0, "write failed (disk full?)");
    out.close();
    FsyncPath(tmp, false);
    fs::rename(tmp, path, ec);
    if (ec)
      throw FileError(path.string(), 0, "cannot rename temporary file into place: " + ec.message());
    FsyncPath(parent, true);
  } catch (...) {
    fs::remove(tmp, ec);
    throw;
  }
}

void WriteFileAtomic(const fs::path& path, std::string_view content) {
  WriteFileAtomic(path, [&](std::ostream& os) { os.write(content.data(), content.size()); });
}

std::string ReadFile(const fs::path& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) throw FileError(path.string(), 0, "file does not exist");
  if (fs::is_directory(path, ec))
    throw FileError(path.string(), 0, "is a directory, expected a file");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw FileError(path.string(), 0, std::string("cannot open: ") + std::strerror(errno));
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace recarena
