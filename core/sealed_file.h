// Sealed files (checkpoints): a one-line header that states the payload's size and SHA-256, and the
// SHA-256 of the run's config.yaml it was written under, followed by the payload:
//
//   RECARENA-SEALED {"bytes":N,"config_sha256":"…","format":1,"sha256":"…"}\n<N payload bytes>
//
// Reading checks size and hash, so a truncated file or flipped bytes are an error naming the file
// and both hashes instead of a model that loads and computes something else; the config hash lets
// a run directory refuse a resume under another config even when its config.yaml is gone. Files
// without the header (checkpoints written before sealing) are read whole, unchecked.
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace recarena {

// Lower-case hex SHA-256 of data (OpenSSL).
std::string Sha256Hex(std::string_view data);

// Writes header + payload atomically (WriteFileAtomic). config_file: when given and present, its
// content's SHA-256 is recorded as config_sha256.
void WriteSealedFile(const std::filesystem::path& path, std::string_view payload,
                     const std::filesystem::path& config_file = {});

struct SealedContent {
  std::string payload;
  nlohmann::json header;  // null when the file has no header
  bool sealed() const { return !header.is_null(); }
};

// Reads path and checks a sealed file's size and hash: FileError naming the file and what differs
// (expected and actual) otherwise.
SealedContent ReadSealedFile(const std::filesystem::path& path);

// The header alone (first line) without reading or checking the payload; null when the file is not
// sealed or cannot be read.
nlohmann::json ReadSealedHeader(const std::filesystem::path& path);

}  // namespace recarena
