#include "data/load_rc15.h"

#include "core/strings.h"
#include "data/text_reader.h"

namespace recarena::data {

namespace fs = std::filesystem;

Dataset LoadRc15(const fs::path& dir, const LoadOptions& opts, LoadReport* report) {
  Dataset ds;
  ds.name = "rc15";
  ds.value_kind = ValueKind::kClick;
  ds.parts = {"train", "test"};
  const char* files[2] = {"yoochoose-clicks-100k_train_full.txt", "yoochoose-clicks-100k_test.txt"};
  std::string text;
  for (int p = 0; p < 2; ++p) {
    LineReader in(dir / files[p]);
    NoteFileRead(in.file_name(), report);
    if (!in.Next(text) ||
        SplitChar(text, '\t') != std::vector<std::string_view>{"SessionId", "ItemId", "Time"}) {
      throw FileError(
          in.file_name(), 1,
          "expected the header 'SessionId<TAB>ItemId<TAB>Time', found " + QuoteForError(text));
    }
    size_t count = 0;
    ForEachRecord(
        opts, report, [&] { return in.Next(text); },
        [&] {
          if (text.empty()) return;
          const std::string& file = in.file_name();
          const int64_t line = in.line_number();
          const auto f = SplitChar(text, '\t');
          RequireFieldCount(f.size(), 3, text, file, line);
          Interaction x;
          x.session = ParseInt64(f[0], file, line, "SessionId");
          const int64_t item = ParseInt64(f[1], file, line, "ItemId");
          x.timestamp = ParseDouble(f[2], file, line, "Time");
          x.user = ds.users.Intern(std::to_string(x.session));
          x.item = ds.items.Intern(std::to_string(item));
          x.value = 1.0f;
          x.part = static_cast<uint8_t>(p);
          ds.interactions.push_back(x);
          ++count;
        });
    if (count == 0) throw FileError(in.file_name(), 0, "no clicks");
  }
  ds.items.Normalize();
  ds.CheckConsistency();
  return ds;
}

}  // namespace recarena::data
