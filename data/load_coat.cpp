#include "data/load_coat.h"

#include <fmt/format.h>

#include "core/strings.h"
#include "data/text_reader.h"

namespace recarena::data {

namespace fs = std::filesystem;

namespace {

struct Matrix {
  int64_t rows = 0;
  int64_t cols = 0;
  std::vector<double> values;
};

// Reads a dense whitespace-separated matrix; every row must have the same number of columns.
// A matrix is all-or-nothing, so bad lines are never skipped here.
Matrix ReadMatrix(const fs::path& path, LoadReport* report) {
  LineReader in(path);
  NoteFileRead(in.file_name(), report);
  Matrix m;
  std::string line;
  while (in.Next(line)) {
    const auto f = SplitWhitespace(line);
    if (f.empty()) continue;
    if (m.rows == 0) m.cols = static_cast<int64_t>(f.size());
    if (static_cast<int64_t>(f.size()) != m.cols) {
      throw FileError(in.file_name(), in.line_number(),
                      fmt::format("expected {} columns like the first row, found {}: {}", m.cols,
                                  f.size(), QuoteForError(line)));
    }
    for (const auto& v : f)
      m.values.push_back(ParseDouble(v, in.file_name(), in.line_number(), "value"));
    ++m.rows;
  }
  if (m.rows == 0) throw FileError(in.file_name(), 0, "no rows");
  return m;
}

std::vector<std::string> ReadNames(const fs::path& path, LoadReport* report) {
  LineReader in(path);
  NoteFileRead(in.file_name(), report);
  std::vector<std::string> names;
  std::string line;
  while (in.Next(line)) {
    const auto name = Trim(line);
    if (!name.empty()) names.emplace_back(name);
  }
  return names;
}

void RequireShape(const Matrix& m, int64_t rows, int64_t cols, const fs::path& path,
                  const std::string& why) {
  if (m.rows != rows || m.cols != cols) {
    throw FileError(
        path.string(), 0,
        fmt::format("matrix is {} x {}, expected {} x {} ({})", m.rows, m.cols, rows, cols, why));
  }
}

}  // namespace

Dataset LoadCoat(const fs::path& dir, const LoadOptions& opts, LoadReport* report) {
  Dataset ds;
  ds.name = "coat";
  ds.value_kind = ValueKind::kRating;
  ds.parts = {"train", "test"};

  const Matrix train = ReadMatrix(dir / "train.ascii", report);
  const Matrix test = ReadMatrix(dir / "test.ascii", report);
  RequireShape(test, train.rows, train.cols, dir / "test.ascii", "the shape of train.ascii");
  for (int64_t u = 0; u < train.rows; ++u) ds.users.Intern(std::to_string(u));
  for (int64_t i = 0; i < train.cols; ++i) ds.items.Intern(std::to_string(i));
  ds.items.Normalize();

  const Matrix* parts[2] = {&train, &test};
  const fs::path files[2] = {dir / "train.ascii", dir / "test.ascii"};
  for (int p = 0; p < 2; ++p) {
    const Matrix& m = *parts[p];
    for (int64_t u = 0; u < m.rows; ++u) {
      for (int64_t i = 0; i < m.cols; ++i) {
        const double v = m.values[u * m.cols + i];
        if (v == 0) continue;
        if (v < 0 || v > 5) {
          // Line u+1 is the matrix row (the files have no header).
          HandleBadLine(FileError(files[p].string(), u + 1,
                                  fmt::format("rating {} in column {} is outside 0..5", v, i + 1)),
                        opts, report);
          continue;
        }
        Interaction x;
        x.user = static_cast<UserId>(u);
        x.item = static_cast<ItemId>(i);
        x.value = static_cast<float>(v);
        x.timestamp = p;
        x.part = static_cast<uint8_t>(p);
        ds.interactions.push_back(x);
      }
    }
  }

  const fs::path feat = dir / "user_item_features";
  const auto user_names = ReadNames(feat / "user_features_map.txt", report);
  const Matrix user_f = ReadMatrix(feat / "user_features.ascii", report);
  RequireShape(user_f, train.rows, static_cast<int64_t>(user_names.size()),
               feat / "user_features.ascii", "users x names in user_features_map.txt");
  const auto item_names = ReadNames(feat / "item_features_map.txt", report);
  const Matrix item_f = ReadMatrix(feat / "item_features.ascii", report);
  RequireShape(item_f, train.cols, static_cast<int64_t>(item_names.size()),
               feat / "item_features.ascii", "items x names in item_features_map.txt");

  ds.users.feature_dim = static_cast<int32_t>(user_names.size());
  ds.users.feature_names = user_names;
  ds.users.features.assign(user_f.values.begin(), user_f.values.end());
  ds.items.feature_dim = static_cast<int32_t>(item_names.size());
  ds.items.feature_names = item_names;
  ds.items.features.assign(item_f.values.begin(), item_f.values.end());
  for (int64_t i = 0; i < item_f.rows; ++i) {
    for (int64_t k = 0; k < item_f.cols; ++k) {
      if (item_f.values[i * item_f.cols + k] != 0) ds.items.categories[i].push_back(item_names[k]);
    }
  }
  ds.CheckConsistency();
  return ds;
}

double CoatPropensities::OfDense(const Dataset& ds, UserId user, ItemId item) const {
  const auto u = std::stoll(ds.users.external_ids.at(static_cast<size_t>(user)));
  const auto i = std::stoll(ds.items.external_ids.at(static_cast<size_t>(item)));
  if (u < 0 || u >= users || i < 0 || i >= items) {
    throw Error(
        fmt::format("pair ({}, {}) is outside the {} x {} propensity matrix", u, i, users, items));
  }
  return at(u, i);
}

CoatPropensities LoadCoatPropensities(const fs::path& dir) {
  const Matrix train = ReadMatrix(dir / "train.ascii", nullptr);
  const fs::path file = dir / "propensities.ascii";
  const Matrix m = ReadMatrix(file, nullptr);
  RequireShape(m, train.rows, train.cols, file, "the shape of train.ascii");
  for (int64_t u = 0; u < m.rows; ++u) {
    for (int64_t i = 0; i < m.cols; ++i) {
      const double v = m.values[static_cast<size_t>(u * m.cols + i)];
      if (!(v > 0.0 && v <= 1.0)) {
        throw FileError(file.string(), u + 1,
                        fmt::format("propensity {} in column {} is outside (0, 1]", v, i + 1));
      }
    }
  }
  return {m.rows, m.cols, m.values};
}

}  // namespace recarena::data
