// A progress display for long loops: "label  1234/10000  12.3%  456.7/s  ETA 0:00:19" on stderr,
// redrawn at most every `interval_s` seconds (a plain line per update when stderr is not a
// terminal).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace recarena {

class Progress {
 public:
  // total <= 0 means unknown (no percentage or ETA).
  Progress(std::string label, int64_t total, double interval_s = 1.0, bool enabled = true);
  ~Progress();
  void Add(int64_t n = 1);
  void Set(int64_t done);
  // A resumed run: `done` items were done before this process; the rate and ETA count only what
  // is done from now on.
  void Resume(int64_t done);
  void Finish();
  // Formats the status line for done items after elapsed seconds, of which `base` were done
  // before the clock started (exposed for tests).
  static std::string Format(const std::string& label, int64_t done, int64_t total, double elapsed_s,
                            int64_t base = 0);

 private:
  void MaybeDraw(bool force);
  std::string label_;
  int64_t total_;
  int64_t done_ = 0, base_ = 0;
  double interval_s_;
  bool enabled_;
  bool tty_;
  bool finished_ = false;
  std::chrono::steady_clock::time_point start_, last_draw_;
};

}  // namespace recarena
