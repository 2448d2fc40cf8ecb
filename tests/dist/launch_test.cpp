// dist/launch.h: the local launcher with real processes (sh): the variables each rank gets, and a
// failing rank stopping the others.
#include <catch2/catch.hpp>

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "core/error.h"
#include "dist/launch.h"

using recarena::dist::LaunchLocal;
using recarena::dist::LaunchOptions;

TEST_CASE("launch: every rank gets the torchrun variables, and all succeeding is success") {
  LaunchOptions o;
  o.nproc = 3;
  o.master_port = 29876;
  o.timeout_s = 7;
  const std::string check =
      "test \"$WORLD_SIZE\" = 3 && test \"$LOCAL_WORLD_SIZE\" = 3 && test \"$RANK\" -ge 0 && "
      "test \"$RANK\" -lt 3 && test \"$LOCAL_RANK\" = \"$RANK\" && "
      "test \"$MASTER_ADDR\" = 127.0.0.1 && test \"$MASTER_PORT\" = 29876 && "
      "test \"$RECARENA_DIST_TIMEOUT_S\" = 7.000000";
  CHECK(LaunchLocal(o, {"sh", "-c", check}) == 0);
  CHECK(LaunchLocal(o, {"sh", "-c", "test \"$RANK\" != 2"}) == 1);
}

TEST_CASE("launch: a failing rank stops the others at once and its status is the launch's") {
  LaunchOptions o;
  o.nproc = 2;
  o.grace_s = 2.0;
  const auto start = std::chrono::steady_clock::now();
  // Rank 1 fails after 0.2 s; rank 0 would sleep for a minute.
  const int rc = LaunchLocal(o, {"sh", "-c",
                                 "if [ \"$RANK\" = 1 ]; then sleep 0.2; exit 3; fi; "
                                 "exec sleep 60"});
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  CHECK(rc == 3);
  CHECK(s < 10.0);
}

TEST_CASE("launch: bad options are errors naming them") {
  LaunchOptions o;
  o.nproc = 0;
  CHECK_THROWS_WITH(LaunchLocal(o, {"true"}), Catch::Contains("--nproc 0"));
  o.nproc = 1;
  o.master_port = 70000;
  CHECK_THROWS_WITH(LaunchLocal(o, {"true"}), Catch::Contains("--master-port 70000"));
  o.master_port = 0;
  CHECK_THROWS_WITH(LaunchLocal(o, {}), Catch::Contains("no command"));
}

TEST_CASE(
    "launch: SIGTERM to the launcher is passed on to every rank, then its handler is restored") {
  LaunchOptions o;
  o.nproc = 2;
  o.grace_s = 2.0;
  struct sigaction before {};
  ::sigaction(SIGTERM, nullptr, &before);
  const auto start = std::chrono::steady_clock::now();
  std::thread killer([] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    ::kill(::getpid(), SIGTERM);
  });
  const int rc = LaunchLocal(o, {"sleep", "60"});
  killer.join();
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  CHECK(rc == 128 + SIGTERM);
  CHECK(s < 10.0);
  struct sigaction after {};
  ::sigaction(SIGTERM, nullptr, &after);
  CHECK(after.sa_handler == before.sa_handler);
}
