#include "data/prepared_io.h"

#include <fmt/format.h>

#include <charconv>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "core/config_schema.h"
#include "core/error.h"
#include "core/json_read.h"
#include "core/strings.h"

namespace recarena::data {

namespace fs = std::filesystem;
using nlohmann::json;

std::string EscapeField(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string UnescapeField(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size()) {
      const char n = s[++i];
      out += n == 't' ? '\t' : n == 'n' ? '\n' : n == 'r' ? '\r' : n;
    } else {
      out += s[i];
    }
  }
  return out;
}

namespace {

std::string ValueKindName(ValueKind k) { return config::EnumToString(k); }

std::string JoinInts(const std::vector<int32_t>& v) {
  std::string s;
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) s += ' ';
    s += std::to_string(v[i]);
  }
  return s;
}

template <class T>
std::string JoinNums(const std::vector<T>& v) {
  std::string s;
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) s += ' ';
    s += fmt::format("{:.17g}", static_cast<double>(v[i]));
  }
  return s;
}

void WriteSequences(const fs::path& file, const std::vector<Sequence>& seqs) {
  WriteFileAtomic(file, [&](std::ostream& os) {
    os << "user\tsession\ttarget_from\titems\ttimestamps\tvalues\n";
    for (const auto& s : seqs) {
      os << s.user << '\t' << s.session << '\t' << s.target_from << '\t' << JoinInts(s.items)
         << '\t' << JoinNums(s.timestamps) << '\t' << JoinNums(s.values) << '\n';
    }
  });
}

void WriteFeatures(const fs::path& file, int32_t dim, const std::vector<float>& features,
                   const std::vector<std::string>& names, int32_t rows) {
  WriteFileAtomic(file, [&](std::ostream& os) {
    for (int32_t j = 0; j < dim; ++j) {
      os << (j ? "\t" : "")
         << EscapeField(j < static_cast<int32_t>(names.size()) ? names[j]
                                                               : "f" + std::to_string(j));
    }
    os << '\n';
    for (int32_t i = 0; i < rows; ++i) {
      for (int32_t j = 0; j < dim; ++j)
        os << (j ? "\t" : "") << fmt::format("{}", features[size_t(i) * dim + j]);
      os << '\n';
    }
  });
}

// ---- reading ----

class TsvFile {
 public:
  explicit TsvFile(const fs::path& path) : path_(path), in_(path, std::ios::binary) {
    if (!fs::exists(path))
      throw FileError(path.string(), 0, "file does not exist (not a prepared dataset directory?)");
    if (!in_) throw FileError(path.string(), 0, "cannot open");
  }
  // Next line split on tabs; false at end of file.
  bool Next(std::vector<std::string>& fields) {
    std::string line;
    if (!std::getline(in_, line)) return false;
    ++line_;
    fields = Split(line, '\t');
    return true;
  }
  void Expect(const std::vector<std::string>& fields, size_t n) const {
    if (fields.size() != n) {
      throw FileError(path_.string(), line_,
                      fmt::format("expected {} tab-separated fields, got {}", n, fields.size()));
    }
  }
  template <class T>
  T Num(const std::string& s, const char* what) const {
    T v{};
    const char* b = s.data();
    const char* e = s.data() + s.size();
    auto r = std::from_chars(b, e, v);
    if (r.ec != std::errc() || r.ptr != e) {
      throw FileError(path_.string(), line_,
                      fmt::format("{} is not a valid number: {}", what, QuoteForError(s)));
    }
    return v;
  }
  template <class T>
  std::vector<T> Nums(const std::string& s, const char* what) const {
    std::vector<T> out;
    if (s.empty()) return out;
    for (const auto& part : Split(s, ' ')) out.push_back(Num<T>(part, what));
    return out;
  }
  int64_t line() const { return line_; }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
  std::ifstream in_;
  int64_t line_ = 0;
};

std::vector<Sequence> ReadSequences(const fs::path& file) {
  TsvFile f(file);
  std::vector<std::string> fields;
  std::vector<Sequence> out;
  if (!f.Next(fields)) throw FileError(file.string(), 0, "empty file (expected a header line)");
  while (f.Next(fields)) {
    f.Expect(fields, 6);
    Sequence s;
    s.user = f.Num<int32_t>(fields[0], "user");
    s.session = f.Num<int64_t>(fields[1], "session");
    s.target_from = f.Num<int32_t>(fields[2], "target_from");
    s.items = f.Nums<int32_t>(fields[3], "item");
    s.timestamps = f.Nums<double>(fields[4], "timestamp");
    s.values = f.Nums<float>(fields[5], "value");
    if (s.timestamps.size() != s.items.size() || s.values.size() != s.items.size()) {
      throw FileError(file.string(), f.line(), "items, timestamps and values differ in length");
    }
    out.push_back(std::move(s));
  }
  return out;
}

void ReadFeatures(const fs::path& file, int32_t rows, int32_t& dim, std::vector<float>& features,
                  std::vector<std::string>& names) {
  TsvFile f(file);
  std::vector<std::string> fields;
  if (!f.Next(fields)) throw FileError(file.string(), 0, "empty file");
  names.clear();
  for (const auto& n : fields) names.push_back(UnescapeField(n));
  dim = static_cast<int32_t>(names.size());
  features.clear();
  int32_t r = 0;
  while (f.Next(fields)) {
    f.Expect(fields, static_cast<size_t>(dim));
    for (const auto& v : fields) features.push_back(f.Num<float>(v, "feature"));
    ++r;
  }
  if (r != rows)
    throw FileError(file.string(), 0, fmt::format("has {} rows, expected {}", r, rows));
}

}  // namespace

void SavePrepared(const fs::path& dir, const PreparedDataset& p) {
  const Dataset& ds = p.dataset;
  json meta;
  meta["format_version"] = kPreparedFormatVersion;
  meta["name"] = ds.name;
  meta["value_kind"] = ValueKindName(ds.value_kind);
  meta["num_users"] = ds.users.size();
  meta["num_items"] = ds.items.size();
  meta["padding_id"] = p.padding_id();
  meta["num_interactions"] = ds.interactions.size();
  meta["parts"] = ds.parts;
  meta["sequence_unit"] = config::EnumToString(p.unit);
  meta["num_long_tail_items"] = p.item_stats.num_long_tail;
  meta["sequences"] = {{"train", p.split.train.size()},
                       {"valid", p.split.valid.size()},
                       {"test", p.split.test.size()}};
  const auto& r = p.preprocess_report;
  meta["preprocess_report"] = {{"input_interactions", r.input_interactions},
                               {"output_interactions", r.output_interactions},
                               {"removed_items", r.removed_items},
                               {"removed_sequences", r.removed_sequences},
                               {"removed_repeats", r.removed_repeats},
                               {"rounds", r.rounds},
                               {"sessions", r.sessions}};
  meta["load_report"] = {{"skipped_lines", p.load_report.skipped_lines},
                         {"skipped_examples", p.load_report.skipped_examples},
                         {"files_read", p.load_report.files_read}};
  WriteFileAtomic(dir / "dataset.json", meta.dump(2) + "\n");

  WriteFileAtomic(dir / "items.tsv", [&](std::ostream& os) {
    os << "id\texternal_id\tcount\tlong_tail\ttitle\tcategories\ttext\n";
    for (int32_t i = 0; i < ds.items.size(); ++i) {
      const int64_t count =
          i < static_cast<int32_t>(p.item_stats.counts.size()) ? p.item_stats.counts[i] : 0;
      const int lt =
          i < static_cast<int32_t>(p.item_stats.long_tail.size()) ? p.item_stats.long_tail[i] : 0;
      os << i << '\t' << EscapeField(ds.items.external_ids[i]) << '\t' << count << '\t' << lt
         << '\t'
         << EscapeField(i < static_cast<int32_t>(ds.items.titles.size()) ? ds.items.titles[i] : "")
         << '\t'
         << EscapeField(i < static_cast<int32_t>(ds.items.categories.size())
                            ? Join(ds.items.categories[i], "|")
                            : "")
         << '\t'
         << EscapeField(i < static_cast<int32_t>(ds.items.texts.size()) ? ds.items.texts[i] : "")
         << '\n';
    }
  });
  WriteFileAtomic(dir / "users.tsv", [&](std::ostream& os) {
    os << "id\texternal_id\n";
    for (int32_t u = 0; u < ds.users.size(); ++u)
      os << u << '\t' << EscapeField(ds.users.external_ids[u]) << '\n';
  });
  if (ds.items.feature_dim > 0) {
    WriteFeatures(dir / "item_features.tsv", ds.items.feature_dim, ds.items.features,
                  ds.items.feature_names, ds.items.size());
  }
  if (ds.users.feature_dim > 0) {
    WriteFeatures(dir / "user_features.tsv", ds.users.feature_dim, ds.users.features,
                  ds.users.feature_names, ds.users.size());
  }
  WriteFileAtomic(dir / "interactions.tsv", [&](std::ostream& os) {
    os << "user\titem\ttimestamp\tvalue\tsession\tpart\n";
    for (const auto& x : ds.interactions) {
      os << x.user << '\t' << x.item << '\t' << fmt::format("{:.17g}", x.timestamp) << '\t'
         << fmt::format("{}", x.value) << '\t' << x.session << '\t' << static_cast<int>(x.part)
         << '\n';
    }
  });
  if (!ds.exposures.empty()) {
    WriteFileAtomic(dir / "exposures.tsv", [&](std::ostream& os) {
      os << "user\titem\ttimestamp\tsession\tpart\n";
      for (const auto& e : ds.exposures) {
        os << e.user << '\t' << e.item << '\t' << fmt::format("{:.17g}", e.timestamp) << '\t'
           << e.session << '\t' << static_cast<int>(e.part) << '\n';
      }
    });
  }
  WriteSequences(dir / "train.tsv", p.split.train);
  WriteSequences(dir / "valid.tsv", p.split.valid);
  WriteSequences(dir / "test.tsv", p.split.test);
  if (p.truth) SaveGroundTruth(dir / "ground_truth.json", *p.truth);
  if (!p.perturbation.empty()) {
    WriteFileAtomic(dir / "perturbation.tsv", [&](std::ostream& os) {
      os << "sequence\tposition\titem\tnew_item\n";
      for (const auto& r : p.perturbation) {
        os << r.sequence << '\t' << r.position << '\t' << r.item << '\t' << r.new_item << '\n';
      }
    });
  }
}

PreparedItems LoadPreparedItems(const fs::path& dir) {
  PreparedItems out;
  std::vector<std::string> f;
  TsvFile items(dir / "items.tsv");
  if (!items.Next(f)) throw FileError(items.path().string(), 0, "empty file");
  while (items.Next(f)) {
    items.Expect(f, 7);
    const auto id = items.Num<int32_t>(f[0], "id");
    if (id != static_cast<int32_t>(out.external_ids.size()))
      throw FileError(items.path().string(), items.line(),
                      "item ids must be 0,1,2,... in order, got " + QuoteForError(f[0]));
    out.external_ids.push_back(UnescapeField(f[1]));
    out.counts.push_back(items.Num<int64_t>(f[2], "count"));
    out.long_tail.push_back(static_cast<uint8_t>(items.Num<int>(f[3], "long_tail")));
    out.titles.push_back(UnescapeField(f[4]));
    const std::string cats = UnescapeField(f[5]);
    out.categories.push_back(cats.empty() ? std::vector<std::string>{} : Split(cats, '|'));
    out.texts.push_back(UnescapeField(f[6]));
  }
  return out;
}

PreparedDataset LoadPrepared(const fs::path& dir) {
  if (!fs::is_directory(dir))
    throw FileError(dir.string(), 0, "not a directory (expected a prepared dataset directory)");
  PreparedDataset p;
  Dataset& ds = p.dataset;
  const fs::path meta_file = dir / "dataset.json";
  const json meta = ParseJson(ReadFile(meta_file), meta_file.string());
  try {
    const int version = meta.at("format_version").get<int>();
    if (version != kPreparedFormatVersion) {
      throw FileError(
          meta_file.string(), 0,
          fmt::format("format_version {} is not supported (expected {}); re-run data prepare",
                      version, kPreparedFormatVersion));
    }
    ds.name = meta.at("name").get<std::string>();
    ds.value_kind =
        config::ParseEnum<ValueKind>(meta.at("value_kind").get<std::string>(), "value_kind");
    ds.parts = meta.at("parts").get<std::vector<std::string>>();
    p.unit = config::ParseEnum<SequenceUnit>(meta.at("sequence_unit").get<std::string>(),
                                             "sequence_unit");
    const auto& r = meta.at("preprocess_report");
    p.preprocess_report.input_interactions = r.at("input_interactions").get<int64_t>();
    p.preprocess_report.output_interactions = r.at("output_interactions").get<int64_t>();
    p.preprocess_report.removed_items = r.at("removed_items").get<int64_t>();
    p.preprocess_report.removed_sequences = r.at("removed_sequences").get<int64_t>();
    p.preprocess_report.removed_repeats = r.at("removed_repeats").get<int64_t>();
    p.preprocess_report.rounds = r.at("rounds").get<int64_t>();
    p.preprocess_report.sessions = r.at("sessions").get<int64_t>();
    const auto& l = meta.at("load_report");
    p.load_report.skipped_lines = l.at("skipped_lines").get<int64_t>();
    p.load_report.skipped_examples = l.at("skipped_examples").get<std::vector<std::string>>();
    p.load_report.files_read = l.at("files_read").get<std::vector<std::string>>();
  } catch (const json::exception& e) {
    throw FileError(meta_file.string(), 0, std::string("missing or invalid field: ") + e.what());
  } catch (const ConfigError& e) {
    throw FileError(meta_file.string(), 0, e.what());
  }

  std::vector<std::string> f;
  {
    PreparedItems items = LoadPreparedItems(dir);
    ds.items.external_ids = std::move(items.external_ids);
    ds.items.titles = std::move(items.titles);
    ds.items.categories = std::move(items.categories);
    ds.items.texts = std::move(items.texts);
    p.item_stats.counts = std::move(items.counts);
    p.item_stats.long_tail = std::move(items.long_tail);
  }
  {
    TsvFile users(dir / "users.tsv");
    if (!users.Next(f)) throw FileError(users.path().string(), 0, "empty file");
    while (users.Next(f)) {
      users.Expect(f, 2);
      ds.users.external_ids.push_back(UnescapeField(f[1]));
    }
  }
  if (fs::exists(dir / "item_features.tsv")) {
    ReadFeatures(dir / "item_features.tsv", ds.items.size(), ds.items.feature_dim,
                 ds.items.features, ds.items.feature_names);
  }
  if (fs::exists(dir / "user_features.tsv")) {
    ReadFeatures(dir / "user_features.tsv", ds.users.size(), ds.users.feature_dim,
                 ds.users.features, ds.users.feature_names);
  }
  {
    TsvFile inter(dir / "interactions.tsv");
    if (!inter.Next(f)) throw FileError(inter.path().string(), 0, "empty file");
    while (inter.Next(f)) {
      inter.Expect(f, 6);
      Interaction x;
      x.user = inter.Num<int32_t>(f[0], "user");
      x.item = inter.Num<int32_t>(f[1], "item");
      x.timestamp = inter.Num<double>(f[2], "timestamp");
      x.value = inter.Num<float>(f[3], "value");
      x.session = inter.Num<int64_t>(f[4], "session");
      x.part = static_cast<uint8_t>(inter.Num<int>(f[5], "part"));
      ds.interactions.push_back(x);
    }
  }
  if (fs::exists(dir / "exposures.tsv")) {
    TsvFile ex(dir / "exposures.tsv");
    if (!ex.Next(f)) throw FileError(ex.path().string(), 0, "empty file");
    while (ex.Next(f)) {
      ex.Expect(f, 5);
      Exposure e;
      e.user = ex.Num<int32_t>(f[0], "user");
      e.item = ex.Num<int32_t>(f[1], "item");
      e.timestamp = ex.Num<double>(f[2], "timestamp");
      e.session = ex.Num<int64_t>(f[3], "session");
      e.part = static_cast<uint8_t>(ex.Num<int>(f[4], "part"));
      ds.exposures.push_back(e);
    }
  }
  ds.RebuildIndex();
  ds.CheckConsistency();
  p.split.train = ReadSequences(dir / "train.tsv");
  p.split.valid = ReadSequences(dir / "valid.tsv");
  p.split.test = ReadSequences(dir / "test.tsv");
  for (const auto* part : {&p.split.train, &p.split.valid, &p.split.test}) {
    for (const auto& s : *part) {
      for (ItemId it : s.items) {
        if (it < 0 || it >= ds.items.size()) {
          throw FileError((dir / "train.tsv").string(), 0,
                          fmt::format("sequence item {} out of range", it));
        }
      }
    }
  }
  p.item_stats.num_long_tail = 0;
  int64_t lt_interactions = 0;
  for (auto v : p.item_stats.long_tail) p.item_stats.num_long_tail += v;
  for (const auto& x : ds.interactions) lt_interactions += p.item_stats.long_tail[x.item];
  p.item_stats.long_tail_interaction_share =
      ds.interactions.empty() ? 0.0 : static_cast<double>(lt_interactions) / ds.interactions.size();
  if (fs::exists(dir / "ground_truth.json")) p.truth = LoadGroundTruth(dir / "ground_truth.json");
  if (fs::exists(dir / "perturbation.tsv")) {
    TsvFile rows(dir / "perturbation.tsv");
    rows.Next(f);  // header
    while (rows.Next(f)) {
      rows.Expect(f, 4);
      p.perturbation.push_back(
          {rows.Num<int64_t>(f[0], "sequence"), rows.Num<int32_t>(f[1], "position"),
           rows.Num<int32_t>(f[2], "item"), rows.Num<int32_t>(f[3], "new_item")});
    }
  }
  return p;
}

}  // namespace recarena::data
