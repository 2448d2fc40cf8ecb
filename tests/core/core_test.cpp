#include <sys/wait.h>
#include <unistd.h>
#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <set>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/json_read.h"
#include "core/progress.h"
#include "core/rng.h"
#include "core/run_dir.h"
#include "core/sealed_file.h"
#include "core/strings.h"
#include "test_util.h"

using recarena::Rng;

TEST_CASE("rng: same seed same stream, different seeds differ, fork is stable", "[rng]") {
  Rng a(7), b(7), c(8);
  for (int i = 0; i < 100; ++i) {
    uint64_t x = a.NextU64();
    CHECK(x == b.NextU64());
  }
  Rng a2(7);
  CHECK(a2.NextU64() != c.NextU64());
  Rng f1 = Rng(7).Fork(3), f2 = Rng(7).Fork(3), f3 = Rng(7).Fork(4);
  CHECK(f1.NextU64() == f2.NextU64());
  CHECK(Rng(7).Fork(3).NextU64() != f3.NextU64());
}

TEST_CASE("rng: golden first outputs pin the algorithm across platforms", "[rng]") {
  // xoshiro256** seeded by SplitMix64(0): these values must never change, or every seeded run
  // changes.
  Rng r(0);
  const uint64_t first = r.NextU64();
  Rng r2(0);
  CHECK(first == r2.NextU64());
  CHECK(first == 0x99EC5F36CB75F2B4ULL);
}

TEST_CASE("rng: distributions have the right moments", "[rng]") {
  Rng r(123);
  const int n = 200000;
  double su = 0, sn = 0, sn2 = 0, sg = 0;
  std::vector<int> counts(3, 0);
  for (int i = 0; i < n; ++i) {
    su += r.Uniform();
    double z = r.Normal();
    sn += z;
    sn2 += z * z;
    sg += r.Gamma(2.5);
    counts[r.Categorical({1.0, 2.0, 7.0})]++;
  }
  CHECK(su / n == Approx(0.5).margin(0.005));
  CHECK(sn / n == Approx(0.0).margin(0.01));
  CHECK(sn2 / n == Approx(1.0).margin(0.02));
  CHECK(sg / n == Approx(2.5).margin(0.03));
  CHECK(counts[0] / double(n) == Approx(0.1).margin(0.005));
  CHECK(counts[2] / double(n) == Approx(0.7).margin(0.005));
  CHECK_THROWS(r.Categorical({0.0, 0.0}));
}

TEST_CASE("rng: state serialization resumes the stream", "[rng]") {
  Rng r(99);
  r.NextU64();
  const std::string state = r.SerializeState();
  const uint64_t next = r.NextU64();
  Rng s(1);
  s.DeserializeState(state);
  CHECK(s.NextU64() == next);
  CHECK_THROWS_AS(s.DeserializeState("garbage"), recarena::Error);
}

TEST_CASE("atomic write replaces the file and leaves no temp file and failures keep the old file",
          "[io]") {
  recarena::testing::TempDir dir;
  const auto path = dir.path() / "sub" / "out.txt";
  recarena::WriteFileAtomic(path, std::string("first"));
  CHECK(recarena::ReadFile(path) == "first");
  recarena::WriteFileAtomic(path, std::string("second"));
  CHECK(recarena::ReadFile(path) == "second");
  CHECK_THROWS(recarena::WriteFileAtomic(path, [](std::ostream& os) {
    os << "partial";
    throw recarena::Error("boom");
  }));
  CHECK(recarena::ReadFile(path) == "second");
  int files = 0;
  for (auto& e : std::filesystem::directory_iterator(path.parent_path())) {
    (void)e;
    ++files;
  }
  CHECK(files == 1);
  CHECK_THROWS_WITH(recarena::ReadFile(dir.path() / "missing.txt"), Catch::Contains("missing.txt"));
}

namespace {
// The pid of a child that has already ended (and been reaped): no process runs under it now.
pid_t EndedPid() {
  const pid_t pid = ::fork();
  if (pid == 0) ::_exit(0);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return pid;
}
}  // namespace

TEST_CASE("atomic write: temporary files are exclusive, never follow symlinks, orphans are removed",
          "[io]") {
  namespace fs = std::filesystem;
  recarena::testing::TempDir dir;
  const auto path = dir.path() / "out.txt";
  const auto victim = dir.path() / "victim.txt";
  recarena::WriteFileAtomic(victim, std::string("keep"));
  // A symlink at the name the old writer used ("<path>.tmp.<our pid>") is not followed.
  const auto old_name = fs::path(path.string() + ".tmp." + std::to_string(::getpid()));
  fs::create_symlink(victim, old_name);
  // What a killed writer left: a file and a symlink under a pid that no longer runs, and a file of
  // a writer that still runs (our parent), which must stay.
  const pid_t dead = EndedPid();
  const auto orphan = fs::path(path.string() + ".tmp." + std::to_string(dead) + ".00ff");
  const auto orphan_link = fs::path(path.string() + ".tmp." + std::to_string(dead));
  const auto live = fs::path(path.string() + ".tmp." + std::to_string(::getppid()) + ".abcd");
  const auto other = dir.path() / "out.txt.tmpfile";  // not a temporary's name
  recarena::WriteFileAtomic(orphan, std::string("half"));
  fs::create_symlink(victim, orphan_link);
  recarena::WriteFileAtomic(live, std::string("in flight"));
  recarena::WriteFileAtomic(other, std::string("other"));

  recarena::WriteFileAtomic(path, std::string("new"));
  CHECK(recarena::ReadFile(path) == "new");
  CHECK(recarena::ReadFile(victim) == "keep");
  CHECK_FALSE(fs::exists(orphan));
  CHECK_FALSE(fs::is_symlink(orphan_link));
  CHECK(fs::is_symlink(old_name));  // our own pid: possibly another thread's write in flight
  CHECK(fs::exists(live));
  CHECK(fs::exists(other));
  // The temporary file is created beside the target with a random suffix, and removed after.
  std::set<std::string> names;
  for (auto& e : fs::directory_iterator(dir.path())) names.insert(e.path().filename().string());
  CHECK(names == std::set<std::string>{"out.txt", "victim.txt", old_name.filename().string(),
                                       live.filename().string(), "out.txt.tmpfile"});
  CHECK(recarena::RemoveOrphanedTemporaries(path) == 0);
}

TEST_CASE("json reader: nesting limit, errors name the line, discarded variant", "[io][json]") {
  using recarena::kMaxJsonDepth;
  const auto nested = [](int depth) {
    return "{\"a\": 1,\n\"b\": " + std::string(static_cast<size_t>(depth), '[') +
           std::string(static_cast<size_t>(depth), ']') + "}";
  };
  // The object counts as one level: kMaxJsonDepth - 1 arrays inside it are the most allowed.
  CHECK(recarena::ParseJson(nested(kMaxJsonDepth - 1), "ok.json")["a"] == 1);
  CHECK_THROWS_WITH(recarena::ParseJson(nested(kMaxJsonDepth), "deep.json"),
                    Catch::Contains("deep.json:2") && Catch::Contains("nested deeper than 64"));
  CHECK_THROWS_WITH(recarena::ParseJson(nested(1000000), "deeper.json"),
                    Catch::Contains("deeper.json:2"));
  // Brackets inside strings do not count.
  const std::string in_string = "{\"t\": \"" + std::string(1000, '[') + "\\\"\"}";
  CHECK(recarena::ParseJson(in_string, "s.json")["t"].get<std::string>().size() == 1001);
  CHECK_THROWS_WITH(recarena::ParseJson("{\"a\": 1,\n oops}", "bad.json"),
                    Catch::Contains("bad.json:2") && Catch::Contains("invalid JSON"));
  // A number beyond double's range (found by fuzz/json_read_fuzz: it escaped as out_of_range).
  CHECK_THROWS_WITH(recarena::ParseJson("{\"a\": 1,\n\"b\": 4e400}", "big.json"),
                    Catch::Contains("big.json:2") && Catch::Contains("number overflow"));
  CHECK(recarena::ParseJsonOrDiscarded("[4e400]").is_discarded());
  CHECK(recarena::ParseJsonOrDiscarded(nested(1000000)).is_discarded());
  CHECK(recarena::ParseJsonOrDiscarded("{oops").is_discarded());
  CHECK(recarena::ParseJsonOrDiscarded(nested(3))["a"] == 1);
}

TEST_CASE("strings: edit distance and closest match", "[strings]") {
  CHECK(recarena::EditDistance("kitten", "sitting") == 3);
  CHECK(recarena::EditDistance("", "abc") == 3);
  CHECK(recarena::ClosestMatch("sede", {"seed", "device", "name"}) == "seed");
  CHECK(recarena::Split("a,,b", ',') == std::vector<std::string>{"a", "", "b"});
  CHECK(recarena::Trim("  x \r\n") == "x");
}

TEST_CASE("progress: status line has rate and ETA", "[progress]") {
  const std::string s = recarena::Progress::Format("train", 50, 100, 10.0);
  CHECK_THAT(s, Catch::Contains("50/100") && Catch::Contains("50.0%") && Catch::Contains("5.0/s") &&
                    Catch::Contains("ETA 0:00:10"));
  // Resumed at 40 of 100: 10 done in 10 s is 1.0/s, 50 left take 50 s.
  const std::string r = recarena::Progress::Format("train", 50, 100, 10.0, 40);
  CHECK_THAT(
      r, Catch::Contains("50/100") && Catch::Contains(" 1.0/s") && Catch::Contains("ETA 0:00:50"));
}

TEST_CASE("run dir: timestamped and unique", "[io]") {
  recarena::testing::TempDir dir;
  auto a = recarena::CreateRunDir(dir.path(), "exp");
  auto b = recarena::CreateRunDir(dir.path(), "exp");
  CHECK(a != b);
  CHECK(std::filesystem::is_directory(a));
  CHECK(a.filename().string().rfind("exp-", 0) == 0);
}

TEST_CASE("run dir: a failed start (config.yaml alone) takes a corrected config, a run does not",
          "[io][run_dir]") {
  recarena::testing::TempDir dir;
  recarena::CheckRunDirConfig(dir.path(), "run:\n  seed: 1\n");  // then the start failed
  recarena::CheckRunDirConfig(dir.path(), "run:\n  seed: 2\n");  // the corrected rerun
  CHECK(recarena::ReadFile(dir.path() / "config.yaml") == "run:\n  seed: 2\n");
  recarena::WriteFileAtomic(dir.path() / "metrics.jsonl", std::string("{}\n"));  // it ran
  CHECK_THROWS_WITH(recarena::CheckRunDirConfig(dir.path(), "run:\n  seed: 3\n"),
                    Catch::Contains("different config"));
  CHECK(recarena::ReadFile(dir.path() / "config.yaml") == "run:\n  seed: 2\n");
}

TEST_CASE("run dir: a start that fails by an exception leaves no half-made directory",
          "[io][run_dir]") {
  namespace fs = std::filesystem;
  recarena::testing::TempDir tmp;
  auto fail_in = [](const fs::path& dir, const fs::path& created, bool write_result) {
    try {
      recarena::EnsureDir(dir);
      const recarena::FailedStartCleanup cleanup(dir, created);
      recarena::CheckRunDirConfig(dir, "run:\n  seed: 1\n");
      if (write_result) recarena::WriteFileAtomic(dir / "metrics.jsonl", std::string("{}\n"));
      throw recarena::Error("the dataset is missing");
    } catch (const recarena::Error&) {
    }
  };
  // Created with two new parents: all three go.
  fail_in(tmp.path() / "a" / "b" / "run", tmp.path() / "a", false);
  CHECK_FALSE(fs::exists(tmp.path() / "a"));
  // An existing directory (the user's): only config.yaml goes, the directory and its files stay.
  fs::create_directories(tmp.path() / "mine");
  recarena::WriteFileAtomic(tmp.path() / "mine" / "config.yaml", std::string("run:\n  seed: 1\n"));
  fail_in(tmp.path() / "mine", fs::path(), false);
  CHECK(fs::is_directory(tmp.path() / "mine"));
  CHECK(fs::is_empty(tmp.path() / "mine"));
  // A run that produced a result keeps everything.
  fail_in(tmp.path() / "ran", tmp.path() / "ran", true);
  CHECK(fs::exists(tmp.path() / "ran" / "config.yaml"));
  CHECK(fs::exists(tmp.path() / "ran" / "metrics.jsonl"));
  // No exception: nothing is removed.
  {
    recarena::EnsureDir(tmp.path() / "ok");
    const recarena::FailedStartCleanup cleanup(tmp.path() / "ok", tmp.path() / "ok");
    recarena::CheckRunDirConfig(tmp.path() / "ok", "run:\n  seed: 1\n");
  }
  CHECK(fs::exists(tmp.path() / "ok" / "config.yaml"));
}

TEST_CASE("run dir: without config.yaml, a checkpoint of another config refuses the resume",
          "[io][run_dir]") {
  namespace fs = std::filesystem;
  recarena::testing::TempDir dir;
  const std::string yaml_a = "run:\n  seed: 1\n", yaml_b = "run:\n  seed: 2\n";
  recarena::CheckRunDirConfig(dir.path(), yaml_a);
  recarena::WriteSealedFile(dir.path() / "checkpoint.pt", "payload", dir.path() / "config.yaml");
  recarena::WriteSealedFile(dir.path() / "train" / "components.pt", "x",
                            dir.path() / "config.yaml");
  fs::remove(dir.path() / "config.yaml");
  CHECK_THROWS_WITH(recarena::CheckRunDirConfig(dir.path(), yaml_b),
                    Catch::Contains("checkpoint.pt") || Catch::Contains("components.pt"));
  CHECK_THROWS_WITH(
      recarena::CheckRunDirConfig(dir.path(), yaml_b),
      Catch::Contains(recarena::Sha256Hex(yaml_a)) && Catch::Contains(recarena::Sha256Hex(yaml_b)));
  CHECK_FALSE(fs::exists(dir.path() / "config.yaml"));
  recarena::CheckRunDirConfig(dir.path(), yaml_a);  // the same config resumes
  CHECK(recarena::ReadFile(dir.path() / "config.yaml") == yaml_a);
  // The sealed payload reads back; a flipped byte does not.
  CHECK(recarena::ReadSealedFile(dir.path() / "checkpoint.pt").payload == "payload");
  std::string bytes = recarena::ReadFile(dir.path() / "checkpoint.pt");
  bytes.back() = 'X';
  recarena::WriteFileAtomic(dir.path() / "checkpoint.pt", bytes);
  CHECK_THROWS_WITH(recarena::ReadSealedFile(dir.path() / "checkpoint.pt"),
                    Catch::Contains("content hash mismatch"));
}
