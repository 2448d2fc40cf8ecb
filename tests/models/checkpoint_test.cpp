// Checkpoint files: sealed archives (content hash), shape checks before loading a module.
#include "models/checkpoint.h"

#include <torch/torch.h>
#include <catch2/catch.hpp>

#include <fstream>
#include <string>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/sealed_file.h"
#include "test_util.h"

namespace {

struct NetImpl : torch::nn::Module {
  NetImpl(int64_t items, int64_t hidden)
      : emb(register_module("emb", torch::nn::Embedding(items, hidden))),
        out(register_module("out", torch::nn::Linear(hidden, 2))) {}
  torch::nn::Embedding emb;
  torch::nn::Linear out;
};
TORCH_MODULE(Net);

void SaveNet(const Net& net, const std::filesystem::path& file,
             const std::filesystem::path& config = {}) {
  torch::serialize::OutputArchive a, sub;
  net->save(sub);
  a.write("net", sub);
  recarena::models::SaveArchiveFile(file, a, config);
}

void LoadNet(Net& net, const std::filesystem::path& file) {
  recarena::models::LoadArchiveFile(file, [&](torch::serialize::InputArchive& a) {
    torch::serialize::InputArchive sub;
    a.read("net", sub);
    recarena::models::LoadModule(*net, sub);
  });
}

std::string ErrorOf(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const recarena::Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("checkpoint: a sealed archive round-trips and records the config hash",
          "[checkpoint][io]") {
  recarena::testing::TempDir dir;
  torch::manual_seed(1);
  Net a(10, 4), b(10, 4);
  const auto config = dir.Write("config.yaml", "run:\n  seed: 1\n");
  const auto file = dir.path() / "ckpt.pt";
  SaveNet(a, file, config);
  LoadNet(b, file);
  CHECK(torch::equal(a->emb->weight, b->emb->weight));
  CHECK(torch::equal(a->out->bias, b->out->bias));
  const auto header = recarena::ReadSealedHeader(file);
  CHECK(header["config_sha256"] == recarena::Sha256Hex("run:\n  seed: 1\n"));
  CHECK(header["bytes"].get<uint64_t>() + 1 < std::filesystem::file_size(file));
  // SHA-256 golden value (FIPS 180-2 test vector "abc").
  CHECK(recarena::Sha256Hex("abc") ==
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_CASE("checkpoint: flipped bytes and truncation are errors naming the file and the hashes",
          "[checkpoint][io][errors]") {
  recarena::testing::TempDir dir;
  Net a(10, 4), b(10, 4);
  const auto file = dir.path() / "ckpt.pt";
  SaveNet(a, file);
  std::string bytes = recarena::ReadFile(file);
  const std::string good = bytes;
  bytes[bytes.size() - 200] ^= 0x10;
  recarena::WriteFileAtomic(file, bytes);
  std::string e = ErrorOf([&] { LoadNet(b, file); });
  CHECK_THAT(e, Catch::Contains("ckpt.pt") && Catch::Contains("content hash mismatch") &&
                    Catch::Contains(recarena::ReadSealedHeader(file)["sha256"].get<std::string>()));
  recarena::WriteFileAtomic(file, good.substr(0, good.size() - 10));
  e = ErrorOf([&] { LoadNet(b, file); });
  CHECK_THAT(e, Catch::Contains("ckpt.pt") && Catch::Contains("truncated"));
  // A checkpoint written before sealing (a bare LibTorch archive) still loads.
  torch::serialize::OutputArchive legacy, sub;
  a->save(sub);
  legacy.write("net", sub);
  legacy.save_to(file.string());
  LoadNet(b, file);
  CHECK(torch::equal(a->emb->weight, b->emb->weight));
}

TEST_CASE("checkpoint: another catalog or hidden size is an error naming the parameter and shapes",
          "[checkpoint][errors]") {
  recarena::testing::TempDir dir;
  Net small(10, 4);
  const auto file = dir.path() / "ckpt.pt";
  SaveNet(small, file);
  Net bigger(12, 4);
  const auto before = bigger->emb->weight.clone();
  std::string e = ErrorOf([&] { LoadNet(bigger, file); });
  CHECK_THAT(e, Catch::Contains("ckpt.pt") && Catch::Contains("'emb.weight'") &&
                    Catch::Contains("[10, 4]") && Catch::Contains("[12, 4]"));
  CHECK(torch::equal(before, bigger->emb->weight));  // nothing was loaded
  Net wider(10, 8);
  e = ErrorOf([&] { LoadNet(wider, file); });
  CHECK_THAT(e, Catch::Contains("'emb.weight'") && Catch::Contains("[10, 8]"));
  CHECK(e.find("frame #") == std::string::npos);  // no LibTorch stack trace
}
