#include "core/progress.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>

namespace recarena {

namespace {
std::string Hms(double seconds) {
  if (seconds < 0 || seconds > 1e7) return "?";
  auto s = static_cast<int64_t>(seconds + 0.5);
  return fmt::format("{}:{:02}:{:02}", s / 3600, (s / 60) % 60, s % 60);
}
}  // namespace

Progress::Progress(std::string label, int64_t total, double interval_s, bool enabled)
    : label_(std::move(label)),
      total_(total),
      interval_s_(interval_s),
      enabled_(enabled),
      tty_(::isatty(STDERR_FILENO) != 0),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {}

Progress::~Progress() {
  if (!finished_) Finish();
}

std::string Progress::Format(const std::string& label, int64_t done, int64_t total,
                             double elapsed_s, int64_t base) {
  const double rate = elapsed_s > 0 ? static_cast<double>(done - base) / elapsed_s : 0.0;
  if (total > 0) {
    const double pct = 100.0 * static_cast<double>(done) / static_cast<double>(total);
    const double eta = rate > 0 ? (total - done) / rate : -1.0;
    return fmt::format("{}  {}/{}  {:.1f}%  {:.1f}/s  ETA {}", label, done, total, pct, rate,
                       Hms(eta));
  }
  return fmt::format("{}  {}  {:.1f}/s  elapsed {}", label, done, rate, Hms(elapsed_s));
}

void Progress::Add(int64_t n) {
  done_ += n;
  MaybeDraw(false);
}

void Progress::Set(int64_t done) {
  done_ = done;
  MaybeDraw(false);
}

void Progress::Resume(int64_t done) {
  done_ = base_ = done;
  start_ = last_draw_ = std::chrono::steady_clock::now();
}

void Progress::Finish() {
  if (finished_) return;
  MaybeDraw(true);
  if (enabled_ && tty_) std::fprintf(stderr, "\n");
  finished_ = true;
}

void Progress::MaybeDraw(bool force) {
  if (!enabled_) return;
  const auto now = std::chrono::steady_clock::now();
  const double since = std::chrono::duration<double>(now - last_draw_).count();
  if (!force && since < interval_s_) return;
  last_draw_ = now;
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  const std::string line = Format(label_, done_, total_, elapsed, base_);
  if (tty_) {
    std::fprintf(stderr, "\r\033[K%s", line.c_str());
  } else {
    std::fprintf(stderr, "%s\n", line.c_str());
  }
  std::fflush(stderr);
}

}  // namespace recarena
