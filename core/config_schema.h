// The config schema side that needs no YAML: enum names for config values and their parsing.
//
// Config structs are plain structs with defaults, a `Validate()` that throws ConfigError naming the
// bad key path, and one `template <class V> void Visit(V& v)` listing their fields once (see
// core/config.h, the YAML edge that reads and writes them). Their headers include only this file,
// so yaml-cpp reaches only the translation units that load or write configs.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.h"
#include "core/strings.h"

namespace recarena::config {

// Specialise for every enum used in a config: static const std::vector<std::pair<E, std::string>>&
// Table();
template <class E>
struct EnumNames;

template <class E>
std::string EnumToString(E value) {
  for (const auto& [v, name] : EnumNames<E>::Table()) {
    if (v == value) return name;
  }
  return "?";
}

template <class E>
std::vector<std::string> EnumChoices() {
  std::vector<std::string> out;
  for (const auto& entry : EnumNames<E>::Table()) out.push_back(entry.second);
  return out;
}

// Parses an enum name; throws ConfigError(path) listing the choices and the closest one.
template <class E>
E ParseEnum(std::string_view name, const std::string& path) {
  for (const auto& [v, n] : EnumNames<E>::Table()) {
    if (n == name) return v;
  }
  auto choices = EnumChoices<E>();
  throw ConfigError(path, "unknown value '" + std::string(name) + "' for " + path +
                              DidYouMean(name, choices) + "; choices: " + Join(choices, "|"));
}

}  // namespace recarena::config
