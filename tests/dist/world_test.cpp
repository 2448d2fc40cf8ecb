// dist/world.h: the torchrun-style variables, parsed strictly, with errors naming the variable and
// its value.
#include <catch2/catch.hpp>

#include "core/error.h"
#include "dist/world.h"

using recarena::dist::Backend;
using recarena::dist::World;
using recarena::dist::WorldFromVariables;

namespace {
std::string ErrorOf(const std::vector<std::pair<std::string, std::string>>& env) {
  try {
    WorldFromVariables(env);
  } catch (const recarena::Error& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST_CASE("world: without WORLD_SIZE, or with 1, the process runs alone") {
  const World alone = WorldFromVariables({{"RANK", "3"}});
  CHECK(alone.size == 1);
  CHECK(alone.rank == 0);
  CHECK_FALSE(alone.distributed());
  CHECK_FALSE(WorldFromVariables({{"WORLD_SIZE", "1"}}).distributed());
}

TEST_CASE("world: the torchrun variables and recarena's own are read") {
  const World w = WorldFromVariables({{"WORLD_SIZE", "4"},
                                      {"RANK", "2"},
                                      {"LOCAL_RANK", "0"},
                                      {"MASTER_ADDR", "10.0.0.7"},
                                      {"MASTER_PORT", "29999"},
                                      {"RECARENA_DIST_BACKEND", "gloo"},
                                      {"RECARENA_DIST_TIMEOUT_S", "12.5"},
                                      {"RECARENA_DIST_BUCKET_MB", "1"}});
  CHECK(w.distributed());
  CHECK(w.size == 4);
  CHECK(w.rank == 2);
  CHECK(w.local_rank == 0);
  CHECK(w.master_addr == "10.0.0.7");
  CHECK(w.master_port == 29999);
  CHECK(w.backend == Backend::kGloo);
  CHECK(w.timeout_s == 12.5);
  CHECK(w.bucket_mb == 1.0);
}

TEST_CASE("world: bad values are errors naming the variable and the value") {
  CHECK_THAT(ErrorOf({{"WORLD_SIZE", "two"}}), Catch::Contains("WORLD_SIZE='two'"));
  CHECK_THAT(ErrorOf({{"WORLD_SIZE", "2"}}), Catch::Contains("RANK is not"));
  CHECK_THAT(ErrorOf({{"WORLD_SIZE", "2"}, {"RANK", "2"}}), Catch::Contains("RANK='2'"));
  CHECK_THAT(ErrorOf({{"WORLD_SIZE", "2"}, {"RANK", "-1"}}), Catch::Contains("RANK='-1'"));
  CHECK_THAT(ErrorOf({{"WORLD_SIZE", "2"}, {"RANK", "1x"}}), Catch::Contains("RANK='1x'"));
  CHECK_THAT(ErrorOf({{"WORLD_SIZE", "2"}, {"RANK", "0"}, {"MASTER_PORT", "70000"}}),
             Catch::Contains("MASTER_PORT='70000'"));
  CHECK_THAT(ErrorOf({{"WORLD_SIZE", "2"}, {"RANK", "0"}, {"RECARENA_DIST_TIMEOUT_S", "0"}}),
             Catch::Contains("RECARENA_DIST_TIMEOUT_S='0'"));
  CHECK_THAT(ErrorOf({{"WORLD_SIZE", "2"}, {"RANK", "0"}, {"RECARENA_DIST_BUCKET_MB", "nan"}}),
             Catch::Contains("RECARENA_DIST_BUCKET_MB='nan'"));
  CHECK_THAT(ErrorOf({{"WORLD_SIZE", "2"}, {"RANK", "0"}, {"RECARENA_DIST_BACKEND", "mpi"}}),
             Catch::Contains("RECARENA_DIST_BACKEND") && Catch::Contains("mpi"));
}
