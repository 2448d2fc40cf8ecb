// The `run:` section every command's config shares: name, seed, device, output location, log level.
#pragma once

#include <cstdint>
#include <string>

#include "core/config_schema.h"
#include "core/device.h"

namespace recarena {

struct RunConfig {
  std::string name = "run";  // run directory is <dir>/<name>-<timestamp> unless out is set
  uint64_t seed = 42;        // the one seed; every RNG of the run is derived from it
  DeviceKind device = DeviceKind::kAuto;
  std::string dir = "runs";  // parent of timestamped run directories
  std::string out;           // explicit run directory (reused as-is: resume)
  std::string log_level = "info";

  template <class V>
  void Visit(V& v) {
    v("name", name);
    v("seed", seed);
    v("device", device);
    v("dir", dir);
    v("out", out);
    v("log_level", log_level);
  }
  void Validate() const;
};

}  // namespace recarena

namespace recarena::config {
template <>
struct EnumNames<DeviceKind> {
  static const std::vector<std::pair<DeviceKind, std::string>>& Table() {
    static const std::vector<std::pair<DeviceKind, std::string>> t = {
        {DeviceKind::kAuto, "auto"}, {DeviceKind::kCpu, "cpu"}, {DeviceKind::kCuda, "cuda"}};
    return t;
  }
};
}  // namespace recarena::config
