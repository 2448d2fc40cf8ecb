// Schema-checked YAML configuration.
//
// Config structs are plain structs with defaults, a `Validate()` that throws ConfigError naming the
// bad key path, and one `template <class V> void Visit(V& v)` listing their fields once:
//
//   struct PreprocessConfig {
//     int min_item_freq = 0;
//     template <class V> void Visit(V& v) { v("min_item_freq", min_item_freq); }
//     void Validate() const;
//   };
//
// The same Visit drives reading (strict: an unknown key is an error naming the key, the file and
// line, and the closest valid key), writing the fully resolved config, and `section.key=value`
// overrides from the command line. YAML is touched only here, at the edge; the rest of the code
// sees plain structs, whose headers include only core/config_schema.h. Enums are spelled in YAML by
// the names their EnumNames<E> specialisation lists.
#pragma once

#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "core/config_schema.h"
#include "core/error.h"
#include "core/strings.h"

namespace recarena::config {

namespace detail {
struct ProbeVisitor {
  template <class T>
  void operator()(const char*, T&) {}
};
template <class T, class = void>
struct IsConfigStruct : std::false_type {};
template <class T>
struct IsConfigStruct<
    T, std::void_t<decltype(std::declval<T&>().Visit(std::declval<ProbeVisitor&>()))>>
    : std::true_type {};
template <class T>
struct IsVector : std::false_type {};
template <class T, class A>
struct IsVector<std::vector<T, A>> : std::true_type {};
}  // namespace detail

// Where each key path came from ("configs/a.yaml:12" or "command-line override 'a.b=1'").
class Origins {
 public:
  // override_subtree: the value was set by an override and may be a whole section, so keys below
  // path come from it too; keys below a file's section are recorded one by one.
  void Set(const std::string& path, std::string where, bool override_subtree = false);
  // The origin of path ("a.b", "a.b[2]"): its own record; else the closest ancestor set by an
  // override as a whole section; else "default value of 'a.b'" (a file's section line is not the
  // origin of a key the file does not give).
  std::string Where(const std::string& path) const;
  // "; also <key> from <origin>" for every key given in a file or override, other than
  // skip_path, that message names (cross-key checks: "a + b must sum to 1" names both keys).
  std::string OthersNamedIn(const std::string& message, const std::string& skip_path) const;

 private:
  std::map<std::string, std::string> where_;
  std::map<std::string, bool> subtree_;
};

// Reads a struct's fields from a YAML mapping via its Visit; collects the keys it knows so that
// Finish() can reject the rest.
class YamlReader {
 public:
  YamlReader(YAML::Node node, const Origins* origins, std::string path);

  template <class T>
  void operator()(const char* key, T& value) {
    known_.emplace_back(key);
    if (!node_.IsMap()) return;
    // Const access: operator[] on a non-const node would insert the key.
    YAML::Node child = static_cast<const YAML::Node&>(node_)[key];
    if (!child || child.IsNull()) return;
    const std::string path = Child(key);
    if constexpr (detail::IsConfigStruct<T>::value) {
      if (!child.IsMap()) Fail(path, "expected a mapping (section) for '" + path + "'");
      YamlReader sub(child, origins_, path);
      value.Visit(sub);
      sub.Finish();
    } else if constexpr (detail::IsVector<T>::value) {
      if (!child.IsSequence()) Fail(path, "expected a list for '" + path + "'");
      T out;
      for (size_t i = 0; i < child.size(); ++i) {
        typename T::value_type item{};
        ReadScalar(child[i], path + "[" + std::to_string(i) + "]", item);
        out.push_back(std::move(item));
      }
      value = std::move(out);
    } else {
      ReadScalar(child, path, value);
    }
  }

  // Throws for keys in the mapping that no Visit asked for.
  void Finish() const;

 private:
  template <class T>
  void ReadScalar(const YAML::Node& n, const std::string& path, T& value) {
    if (!n.IsScalar()) Fail(path, "expected a single value for '" + path + "'");
    if constexpr (std::is_enum_v<T>) {
      try {
        value = ParseEnum<T>(n.Scalar(), path);
      } catch (const ConfigError& e) {
        Fail(path, e.what());
      }
    } else {
      try {
        value = n.as<T>();
      } catch (const YAML::Exception&) {
        Fail(path, "cannot read '" + path + "' as " + TypeName<T>() + ": got " +
                       QuoteForError(n.Scalar()));
      }
    }
  }
  template <class T>
  static std::string TypeName() {
    if constexpr (std::is_same_v<T, bool>)
      return "a boolean (true/false)";
    else if constexpr (std::is_integral_v<T>)
      return "an integer";
    else if constexpr (std::is_floating_point_v<T>)
      return "a number";
    else
      return "a string";
  }
  std::string Child(const char* key) const { return path_.empty() ? key : path_ + "." + key; }
  [[noreturn]] void Fail(const std::string& path, const std::string& message) const;

  YAML::Node node_;
  const Origins* origins_;
  std::string path_;
  std::vector<std::string> known_;
};

// Writes a struct's fields into a YAML node via its Visit.
class YamlWriter {
 public:
  template <class T>
  void operator()(const char* key, T& value) {
    if constexpr (detail::IsConfigStruct<T>::value) {
      YamlWriter sub;
      value.Visit(sub);
      node_[key] = sub.node_;
    } else if constexpr (detail::IsVector<T>::value) {
      YAML::Node seq(YAML::NodeType::Sequence);
      for (auto& item : value) seq.push_back(ScalarNode(item));
      node_[key] = seq;
    } else {
      node_[key] = ScalarNode(value);
    }
  }
  YAML::Node node() const { return node_; }

 private:
  template <class T>
  static YAML::Node ScalarNode(const T& v) {
    if constexpr (std::is_enum_v<T>)
      return YAML::Node(EnumToString(v));
    else
      return YAML::Node(v);
  }
  YAML::Node node_{YAML::NodeType::Map};
};

// A parsed YAML document with its overrides applied and the origin of every key.
class Document {
 public:
  // file may be empty (no config file: defaults + overrides). overrides are "a.b.c=value".
  static Document Load(const std::filesystem::path& file,
                       const std::vector<std::string>& overrides);
  static Document FromString(const std::string& yaml, const std::string& name,
                             const std::vector<std::string>& overrides = {});

  // Reads cfg strictly, then runs cfg.Validate(); errors are prefixed with the origin of the key.
  template <class T>
  void Read(T& cfg) const {
    YamlReader reader(root_, &origins_, "");
    cfg.Visit(reader);
    reader.Finish();
    try {
      cfg.Validate();
    } catch (const ConfigError& e) {
      throw Error(origins_.Where(e.path()) + ": " + e.what() +
                  origins_.OthersNamedIn(e.what(), e.path()));
    }
  }

  const YAML::Node& root() const { return root_; }
  const Origins& origins() const { return origins_; }

 private:
  void ApplyOverride(const std::string& assignment);
  YAML::Node root_;
  Origins origins_;
};

// Loads a config of type T from file + overrides (see Document).
template <class T>
T Load(const std::filesystem::path& file, const std::vector<std::string>& overrides = {}) {
  T cfg;
  Document::Load(file, overrides).Read(cfg);
  return cfg;
}

// The fully resolved config as YAML text (every field, defaults included).
template <class T>
std::string ToYamlString(const T& cfg) {
  T copy = cfg;
  YamlWriter writer;
  copy.Visit(writer);
  YAML::Emitter out;
  out << writer.node();
  return std::string(out.c_str()) + "\n";
}

}  // namespace recarena::config
