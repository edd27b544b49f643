#pragma once
// A one-line progress bar on stderr for long loads: "label [#####.....]
// 412.3/1024.0 MiB". It stays silent unless enabled (the caller checks that
// stderr is a terminal) and until a second has passed, so short loads and
// redirected output never see it. add() may be called from any thread.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>

namespace ree {

class Progress {
 public:
  Progress(std::string label, uint64_t total_bytes, bool enabled);
  ~Progress();  // finish()
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  void add(uint64_t bytes);
  // Clears the line if one was drawn; later add() calls draw nothing.
  void finish();

  uint64_t done() const { return done_.load(); }
  bool drew() const { return drew_; }

 private:
  void draw(uint64_t done);

  std::string label_;
  uint64_t total_;
  bool enabled_;
  std::chrono::steady_clock::time_point start_;
  std::atomic<uint64_t> done_{0};
  std::mutex draw_mutex_;  // one drawer at a time; others skip (try_lock)
  std::chrono::steady_clock::time_point last_draw_;
  bool drew_ = false;
  bool finished_ = false;
};

// True when progress should be shown at all: the caller asked for it and
// stderr is a terminal.
bool progress_wanted(bool show_progress);

}  // namespace ree
