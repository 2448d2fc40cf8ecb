#include "dist/launch.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <filesystem>
#include <memory>

#include "core/error.h"
#include "core/log.h"
#include "core/process.h"

namespace recarena::dist {

namespace {

std::atomic<int> g_signal{0};
extern "C" void OnSignal(int sig) { g_signal.store(sig); }

// SIGINT and SIGTERM set g_signal while it lives (the launcher passes them on); the previous
// handlers come back when it ends, also when starting a process throws.
class SignalWatch {
 public:
  SignalWatch() {
    g_signal.store(0);
    struct sigaction sa {};
    sa.sa_handler = OnSignal;
    ::sigaction(SIGINT, &sa, &old_int_);
    ::sigaction(SIGTERM, &sa, &old_term_);
  }
  ~SignalWatch() {
    ::sigaction(SIGINT, &old_int_, nullptr);
    ::sigaction(SIGTERM, &old_term_, nullptr);
  }
  SignalWatch(const SignalWatch&) = delete;
  SignalWatch& operator=(const SignalWatch&) = delete;

 private:
  struct sigaction old_int_ {
  }, old_term_{};
};

std::string DescribeStatus(int status) {
  if (status > 128) return "was killed by signal " + std::to_string(status - 128);
  return "exited with status " + std::to_string(status);
}

}  // namespace

void LaunchOptions::Validate() const {
  if (nproc < 1 || nproc > 1024) {
    throw Error("--nproc " + std::to_string(nproc) + ": must be in [1, 1024]");
  }
  if (master_port < 0 || master_port > 65535) {
    throw Error("--master-port " + std::to_string(master_port) + ": must be in [0, 65535]");
  }
  if (timeout_s < 0.0) throw Error("--timeout " + std::to_string(timeout_s) + ": must be >= 0");
}

int FreeLoopbackPort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw Error("launch: cannot open a socket to find a free port");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
                  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0;
  ::close(fd);
  if (!ok) throw Error("launch: cannot find a free port on 127.0.0.1");
  return ntohs(addr.sin_port);
}

int LaunchLocal(const LaunchOptions& options, const std::vector<std::string>& command) {
  options.Validate();
  if (command.empty()) throw Error("launch: no command after --");
  std::string program = command[0];
  if (program == "recarena") program = std::filesystem::read_symlink("/proc/self/exe").string();
  const std::vector<std::string> args(command.begin() + 1, command.end());
  const int port = options.master_port > 0 ? options.master_port : FreeLoopbackPort();
  const SignalWatch watch;
  std::vector<std::unique_ptr<ChildProcess>> ranks;
  for (int r = 0; r < options.nproc; ++r) {
    ChildProcess::Options o;
    o.inherit_output = true;
    o.env = {{"RANK", std::to_string(r)},
             {"LOCAL_RANK", std::to_string(r)},
             {"WORLD_SIZE", std::to_string(options.nproc)},
             {"LOCAL_WORLD_SIZE", std::to_string(options.nproc)},
             {"MASTER_ADDR", "127.0.0.1"},
             {"MASTER_PORT", std::to_string(port)}};
    if (options.timeout_s > 0.0) {
      o.env.emplace_back("RECARENA_DIST_TIMEOUT_S", std::to_string(options.timeout_s));
    }
    ranks.push_back(std::make_unique<ChildProcess>(program, args, o));
  }
  log::Info("launch: {} processes of {} (MASTER_PORT {})", options.nproc, command[0], port);
  int failure = 0;
  std::vector<bool> done(ranks.size(), false);
  size_t finished = 0;
  while (finished < ranks.size() && failure == 0) {
    if (const int sig = g_signal.load(); sig != 0) {
      log::Warn("launch: signal {} received; passing it on to every process", sig);
      for (auto& p : ranks) p->Signal(sig);
      failure = 128 + sig;
      break;
    }
    for (size_t r = 0; r < ranks.size(); ++r) {
      if (done[r] || ranks[r]->Running()) continue;
      done[r] = true;
      ++finished;
      const int status = ranks[r]->Wait();
      if (status != 0 && failure == 0) {
        failure = status;
        log::Error("launch: rank {} (pid {}) {}; stopping the other ranks", r, ranks[r]->pid(),
                   DescribeStatus(status));
      }
    }
    if (finished < ranks.size() && failure == 0) ::usleep(20000);
  }
  for (size_t r = 0; r < ranks.size(); ++r) {
    if (!done[r]) ranks[r]->Stop(options.grace_s);
  }
  return failure;
}

}  // namespace recarena::dist
