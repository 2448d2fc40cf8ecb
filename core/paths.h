// Where the real datasets live: $RECARENA_DATA_DIR if set, else the build-time default
// (<repo>/../shared/data). Config values (data.source) override both.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace recarena {

std::filesystem::path DataRoot();
// DataRoot()/name, e.g. DataDir("ml-latest-small").
std::filesystem::path DataDir(const std::string& name);

// name as one path component of an output directory: throws Error naming what and the value when
// it is empty, "." or "..", or contains '/', so root / name cannot leave root.
std::string SafePathComponent(const std::string& name, const std::string& what);

// A directory's name as users see it: the last component of the lexically normalised absolute
// path ("runs/sim/amazon/" -> "amazon", "runs/sim/.." -> "runs"); "root" for "/".
std::string DirectoryName(const std::filesystem::path& dir);

// Checks an output file named by a flag (flag = "--emit-sets"): its directory must exist (outputs
// named on the command line never create directory trees) and it must not be a directory or one
// of inputs (the same file after resolving links). Throws FileError naming the path.
void CheckOutputFile(const std::filesystem::path& file, const std::string& flag,
                     const std::vector<std::filesystem::path>& inputs = {});

}  // namespace recarena
