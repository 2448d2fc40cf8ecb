// Config spelling of data::ValueKind: rating | click | count | implicit.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "core/config_schema.h"
#include "data/dataset.h"

namespace recarena::config {
template <>
struct EnumNames<data::ValueKind> {
  static const std::vector<std::pair<data::ValueKind, std::string>>& Table() {
    static const std::vector<std::pair<data::ValueKind, std::string>> t = {
        {data::ValueKind::kRating, "rating"},
        {data::ValueKind::kClick, "click"},
        {data::ValueKind::kCount, "count"},
        {data::ValueKind::kImplicit, "implicit"}};
    return t;
  }
};
}  // namespace recarena::config
