// libFuzzer target: the YAML config reader (core/config.h) on arbitrary bytes, read into the run:
// section's config. It must accept the document or throw recarena::Error (which names the file
// and line); any other exception or a crash is a bug. Alias bombs and deep nesting are refused by
// the reader's limits.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "core/config.h"
#include "core/error.h"
#include "core/run_config.h"

namespace {
struct Root {
  recarena::RunConfig run;
  template <class V>
  void Visit(V& v) {
    v("run", run);
  }
  void Validate() const { run.Validate(); }
};
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    Root cfg;
    recarena::config::Document::FromString(text, "fuzz.yaml").Read(cfg);
  } catch (const recarena::Error&) {
    // a clear error: fine
  }
  return 0;
}
