#include "core/atomic_file.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <unistd.h>

#include <ext/stdio_filebuf.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
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

// An output stream over a file descriptor it owns (closed by Close or the destructor).
class FdStream {
 public:
  explicit FdStream(int fd) : buf_(fd, std::ios::out | std::ios::binary), os_(&buf_) {}
  std::ostream& stream() { return os_; }
  // Flushes, fsyncs and closes; false when any of them failed.
  bool Close() {
    os_.flush();
    const bool ok = static_cast<bool>(os_) && ::fsync(buf_.fd()) == 0;
    return buf_.close() != nullptr && ok;
  }

 private:
  __gnu_cxx::stdio_filebuf<char> buf_;
  std::ostream os_;
};

// Creates "<path>.tmp.<pid>.<16 random hex digits>" exclusively (mode 0644 before the umask) and
// returns its descriptor. The random part comes from std::random_device: it only has to make the
// name unpredictable and never touches a run's results (those use the seeded core::Rng).
int CreateTemporary(const fs::path& path, fs::path* tmp) {
  std::random_device rd;
  for (int attempt = 0; attempt < 16; ++attempt) {
    const uint64_t r = (static_cast<uint64_t>(rd()) << 32) ^ rd();
    *tmp = fmt::format("{}.tmp.{}.{:016x}", path.string(), ::getpid(), r);
    const int fd = ::open(tmp->c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd >= 0) return fd;
    if (errno != EEXIST) {
      throw FileError(tmp->string(), 0,
                      std::string("cannot create temporary file: ") + std::strerror(errno));
    }
  }
  throw FileError(path.string(), 0, "cannot create a temporary file beside it (16 names taken)");
}
}  // namespace

int RemoveOrphanedTemporaries(const fs::path& path) {
  const fs::path parent = path.has_parent_path() ? path.parent_path() : fs::path(".");
  const std::string prefix = path.filename().string() + ".tmp.";
  std::error_code ec;
  int removed = 0;
  for (fs::directory_iterator it(parent, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.compare(0, prefix.size(), prefix) != 0) continue;
    const std::string rest = name.substr(prefix.size());
    const size_t digits = rest.find_first_not_of("0123456789");
    if (digits == 0 || rest.empty() || (digits != std::string::npos && rest[digits] != '.'))
      continue;
    const long pid = std::strtol(rest.substr(0, digits).c_str(), nullptr, 10);
    if (pid <= 0 || pid == ::getpid()) continue;  // ours may be another thread's write in flight
    if (::kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH) continue;  // still running
    std::error_code rm;
    if (fs::remove(it->path(), rm)) ++removed;  // removes a symlink itself, never its target
  }
  return removed;
}

void WriteFileAtomic(const fs::path& path, const std::function<void(std::ostream&)>& write) {
  const fs::path parent = path.has_parent_path() ? path.parent_path() : fs::path(".");
  std::error_code ec;
  fs::create_directories(parent, ec);
  if (ec) throw FileError(parent.string(), 0, "cannot create directory: " + ec.message());
  RemoveOrphanedTemporaries(path);
  fs::path tmp;
  const int fd = CreateTemporary(path, &tmp);
  try {
    FdStream out(fd);
    write(out.stream());
    if (!out.Close()) throw FileError(tmp.string(), 0, "write failed (disk full?)");
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
