#include "runtime/loader/progress.h"

#include <unistd.h>

#include <cstdio>

namespace ree {

namespace {
// Loads shorter than this never show a bar; redraws at most this often.
constexpr auto kQuietPeriod = std::chrono::seconds(1);
constexpr auto kRedrawInterval = std::chrono::milliseconds(100);
constexpr int kBarWidth = 30;
}  // namespace

bool progress_wanted(bool show_progress) { return show_progress && ::isatty(STDERR_FILENO) == 1; }

Progress::Progress(std::string label, uint64_t total_bytes, bool enabled)
    : label_(std::move(label)),
      total_(total_bytes),
      enabled_(enabled),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {}

Progress::~Progress() { finish(); }

void Progress::add(uint64_t bytes) {
  const uint64_t done = done_.fetch_add(bytes) + bytes;
  if (!enabled_) return;
  std::unique_lock<std::mutex> lock(draw_mutex_, std::try_to_lock);
  if (!lock.owns_lock() || finished_) return;
  const auto now = std::chrono::steady_clock::now();
  if (now - start_ < kQuietPeriod || now - last_draw_ < kRedrawInterval) return;
  last_draw_ = now;
  draw(done);
}

void Progress::draw(uint64_t done) {
  const double fraction = total_ == 0 ? 1.0 : static_cast<double>(done) / static_cast<double>(total_);
  const int filled = static_cast<int>(fraction > 1.0 ? kBarWidth : fraction * kBarWidth);
  char bar[kBarWidth + 1];
  for (int i = 0; i < kBarWidth; ++i) bar[i] = i < filled ? '#' : '.';
  bar[kBarWidth] = '\0';
  constexpr double kMiB = 1024.0 * 1024.0;
  std::fprintf(stderr, "\r%s [%s] %.1f/%.1f MiB", label_.c_str(), bar, static_cast<double>(done) / kMiB,
               static_cast<double>(total_) / kMiB);
  std::fflush(stderr);
  drew_ = true;
}

void Progress::finish() {
  std::lock_guard<std::mutex> lock(draw_mutex_);
  if (finished_) return;
  finished_ = true;
  if (drew_) {
    std::fprintf(stderr, "\r\033[K");  // erase the bar so the next line starts clean
    std::fflush(stderr);
  }
}

}  // namespace ree
