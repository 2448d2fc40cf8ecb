// dist/process_group.h and dist/grad_sync.h on a real two-rank group (c10d's TCPStore and Gloo),
// its ranks on two threads of this process.
#include <catch2/catch.hpp>

#include <torch/torch.h>

#include <chrono>
#include <functional>
#include <thread>

#include "core/error.h"
#include "dist/grad_sync.h"
#include "dist/launch.h"
#include "dist/process_group.h"

using recarena::dist::GradientSync;
using recarena::dist::ProcessGroup;
using recarena::dist::World;

namespace {

World RankOf(int rank, int port, double bucket_mb = 25.0) {
  World w;
  w.rank = rank;
  w.size = 2;
  w.master_port = port;
  w.timeout_s = 20.0;
  w.bucket_mb = bucket_mb;
  return w;
}

// Runs body(group) on ranks 0 and 1 at once; rethrows the first failure on this thread.
void OnTwoRanks(double bucket_mb, const std::function<void(ProcessGroup&)>& body) {
  const int port = recarena::dist::FreeLoopbackPort();
  std::exception_ptr failure[2];
  auto run = [&](int rank) {
    try {
      ProcessGroup group(RankOf(rank, port, bucket_mb));
      body(group);
    } catch (...) {
      failure[rank] = std::current_exception();
    }
  };
  std::thread other(run, 1);
  run(0);
  other.join();
  for (auto& f : failure) {
    if (f) std::rethrow_exception(f);
  }
}

}  // namespace

TEST_CASE("process group: all-reduce sums, broadcast copies rank 0's, the store passes strings") {
  OnTwoRanks(25.0, [](ProcessGroup& g) {
    std::vector<torch::Tensor> t{torch::full({3}, static_cast<float>(g.rank() + 1))};
    g.AllReduceSum(t, "test");
    CHECK(torch::equal(t[0], torch::full({3}, 3.0f)));
    std::vector<torch::Tensor> b{torch::full({2}, static_cast<double>(10 * g.rank() + 7))};
    g.Broadcast(b, 0, "test");
    CHECK(torch::equal(b[0], torch::full({2}, 7.0, torch::kDouble)));
    if (g.rank() == 0) g.Set("k", "value of rank 0");
    if (g.rank() == 1) CHECK(g.Get("k") == "value of rank 0");
    g.Barrier("test");
  });
}

TEST_CASE("gradient sync: the share-weighted sum over the ranks, in several buckets") {
  // A bucket of 2^-18 MiB = 4 floats: the 3- and 5-element gradients go in separate buckets.
  OnTwoRanks(1.0 / (1 << 18), [](ProcessGroup& g) {
    torch::Tensor a = torch::zeros({3}, torch::requires_grad());
    torch::Tensor b = torch::zeros({5}, torch::requires_grad());
    torch::Tensor unused = torch::ones({2}, torch::requires_grad());
    // rank r: loss = (r + 1) * (sum a + 2 sum b) -> grad a = r + 1, grad b = 2 (r + 1)
    const double r = g.rank();
    ((a.sum() + 2 * b.sum()) * (r + 1)).backward();
    GradientSync sync(g);
    sync.SetShare(g.rank() == 0 ? 0.25 : 0.75);
    sync.Synchronize({a, b, unused});
    // 0.25 * 1 + 0.75 * 2 = 1.75; b twice that; the unused parameter's gradient is zeros.
    CHECK(torch::allclose(a.grad(), torch::full({3}, 1.75f)));
    CHECK(torch::allclose(b.grad(), torch::full({5}, 3.5f)));
    REQUIRE(unused.grad().defined());
    CHECK(torch::equal(unused.grad(), torch::zeros({2})));
    CHECK(sync.bytes_reduced() == (3 + 5 + 2) * 4);
    CHECK(sync.synchronizations() == 1);
    const auto m = sync.ReduceShares({4.0 * (r + 1), 1.0});
    CHECK(m[0] == Approx(0.25 * 4 + 0.75 * 8));
    CHECK(m[1] == Approx(1.0));
    torch::Tensor p = torch::full({4}, r);
    sync.BroadcastParameters({p});
    CHECK(torch::equal(p, torch::zeros({4})));
  });
}

TEST_CASE("gradient sync: a share outside [0, 1] is refused") {
  OnTwoRanks(25.0, [](ProcessGroup& g) {
    GradientSync sync(g);
    CHECK_THROWS_AS(sync.SetShare(1.5), recarena::Error);
    CHECK_THROWS_AS(sync.SetShare(-0.1), recarena::Error);
  });
}

TEST_CASE("process group: a missing peer fails the rendezvous within the timeout, naming it") {
  World w = RankOf(0, recarena::dist::FreeLoopbackPort());
  w.timeout_s = 1.0;
  const auto start = std::chrono::steady_clock::now();
  std::string message;
  try {
    ProcessGroup group(w);
  } catch (const recarena::Error& e) {
    message = e.what();
  }
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  CHECK_THAT(message, Catch::Contains("127.0.0.1:" + std::to_string(w.master_port)) &&
                          Catch::Contains("1 s"));
  CHECK(s < 15.0);
}
