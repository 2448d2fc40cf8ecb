#include "core/sealed_file.h"

#include <openssl/evp.h>

#include <fstream>
#include <memory>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/json_read.h"

namespace recarena {

namespace {
constexpr std::string_view kMagic = "RECARENA-SEALED ";
constexpr int kFormat = 1;
constexpr size_t kMaxHeader = 4096;
}  // namespace

std::string Sha256Hex(std::string_view data) {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1 ||
      EVP_DigestUpdate(ctx.get(), data.data(), data.size()) != 1 ||
      EVP_DigestFinal_ex(ctx.get(), digest, &len) != 1) {
    throw Error("SHA-256 failed (OpenSSL)");
  }
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out += hex[digest[i] >> 4];
    out += hex[digest[i] & 15];
  }
  return out;
}

void WriteSealedFile(const std::filesystem::path& path, std::string_view payload,
                     const std::filesystem::path& config_file) {
  nlohmann::json header = {
      {"format", kFormat}, {"bytes", payload.size()}, {"sha256", Sha256Hex(payload)}};
  std::error_code ec;
  if (!config_file.empty() && std::filesystem::exists(config_file, ec)) {
    header["config_sha256"] = Sha256Hex(ReadFile(config_file));
  }
  const std::string line = std::string(kMagic) + header.dump() + "\n";
  WriteFileAtomic(path, [&](std::ostream& os) {
    os.write(line.data(), static_cast<std::streamsize>(line.size()));
    os.write(payload.data(), static_cast<std::streamsize>(payload.size()));
  });
}

SealedContent ReadSealedFile(const std::filesystem::path& path) {
  const std::string name = path.string();
  std::string text = ReadFile(path);
  SealedContent out;
  if (text.compare(0, kMagic.size(), kMagic) != 0) {
    out.payload = std::move(text);
    return out;
  }
  const size_t eol = text.find('\n');
  if (eol == std::string::npos || eol > kMaxHeader) {
    throw FileError(name, 1, "sealed file header is not terminated (truncated or corrupt file)");
  }
  out.header = ParseJson(std::string_view(text).substr(kMagic.size(), eol - kMagic.size()), name);
  if (!out.header.is_object() || out.header.value("format", 0) != kFormat ||
      !out.header.contains("bytes") || !out.header["bytes"].is_number_unsigned() ||
      !out.header.contains("sha256") || !out.header["sha256"].is_string()) {
    throw FileError(
        name, 1, "unsupported or corrupt sealed file header " + QuoteForError(out.header.dump()));
  }
  const auto bytes = out.header["bytes"].get<uint64_t>();
  const size_t have = text.size() - eol - 1;
  if (have != bytes) {
    throw FileError(name, 0,
                    "payload is " + std::to_string(have) + " bytes, the header says " +
                        std::to_string(bytes) + " (truncated or corrupt file)");
  }
  out.payload = text.substr(eol + 1);
  const std::string want = out.header["sha256"].get<std::string>();
  const std::string got = Sha256Hex(out.payload);
  if (got != want) {
    throw FileError(name, 0,
                    "content hash mismatch: the header says sha256 " + want + ", the content has " +
                        got + " (the file was modified or corrupted after it was written)");
  }
  return out;
}

nlohmann::json ReadSealedHeader(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::string magic(kMagic.size(), '\0');
  if (!in.read(magic.data(), static_cast<std::streamsize>(magic.size())) || magic != kMagic) {
    return nullptr;
  }
  std::string line;
  std::getline(in, line);
  if (line.size() > kMaxHeader) return nullptr;
  auto j = ParseJsonOrDiscarded(line);
  return j.is_object() ? j : nlohmann::json();
}

}  // namespace recarena
