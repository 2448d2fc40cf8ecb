// Exploration options: schedule golden values, Validate naming the key, YAML reading
// (policies/exploration.h).
#include <catch2/catch.hpp>
#include <functional>
#include <limits>
#include <string>

#include "core/config.h"
#include "core/error.h"
#include "policies/exploration.h"

using recarena::ConfigError;
using recarena::policies::ExplorationKind;
using recarena::policies::ExplorationOptions;
using recarena::policies::Explorer;
using recarena::policies::ScheduleKind;
using recarena::policies::ScheduleOptions;

namespace {

constexpr double kNan = std::numeric_limits<double>::quiet_NaN();

// Runs fn, requires a ConfigError whose path is `path` and whose message contains `value`.
void RequireConfigError(const std::function<void()>& fn, const std::string& path,
                        const std::string& value) {
  try {
    fn();
    FAIL("no ConfigError thrown; expected one for " << path);
  } catch (const ConfigError& e) {
    CHECK(e.path() == path);
    CHECK_THAT(e.what(), Catch::Contains(path) && Catch::Contains(value));
  }
}

}  // namespace

TEST_CASE("Schedules: golden values for constant, linear and exponential",
          "[policies][exploration]") {
  ScheduleOptions c;  // constant 0.1
  CHECK(c.Value(0) == 0.1);
  CHECK(c.Value(5000) == 0.1);
  CHECK(c.Value(1000000) == 0.1);

  ScheduleOptions lin{ScheduleKind::kLinear, 1.0, 0.1, 100};
  CHECK(lin.Value(0) == Approx(1.0));
  CHECK(lin.Value(-7) == Approx(1.0));  // before the start: start
  CHECK(lin.Value(25) == Approx(0.775));
  CHECK(lin.Value(50) == Approx(0.55));
  CHECK(lin.Value(100) == 0.1);
  CHECK(lin.Value(1000) == 0.1);

  ScheduleOptions ex{ScheduleKind::kExponential, 1.0, 0.01, 100};
  CHECK(ex.Value(0) == Approx(1.0));
  CHECK(ex.Value(25) == Approx(0.31622776601683794));  // 0.01^(1/4)
  CHECK(ex.Value(50) == Approx(0.1));
  CHECK(ex.Value(100) == 0.01);
  CHECK(ex.Value(100000) == 0.01);

  // Increasing schedules work too (e.g. a temperature that grows).
  ScheduleOptions up{ScheduleKind::kExponential, 0.5, 8.0, 4};
  CHECK(up.Value(1) == Approx(1.0));
  CHECK(up.Value(2) == Approx(2.0));
  CHECK(up.Value(3) == Approx(4.0));
}

TEST_CASE("Schedule and exploration Validate name the key and the value",
          "[policies][exploration]") {
  ScheduleOptions s{ScheduleKind::kLinear, 0.5, 0.1, 0};
  RequireConfigError([&] { s.Validate("exploration.epsilon"); }, "exploration.epsilon.steps",
                     "got 0");
  s = ScheduleOptions{ScheduleKind::kExponential, 0.0, 0.1, 10};
  RequireConfigError([&] { s.Validate("a.b"); }, "a.b.start", "got 0");
  s = ScheduleOptions{ScheduleKind::kExponential, 1.0, -0.25, 10};
  RequireConfigError([&] { s.Validate("a.b"); }, "a.b.end", "got -0.25");
  s = ScheduleOptions{ScheduleKind::kLinear, kNan, 0.1, 10};
  RequireConfigError([&] { s.Validate("a.b"); }, "a.b.start", "nan");
  // A constant schedule does not use steps.
  ScheduleOptions{ScheduleKind::kConstant, 0.3, 0.0, 0}.Validate("x");

  ExplorationOptions o;
  o.Validate();  // the defaults are valid
  o.epsilon.start = 1.5;
  RequireConfigError([&] { o.Validate(); }, "exploration.epsilon.start", "1.5");
  o = ExplorationOptions{};
  o.epsilon = ScheduleOptions{ScheduleKind::kLinear, 1.0, -0.1, 100};
  RequireConfigError([&] { o.Validate(); }, "exploration.epsilon.end", "-0.1");
  o = ExplorationOptions{};
  o.temperature = 0.0;
  RequireConfigError([&] { o.Validate(); }, "exploration.temperature", "got 0");
  o = ExplorationOptions{};
  o.boltzmann_temperature.end = -2.0;
  RequireConfigError([&] { o.Validate(); }, "exploration.boltzmann_temperature.end", "-2");
  o = ExplorationOptions{};
  o.boltzmann_temperature = ScheduleOptions{ScheduleKind::kLinear, 1.0, 0.0, 10};
  RequireConfigError([&] { o.Validate(); }, "exploration.boltzmann_temperature.end", "got 0");
  o = ExplorationOptions{};
  o.top_k = 0;
  RequireConfigError([&] { o.Validate(); }, "exploration.top_k", "got 0");
  o = ExplorationOptions{};
  o.ucb_coef = -1.0;
  RequireConfigError([&] { o.Validate(); }, "exploration.ucb_coef", "got -1");

  // The Explorer validates too; num_items must be >= 1.
  o = ExplorationOptions{};
  o.top_k = -3;
  CHECK_THROWS_AS(Explorer(o, 5), ConfigError);
  CHECK_THROWS_WITH(Explorer(ExplorationOptions{}, 0), Catch::Contains("num_items"));
}

namespace {
struct ExplorationConfigForTest {
  ExplorationOptions exploration;
  template <class V>
  void Visit(V& v) {
    v("exploration", exploration);
  }
  void Validate() const { exploration.Validate(); }
};
}  // namespace

TEST_CASE("Exploration options read from YAML with nested schedules", "[policies][exploration]") {
  using recarena::config::Document;
  ExplorationConfigForTest cfg;
  Document::FromString(
      "exploration:\n  kind: boltzmann\n  boltzmann_temperature:\n    kind: linear\n    start: 2\n"
      "    end: 0.5\n    steps: 40\n  top_k: 3\n",
      "e.yaml", {"exploration.epsilon.kind=exponential"})
      .Read(cfg);
  CHECK(cfg.exploration.kind == ExplorationKind::kBoltzmann);
  CHECK(cfg.exploration.boltzmann_temperature.kind == ScheduleKind::kLinear);
  CHECK(cfg.exploration.boltzmann_temperature.Value(20) == Approx(1.25));
  CHECK(cfg.exploration.top_k == 3);
  CHECK(cfg.exploration.epsilon.kind == ScheduleKind::kExponential);
  ExplorationConfigForTest bad;
  CHECK_THROWS_WITH(
      Document::FromString("exploration:\n  kind: epsilon-greedy\n", "k.yaml").Read(bad),
      Catch::Contains("epsilon_greedy"));
  CHECK_THROWS_WITH(
      Document::FromString("exploration:\n  epsilon:\n    start: 2\n", "k.yaml").Read(bad),
      Catch::Contains("exploration.epsilon.start") && Catch::Contains("k.yaml"));
  // The resolved config round-trips.
  ExplorationConfigForTest back;
  Document::FromString(recarena::config::ToYamlString(cfg), "r.yaml").Read(back);
  CHECK(back.exploration.boltzmann_temperature.steps == 40);
  CHECK(back.exploration.kind == ExplorationKind::kBoltzmann);
}
