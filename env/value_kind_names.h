// Config spelling of env::ValueKind: rating | click | count | implicit.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "core/config.h"
#include "env/dataset.h"

namespace recarena::config {
template <>
struct EnumNames<env::ValueKind> {
  static const std::vector<std::pair<env::ValueKind, std::string>>& Table() {
    static const std::vector<std::pair<env::ValueKind, std::string>> t = {
        {env::ValueKind::kRating, "rating"},
        {env::ValueKind::kClick, "click"},
        {env::ValueKind::kCount, "count"},
        {env::ValueKind::kImplicit, "implicit"}};
    return t;
  }
};
}  // namespace recarena::config
