// Opening a `recarena train` run directory (experiments/trained_run.h): what is missing or of the
// wrong kind is named, with the file and the caller.
#include <catch2/catch.hpp>

#include "core/atomic_file.h"
#include "core/config.h"
#include "core/error.h"
#include "experiments/train/trained_run.h"
#include "test_util.h"

using namespace recarena;
using namespace recarena::experiments;
namespace fs = std::filesystem;

TEST_CASE("OpenTrainedRun: names the missing config, then the missing checkpoint",
          "[trained_run]") {
  testing::TempDir tmp;
  const fs::path dir = tmp.path() / "run";
  fs::create_directories(dir);
  CHECK_THROWS_MATCHES(OpenTrainedRun(dir, "conformal-eval"), FileError,
                       Catch::Matchers::Predicate<FileError>([&](const FileError& e) {
                         const std::string w = e.what();
                         return w.find((dir / "config.yaml").string()) != std::string::npos &&
                                w.find("conformal-eval: not found") != std::string::npos &&
                                w.find("run directory of `recarena train`") != std::string::npos;
                       }));
  OfflineTrainConfig cfg;
  cfg.model_kind = OfflineModel::kMrdt;
  WriteFileAtomic(dir / "config.yaml", config::ToYamlString(cfg));
  CHECK_THROWS_WITH(OpenTrainedRun(dir, "dt-sweep"), Catch::Contains((dir / "best.pt").string()) &&
                                                         Catch::Contains("dt-sweep: not found") &&
                                                         Catch::Contains("no best checkpoint"));
  WriteFileAtomic(dir / "best.pt", std::string("x"));
  const TrainedRun run = OpenTrainedRun(dir, "dt-sweep");
  CHECK(run.cfg.model_kind == OfflineModel::kMrdt);
  CHECK(run.best == dir / "best.pt");
  CHECK_NOTHROW(RequireModelKind(run, {OfflineModel::kModt4r, OfflineModel::kMrdt}, "dt-sweep"));
  CHECK_THROWS_WITH(
      RequireModelKind(run, {OfflineModel::kNormal, OfflineModel::kCpft}, "cpft.init_from"),
      Catch::Contains("config.yaml") &&
          Catch::Contains(
              "cpft.init_from: the run's model_kind is mrdt; this needs normal | cpft"));
}
