// Where this process stands in a distributed job: the torchrun / SLURM / mpirun convention of
// environment variables, read once at a command's start.
//
//   RANK, WORLD_SIZE, LOCAL_RANK   this process's rank, the number of processes, its rank on the
//   host MASTER_ADDR, MASTER_PORT       where rank 0 serves the rendezvous store (c10d's TCPStore)
//   RECARENA_DIST_BACKEND          auto (default) | gloo (auto = gloo: NCCL is not wired yet,
//                                  docs/distributed.md)
//   RECARENA_DIST_TIMEOUT_S        seconds any collective or the rendezvous may wait (default 600;
//                                  it must exceed rank 0's longest validation, which the others
//                                  wait through)
//   RECARENA_DIST_BUCKET_MB        gradient all-reduce bucket size in MiB (default 25, as DDP's)
//
// Without WORLD_SIZE (or with WORLD_SIZE=1) the process runs alone and nothing else is read.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/config_schema.h"

namespace recarena::dist {

enum class Backend {
  kAuto,  // gloo
  kGloo   // c10d's ProcessGroupGloo: CPU tensors (and CUDA ones through host copies)
};

struct World {
  int rank = 0;
  int size = 1;
  int local_rank = 0;
  std::string master_addr = "127.0.0.1";
  int master_port = 29500;
  Backend backend = Backend::kAuto;
  double timeout_s = 600.0;
  double bucket_mb = 25.0;
  bool distributed() const { return size > 1; }
  // Throws Error naming the variable and its value (rank outside [0, size), port outside
  // [1, 65535], timeout or bucket not positive).
  void Validate() const;
};

// The World of `env` (name -> value; a missing name is unset). Every value is parsed strictly: a
// variable that is set but not a whole number (or a positive number, for the timeout and bucket)
// is an Error naming the variable and the value.
World WorldFromVariables(const std::vector<std::pair<std::string, std::string>>& env);
// WorldFromVariables over this process's environment.
World WorldFromEnvironment();

}  // namespace recarena::dist

namespace recarena::config {
template <>
struct EnumNames<dist::Backend> {
  static const std::vector<std::pair<dist::Backend, std::string>>& Table() {
    static const std::vector<std::pair<dist::Backend, std::string>> t = {
        {dist::Backend::kAuto, "auto"}, {dist::Backend::kGloo, "gloo"}};
    return t;
  }
};
}  // namespace recarena::config
