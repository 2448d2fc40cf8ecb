#include "core/json_read.h"

#include <algorithm>
#include <cstdint>

#include "core/error.h"

namespace recarena {

namespace {

struct TooDeep {
  int depth;
};

// Throws TooDeep from inside the parser as soon as an element opens past the limit, so the deep
// value is never built.
bool DepthGuard(int depth, nlohmann::json::parse_event_t event, nlohmann::json&) {
  if ((event == nlohmann::json::parse_event_t::object_start ||
       event == nlohmann::json::parse_event_t::array_start) &&
      depth >= kMaxJsonDepth) {
    throw TooDeep{depth + 1};
  }
  return true;
}

int64_t LineOf(std::string_view text, size_t byte) {
  byte = std::min(byte, text.size());
  return 1 + std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(byte), '\n');
}

// The byte where nesting first exceeds kMaxJsonDepth (outside strings), for the error's line.
size_t DeepByte(std::string_view text) {
  int depth = 0;
  bool in_string = false, escaped = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxJsonDepth) return i;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return text.size();
}

}  // namespace

nlohmann::json ParseJson(std::string_view text, const std::string& where) {
  try {
    return nlohmann::json::parse(text.begin(), text.end(), DepthGuard);
  } catch (const nlohmann::json::parse_error& e) {
    throw FileError(where, LineOf(text, e.byte > 0 ? e.byte - 1 : 0),
                    std::string("invalid JSON: ") + e.what());
  } catch (const nlohmann::json::exception& e) {
    // out_of_range.406: a number beyond double's range ("1e400"); the message quotes the token,
    // which names the line.
    const std::string what = e.what();
    const size_t q = what.find("parsing '");
    size_t byte = text.size();
    if (q != std::string::npos) {
      const size_t end = what.find('\'', q + 9);
      if (end != std::string::npos) byte = text.find(what.substr(q + 9, end - q - 9));
    }
    throw FileError(where, byte == std::string_view::npos ? 0 : LineOf(text, byte),
                    "invalid JSON: " + what);
  } catch (const TooDeep&) {
    throw FileError(where, LineOf(text, DeepByte(text)),
                    "JSON nested deeper than " + std::to_string(kMaxJsonDepth) + " levels");
  }
}

nlohmann::json ParseJsonOrDiscarded(std::string_view text) {
  try {
    return nlohmann::json::parse(text.begin(), text.end(), DepthGuard, /*allow_exceptions=*/false);
  } catch (const nlohmann::json::exception&) {  // a number overflow throws even so
    return nlohmann::json(nlohmann::json::value_t::discarded);
  } catch (const TooDeep&) {
    return nlohmann::json(nlohmann::json::value_t::discarded);
  }
}

}  // namespace recarena
