#include "core/config.h"

#include <cctype>
#include <map>
#include <set>

#include "core/atomic_file.h"

namespace recarena::config {

void Origins::Set(const std::string& path, std::string where, bool override_subtree) {
  where_[path] = std::move(where);
  subtree_[path] = override_subtree;
}

std::string Origins::Where(const std::string& path) const {
  // "a.b[2]" is a list element of a.b; "model.hdt." names the section model.hdt.
  std::string p = path.substr(0, path.find('['));
  while (!p.empty() && p.back() == '.') p.pop_back();
  auto it = where_.find(p);
  if (it != where_.end()) return it->second;
  for (auto dot = p.rfind('.'); dot != std::string::npos; dot = p.rfind('.', dot - 1)) {
    auto a = where_.find(p.substr(0, dot));
    if (a != where_.end() && subtree_.at(a->first)) return a->second;
    if (dot == 0) break;
  }
  return "default value of '" + p + "'";
}

std::string Origins::OthersNamedIn(const std::string& message, const std::string& skip_path) const {
  const auto is_key_char = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.';
  };
  std::string out;
  for (const auto& [key, where] : where_) {
    if (key == skip_path || key.find('.') == std::string::npos) continue;
    // Sections ("data.split") are not values; their keys are recorded themselves.
    auto child = where_.lower_bound(key + ".");
    if (child != where_.end() && child->first.compare(0, key.size() + 1, key + ".") == 0) continue;
    // A whole-word occurrence: "data.split" inside "data.split.train" does not count.
    for (size_t at = message.find(key); at != std::string::npos; at = message.find(key, at + 1)) {
      const size_t end = at + key.size();
      const bool starts = at == 0 || !is_key_char(message[at - 1]);
      const bool ends =
          end == message.size() || !is_key_char(message[end]) ||
          (message[end] == '.' && (end + 1 == message.size() || !is_key_char(message[end + 1])));
      if (starts && ends) {
        out += "; " + key + " is from " + where;
        break;
      }
    }
  }
  return out;
}

YamlReader::YamlReader(YAML::Node node, const Origins* origins, std::string path)
    : node_(std::move(node)), origins_(origins), path_(std::move(path)) {}

void YamlReader::Fail(const std::string& path, const std::string& message) const {
  const std::string where = origins_ ? origins_->Where(path) : path;
  throw Error(where + ": " + message);
}

void YamlReader::Finish() const {
  if (!node_.IsMap()) return;
  for (const auto& kv : node_) {
    const std::string key = kv.first.as<std::string>();
    bool found = false;
    for (const auto& k : known_) found = found || k == key;
    if (found) continue;
    const std::string path = Child(key.c_str());
    const std::string section = path_.empty() ? "the top level" : "section '" + path_ + "'";
    Fail(path, "unknown key '" + key + "' in " + section + DidYouMean(key, known_) +
                   "; valid keys: " + Join(known_, ", "));
  }
}

namespace {
// Records where every key came from, and refuses what yaml-cpp accepts silently: a key given twice
// in one mapping (yaml-cpp keeps one copy and drops the other), and documents nested or aliased
// beyond what a config needs (an alias bomb would otherwise be walked without bound).
constexpr int kMaxDepth = 64;
constexpr int64_t kMaxKeys = 100000;

void RecordOrigins(const YAML::Node& node, const std::string& path, const std::string& file,
                   Origins& origins, int depth, int64_t& keys) {
  if (!node.IsMap()) return;
  if (depth > kMaxDepth) {
    throw Error(file + ": '" + path + "' is nested deeper than " + std::to_string(kMaxDepth) +
                " levels");
  }
  std::map<std::string, int> seen;  // key -> 1-based line
  for (const auto& kv : node) {
    if (!kv.first.IsScalar()) {  // "? {a: 1}: x" - a complex key, which no config has
      const int at = kv.first.Mark().line;
      throw Error(file + (at >= 0 ? ":" + std::to_string(at + 1) : "") + ": a key under '" +
                  (path.empty() ? "(top level)" : path) +
                  "' is a mapping or a list; config keys are plain names");
    }
    const std::string key = kv.first.Scalar();
    const std::string child = path.empty() ? key : path + "." + key;
    const int line = kv.first.Mark().line;
    const auto [it, fresh] = seen.emplace(key, line + 1);
    if (!fresh) {
      throw Error(file + ":" + std::to_string(line + 1) + ": duplicate key '" + child +
                  "' (first given on line " + std::to_string(it->second) + ")");
    }
    if (++keys > kMaxKeys) {
      throw Error(file + ": more than " + std::to_string(kMaxKeys) +
                  " keys (aliases expanding without bound?)");
    }
    origins.Set(child, line >= 0 ? file + ":" + std::to_string(line + 1) : file);
    RecordOrigins(kv.second, child, file, origins, depth + 1, keys);
  }
}

YAML::Node ParseYaml(const std::string& text, const std::string& name) {
  try {
    YAML::Node root = YAML::Load(text);
    if (!root || root.IsNull()) return YAML::Node(YAML::NodeType::Map);
    if (!root.IsMap()) throw Error(name + ": a config file must be a YAML mapping (key: value)");
    return root;
  } catch (const YAML::Exception& e) {
    throw Error(name + ":" + std::to_string(e.mark.line + 1) + ":" +
                std::to_string(e.mark.column + 1) + ": YAML syntax error: " + e.msg);
  }
}
}  // namespace

void Document::ApplyOverride(const std::string& assignment) {
  const auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0) {
    throw Error("override " + QuoteForError(assignment) + " must look like section.key=value");
  }
  const std::string path(Trim(std::string_view(assignment).substr(0, eq)));
  const std::string value = assignment.substr(eq + 1);
  const auto keys = Split(path, '.');
  for (const auto& k : keys) {
    if (k.empty()) throw Error("override " + QuoteForError(assignment) + " has an empty key");
  }
  YAML::Node parsed;
  try {
    parsed = YAML::Load(value);
  } catch (const YAML::Exception&) {
    parsed = YAML::Node(value);
  }
  if (!parsed || parsed.IsNull()) parsed = YAML::Node(value);
  // Walk down, creating maps as needed. yaml-cpp nodes are handles, so assignment through copies
  // works.
  std::vector<YAML::Node> chain{root_};
  for (size_t i = 0; i + 1 < keys.size(); ++i) {
    YAML::Node next = chain.back()[keys[i]];
    if (!next || next.IsNull()) {
      chain.back()[keys[i]] = YAML::Node(YAML::NodeType::Map);
      next = chain.back()[keys[i]];
    } else if (!next.IsMap()) {
      throw Error("override " + QuoteForError(assignment) + ": '" + keys[i] + "' is not a section");
    }
    chain.push_back(next);
  }
  chain.back()[keys.back()] = parsed;
  origins_.Set(path, "command-line override '" + assignment + "'", /*override_subtree=*/true);
}

Document Document::FromString(const std::string& yaml, const std::string& name,
                              const std::vector<std::string>& overrides) {
  Document doc;
  doc.root_ = ParseYaml(yaml, name);
  int64_t keys = 0;
  RecordOrigins(doc.root_, "", name, doc.origins_, 0, keys);
  for (const auto& o : overrides) doc.ApplyOverride(o);
  return doc;
}

Document Document::Load(const std::filesystem::path& file,
                        const std::vector<std::string>& overrides) {
  if (file.empty()) return FromString("", "<no config file>", overrides);
  return FromString(ReadFile(file), file.string(), overrides);
}

}  // namespace recarena::config
