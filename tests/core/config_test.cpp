#include <catch2/catch.hpp>

#include "core/config.h"
#include "core/run_config.h"
#include "test_util.h"

namespace {

enum class Color { kRed, kGreen };

struct Inner {
  int count = 3;
  double rate = 0.5;
  Color color = Color::kRed;
  std::vector<int> ks{5, 10};
  template <class V>
  void Visit(V& v) {
    v("count", count);
    v("rate", rate);
    v("color", color);
    v("ks", ks);
  }
  void Validate() const {
    if (count < 0)
      throw recarena::ConfigError("inner.count",
                                  "inner.count must be >= 0, got " + std::to_string(count));
  }
};

struct Top {
  recarena::RunConfig run;
  Inner inner;
  template <class V>
  void Visit(V& v) {
    v("run", run);
    v("inner", inner);
  }
  void Validate() const {
    run.Validate();
    inner.Validate();
  }
};

}  // namespace

namespace recarena::config {
template <>
struct EnumNames<Color> {
  static const std::vector<std::pair<Color, std::string>>& Table() {
    static const std::vector<std::pair<Color, std::string>> t = {{Color::kRed, "red"},
                                                                 {Color::kGreen, "green"}};
    return t;
  }
};
}  // namespace recarena::config

using recarena::config::Document;

TEST_CASE("config: defaults when keys are absent, values when present", "[config]") {
  Top cfg;
  Document::FromString("inner:\n  count: 7\n  color: green\n  ks: [1, 2, 3]\n", "a.yaml").Read(cfg);
  CHECK(cfg.inner.count == 7);
  CHECK(cfg.inner.rate == 0.5);
  CHECK(cfg.inner.color == Color::kGreen);
  CHECK(cfg.inner.ks == std::vector<int>{1, 2, 3});
  CHECK(cfg.run.seed == 42);
}

TEST_CASE("config: unknown key names key, file, line and closest key", "[config]") {
  Top cfg;
  try {
    Document::FromString("run:\n  seed: 1\ninner:\n  cuont: 2\n", "cfg.yaml").Read(cfg);
    FAIL("expected an error");
  } catch (const recarena::Error& e) {
    std::string msg = e.what();
    CHECK_THAT(msg, Catch::Contains("cfg.yaml:4"));
    CHECK_THAT(msg, Catch::Contains("'cuont'"));
    CHECK_THAT(msg, Catch::Contains("did you mean 'count'"));
  }
}

TEST_CASE("config: duplicate keys and runaway nesting are refused", "[config]") {
  Top cfg;
  CHECK_THROWS_WITH(Document::FromString("inner:\n  count: 7\n  count: 8\n", "dup.yaml").Read(cfg),
                    Catch::Contains("dup.yaml:3") &&
                        Catch::Contains("duplicate key 'inner.count'") &&
                        Catch::Contains("line 2"));
  CHECK_THROWS_WITH(Document::FromString("run:\n  seed: 1\nrun:\n  seed: 2\n", "top.yaml"),
                    Catch::Contains("top.yaml:3") && Catch::Contains("duplicate key 'run'"));
  std::string deep;
  for (int d = 0; d < 70; ++d) deep += std::string(static_cast<size_t>(2 * d), ' ') + "k:\n";
  CHECK_THROWS_WITH(Document::FromString(deep, "deep.yaml"), Catch::Contains("deeper than 64"));
  // An alias bomb: each level refers to the previous one ten times.
  std::string bomb = "a0: &a0 {x: 1, y: 2}\n";
  for (int i = 1; i < 9; ++i) {
    bomb += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " {";
    for (int j = 0; j < 10; ++j) {
      bomb +=
          (j ? ", " : "") + std::string("k") + std::to_string(j) + ": *a" + std::to_string(i - 1);
    }
    bomb += "}\n";
  }
  CHECK_THROWS_WITH(Document::FromString(bomb, "bomb.yaml"), Catch::Contains("aliases"));
  // A complex key (found by fuzz/config_yaml_fuzz: it escaped as a yaml-cpp conversion error).
  CHECK_THROWS_WITH(Document::FromString("run:\n  ? e:: 1\n", "complex.yaml"),
                    Catch::Contains("complex.yaml:2") && Catch::Contains("plain names"));
  CHECK_THROWS_WITH(Document::FromString("? [a, b]\n: 1\n", "list.yaml"),
                    Catch::Contains("list.yaml:1") && Catch::Contains("(top level)"));
}

TEST_CASE("config: bad value type and bad enum are reported with their origin", "[config]") {
  Top cfg;
  CHECK_THROWS_WITH(Document::FromString("inner:\n  count: abc\n", "c.yaml").Read(cfg),
                    Catch::Contains("c.yaml:2") && Catch::Contains("'abc'"));
  CHECK_THROWS_WITH(Document::FromString("inner:\n  color: gren\n", "c.yaml").Read(cfg),
                    Catch::Contains("did you mean 'green'"));
}

TEST_CASE("config: Validate errors carry the file and line of the bad key", "[config]") {
  Top cfg;
  CHECK_THROWS_WITH(Document::FromString("\ninner:\n  count: -4\n", "v.yaml").Read(cfg),
                    Catch::Contains("v.yaml:3") && Catch::Contains("-4"));
}

TEST_CASE("config: command-line overrides win and unknown override keys fail", "[config]") {
  Top cfg;
  Document::FromString("inner:\n  count: 7\n", "o.yaml",
                       {"inner.count=9", "run.seed=5", "run.device=cpu"})
      .Read(cfg);
  CHECK(cfg.inner.count == 9);
  CHECK(cfg.run.seed == 5);
  CHECK(cfg.run.device == recarena::DeviceKind::kCpu);
  Top cfg2;
  CHECK_THROWS_WITH(
      Document::FromString("", "o.yaml", {"inner.rat=1"}).Read(cfg2),
      Catch::Contains("command-line override") && Catch::Contains("did you mean 'rate'"));
  CHECK_THROWS_WITH(Document::FromString("", "o.yaml", {"novalue"}).Read(cfg2),
                    Catch::Contains("section.key=value"));
}

TEST_CASE("config: resolved YAML round-trips", "[config]") {
  Top cfg;
  cfg.inner.count = 11;
  cfg.inner.color = Color::kGreen;
  cfg.run.name = "x";
  const std::string text = recarena::config::ToYamlString(cfg);
  Top back;
  Document::FromString(text, "resolved.yaml").Read(back);
  CHECK(back.inner.count == 11);
  CHECK(back.inner.color == Color::kGreen);
  CHECK(back.run.name == "x");
  CHECK(back.inner.ks == cfg.inner.ks);
}

TEST_CASE("config: YAML syntax errors give line and column", "[config]") {
  Top cfg;
  CHECK_THROWS_WITH(Document::FromString("inner:\n  count: [1, 2\n", "s.yaml").Read(cfg),
                    Catch::Contains("s.yaml:") && Catch::Contains("YAML syntax error"));
}

namespace {
// A cross-key check: the error's path is pair.a whichever key is wrong.
struct Pair {
  double a = 0.5, b = 0.25;
  template <class V>
  void Visit(V& v) {
    v("a", a);
    v("b", b);
  }
  void Validate() const {
    if (a + b > 1.0) {
      throw recarena::ConfigError("pair.a", "pair.a + pair.b must be <= 1, got " +
                                                std::to_string(a) + " + " + std::to_string(b));
    }
  }
};
struct WithPair {
  Inner inner;
  Pair pair;
  template <class V>
  void Visit(V& v) {
    v("inner", inner);
    v("pair", pair);
  }
  void Validate() const {
    inner.Validate();
    pair.Validate();
  }
};
std::string ReadError(const std::string& yaml, const std::vector<std::string>& overrides) {
  WithPair cfg;
  try {
    Document::FromString(yaml, "p.yaml", overrides).Read(cfg);
  } catch (const recarena::Error& e) {
    return e.what();
  }
  return "no error";
}
}  // namespace

TEST_CASE("config: an error names the origin of every key it involves, defaults as defaults",
          "[config]") {
  // pair.a is a default, though the file has a 'pair' section: the section's line is not its
  // origin (before: "p.yaml:2" was named for a value the file never gave).
  std::string e = ReadError("inner:\n  count: 1\npair:\n  b: 0.75\n", {"pair.b=0.9"});
  CHECK_THAT(e, Catch::StartsWith("default value of 'pair.a':"));
  CHECK_THAT(e, Catch::Contains("pair.b is from command-line override 'pair.b=0.9'"));
  e = ReadError("pair:\n  b: 0.75\n", {});
  CHECK_THAT(e, Catch::StartsWith("default value of 'pair.a':"));
  CHECK_THAT(e, Catch::Contains("pair.b is from p.yaml:2"));
  // Both keys given: each is named once, the section 'pair' (not a value) is not.
  e = ReadError("pair:\n  a: 0.6\n  b: 0.7\n", {});
  CHECK_THAT(e, Catch::StartsWith("p.yaml:2:"));
  CHECK_THAT(e, Catch::Contains("pair.b is from p.yaml:3"));
  CHECK_THAT(e, !Catch::Contains("pair is from"));
  // An override of a whole section is the origin of the keys inside it.
  e = ReadError("", {"pair={a: 0.9, b: 0.9}"});
  CHECK_THAT(e, Catch::StartsWith("command-line override 'pair={a: 0.9, b: 0.9}':"));
  // A list element is a value of its list key; a value given nowhere is a default.
  e = ReadError("inner:\n  count: -2\n", {});
  CHECK_THAT(e, Catch::StartsWith("p.yaml:2:"));
  recarena::config::Origins o;
  o.Set("inner.ks", "k.yaml:7");
  o.Set("inner", "k.yaml:5");
  CHECK(o.Where("inner.ks[3]") == "k.yaml:7");
  CHECK(o.Where("inner.count") == "default value of 'inner.count'");
  CHECK(o.Where("inner") == "k.yaml:5");
  CHECK(o.Where("inner.") == "k.yaml:5");
}
