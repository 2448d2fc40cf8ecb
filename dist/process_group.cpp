#include "dist/process_group.h"

#include <fmt/format.h>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include <chrono>
#include <cstdlib>

#include "core/error.h"

namespace recarena::dist {

namespace {

std::chrono::milliseconds Millis(double seconds) {
  return std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000.0));
}

// The first line of a c10d / Gloo message (they append C++ stack traces).
std::string FirstLine(const std::exception& e) {
  const std::string what = e.what();
  return what.substr(0, what.find('\n'));
}

bool Loopback(const std::string& addr) {
  return addr == "localhost" || addr.rfind("127.", 0) == 0 || addr == "::1";
}

}  // namespace

struct ProcessGroup::Impl {
  c10::intrusive_ptr<c10d::TCPStore> store;
  c10::intrusive_ptr<c10d::ProcessGroupGloo> gloo;
};

ProcessGroup::ProcessGroup(const World& world) : world_(world), impl_(std::make_unique<Impl>()) {
  world.Validate();
  const std::string where = fmt::format("{}:{}", world.master_addr, world.master_port);
  try {
    c10d::TCPStoreOptions o;
    o.port = static_cast<std::uint16_t>(world.master_port);
    o.isServer = world.rank == 0;
    o.numWorkers = static_cast<size_t>(world.size);
    o.waitWorkers = true;
    o.timeout = Millis(world.timeout_s);
    impl_->store = c10::make_intrusive<c10d::TCPStore>(world.master_addr, o);
  } catch (const std::exception& e) {
    throw Error(fmt::format(
        "distributed: rank {} of {} could not meet the others at the rendezvous {} (MASTER_ADDR:"
        "MASTER_PORT) within {} s: {}",
        world.rank, world.size, where, world.timeout_s, FirstLine(e)));
  }
  try {
    auto options = c10d::ProcessGroupGloo::Options::create(Millis(world.timeout_s));
    // One TCP device: on the loopback for a local job, else the interface GLOO_SOCKET_IFNAME
    // names, else the address this host's name resolves to (as torch.distributed does).
    const char* ifname = std::getenv("GLOO_SOCKET_IFNAME");
    if (ifname != nullptr && *ifname != '\0') {
      options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(ifname));
    } else if (Loopback(world.master_addr)) {
      options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1"));
    } else {
      options->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
    }
    impl_->gloo =
        c10::make_intrusive<c10d::ProcessGroupGloo>(impl_->store, world.rank, world.size, options);
  } catch (const std::exception& e) {
    throw Error(
        fmt::format("distributed: rank {} of {} could not connect to its peers through {} "
                    "within {} s: {}",
                    world.rank, world.size, where, world.timeout_s, FirstLine(e)));
  }
}

ProcessGroup::~ProcessGroup() = default;

namespace {
template <class F>
void Collective(const World& w, const std::string& op, const std::string& what, F&& run) {
  try {
    run()->wait(Millis(w.timeout_s));
  } catch (const std::exception& e) {
    throw Error(
        fmt::format("distributed: {} of {} failed on rank {} of {}: a peer process ended or "
                    "did not answer within {} s (RECARENA_DIST_TIMEOUT_S): {}",
                    op, what, w.rank, w.size, w.timeout_s, FirstLine(e)));
  }
}
}  // namespace

void ProcessGroup::AllReduceSum(std::vector<torch::Tensor>& tensors, const std::string& what) {
  if (tensors.empty()) return;
  Collective(world_, "all-reduce", what, [&] {
    c10d::AllreduceOptions o;
    o.reduceOp = c10d::ReduceOp::SUM;
    return impl_->gloo->allreduce(tensors, o);
  });
}

void ProcessGroup::Broadcast(std::vector<torch::Tensor>& tensors, int root,
                             const std::string& what) {
  if (tensors.empty()) return;
  Collective(world_, "broadcast", what, [&] {
    c10d::BroadcastOptions o;
    o.rootRank = root;
    return impl_->gloo->broadcast(tensors, o);
  });
}

void ProcessGroup::Barrier(const std::string& what) {
  Collective(world_, "barrier", what, [&] { return impl_->gloo->barrier(); });
}

void ProcessGroup::Set(const std::string& key, const std::string& value) {
  try {
    impl_->store->set("recarena/" + key, std::vector<uint8_t>(value.begin(), value.end()));
  } catch (const std::exception& e) {
    throw Error(fmt::format("distributed: rank {} could not publish '{}': {}", world_.rank, key,
                            FirstLine(e)));
  }
}

std::string ProcessGroup::Get(const std::string& key) {
  try {
    const std::vector<uint8_t> v = impl_->store->get("recarena/" + key);
    return std::string(v.begin(), v.end());
  } catch (const std::exception& e) {
    throw Error(fmt::format("distributed: rank {} did not receive '{}' from rank 0 within {} s: {}",
                            world_.rank, key, world_.timeout_s, FirstLine(e)));
  }
}

std::unique_ptr<ProcessGroup> JoinGroup(const World& world) {
  if (!world.distributed()) return nullptr;
  return std::make_unique<ProcessGroup>(world);
}

}  // namespace recarena::dist
