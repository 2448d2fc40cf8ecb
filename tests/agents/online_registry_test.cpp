// The online-agent registry (agents/online_config.h): one row per kind, the names, validation and
// the factory derived from the rows.
#include <catch2/catch.hpp>

#include <torch/torch.h>

#include <set>
#include <string>

#include "agents/online_config.h"
#include "agents/toy_env.h"
#include "core/error.h"
#include "policies/exploration.h"

namespace agents = recarena::agents;
namespace config = recarena::config;
using agents::OnlineAgentKind;

namespace {
std::string ConfigErrorPath(const agents::OnlineAgentOptions& o) {
  try {
    o.Validate();
  } catch (const recarena::ConfigError& e) {
    return e.path();
  }
  return "";
}
}  // namespace

TEST_CASE("online agent registry: one row per kind, names round-trip", "[online_registry]") {
  const auto& rows = agents::OnlineAgentRegistry();
  REQUIRE(rows.size() == 11);
  std::set<std::string> names;
  for (const auto& row : rows) {
    INFO(row.name);
    CHECK(config::EnumToString(row.kind) == row.name);
    CHECK(config::ParseEnum<OnlineAgentKind>(row.name, "agent.kind") == row.kind);
    CHECK(&agents::OnlineAgentRowOf(row.kind) == &row);
    CHECK(row.make != nullptr);
    names.insert(row.name);
  }
  CHECK(names == std::set<std::string>{"random", "popular", "oracle", "dqn", "pg", "a2c", "dt",
                                       "ialp", "ialp_ft", "ialp_ap", "llm_online"});
  // The experiment grid runs the agents that do not learn online once, without exploration: the
  // fixed baselines and the frozen iALP policy.
  for (const auto& row : rows) {
    const bool fixed = row.kind == OnlineAgentKind::kRandom ||
                       row.kind == OnlineAgentKind::kPopular ||
                       row.kind == OnlineAgentKind::kOracle || row.kind == OnlineAgentKind::kIalp;
    CHECK(row.learns == !fixed);
  }
  CHECK_THROWS_AS(config::ParseEnum<OnlineAgentKind>("sac", "agent.kind"), recarena::Error);
}

TEST_CASE("online agent registry: every section is checked, dt only for kind dt",
          "[online_registry]") {
  auto o = recarena::testing::ToyAgentOptions();
  o.kind = OnlineAgentKind::kPg;
  CHECK(ConfigErrorPath(o).empty());
  auto bad = o;
  bad.dqn.batch_size = 0;  // another agent's section still fails the config
  CHECK(ConfigErrorPath(bad) == "agent.dqn.batch_size");
  bad = o;
  bad.pg.episodes_per_update = 0;
  CHECK(ConfigErrorPath(bad) == "agent.pg.episodes_per_update");
  bad = o;
  bad.a2c.gae_lambda = 1.5;
  CHECK(ConfigErrorPath(bad) == "agent.a2c.gae_lambda");
  try {
    bad.Validate();
    FAIL("no error");
  } catch (const recarena::ConfigError& e) {
    CHECK(std::string(e.what()) == "agent.a2c.gae_lambda must be in [0, 1]: got 1.5");
  }
  bad = o;
  bad.dt.batch_size = 0;
  CHECK(ConfigErrorPath(bad).empty());  // the dt section is off unless kind is dt
  bad.kind = OnlineAgentKind::kDt;
  CHECK(ConfigErrorPath(bad) == "agent.dt.batch_size");
  bad = o;
  bad.dqn.learning_starts = bad.dqn.buffer_size + 1;
  CHECK(ConfigErrorPath(bad) == "agent.dqn.learning_starts");
}

TEST_CASE("online agent registry: MakeOnlineAgent builds each kind through its row",
          "[online_registry]") {
  auto o = recarena::testing::ToyAgentOptions();
  recarena::policies::ExplorationOptions e;
  const int64_t n = 4;
  for (OnlineAgentKind kind : {OnlineAgentKind::kRandom, OnlineAgentKind::kDqn,
                               OnlineAgentKind::kPg, OnlineAgentKind::kA2c}) {
    o.kind = kind;
    INFO(config::EnumToString(kind));
    CHECK(agents::MakeOnlineAgent(o, e, n, torch::kCPU) != nullptr);
  }
  o.kind = OnlineAgentKind::kPopular;
  CHECK_THROWS_WITH(agents::MakeOnlineAgent(o, e, n, torch::kCPU),
                    Catch::Contains("needs item popularity"));
  CHECK(agents::MakeOnlineAgent(o, e, n, torch::kCPU, torch::ones({n})) != nullptr);
  o.kind = OnlineAgentKind::kDt;
  CHECK_THROWS_WITH(agents::MakeOnlineAgent(o, e, n, torch::kCPU),
                    Catch::Contains("needs its resolved setup"));
}
