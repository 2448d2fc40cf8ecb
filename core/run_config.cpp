#include "core/run_config.h"

#include "core/log.h"

namespace recarena {

void RunConfig::Validate() const {
  if (name.empty()) throw ConfigError("run.name", "run.name must not be empty");
  if (name.find('/') != std::string::npos) {
    throw ConfigError("run.name", "run.name must not contain '/': got " + QuoteForError(name));
  }
  try {
    log::ParseLevel(log_level);
  } catch (const Error& e) {
    throw ConfigError("run.log_level", e.what());
  }
}

}  // namespace recarena
