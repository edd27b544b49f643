#pragma once
// fdatasync on a helper thread, so that the writer's periodic "at least every
// second" sync never stalls the decode loop: one fdatasync took 1-30 ms on
// the team machine, which at once a second would be up to 3% of decode time
// (the budget for all of recording is 1%). The writer hands buffered bytes to
// the OS itself, then calls request(); the helper syncs whatever the OS has.
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace ree::trace {

class BackgroundSync {
 public:
  explicit BackgroundSync(int fd);
  ~BackgroundSync();  // finishes a pending sync, then joins
  BackgroundSync(const BackgroundSync&) = delete;
  BackgroundSync& operator=(const BackgroundSync&) = delete;

  // Ask for an fdatasync soon; returns at once. Requests made while one is
  // running are merged into one more sync.
  void request();
  // errno of the first failed fdatasync, 0 while none failed.
  int error() const { return error_.load(std::memory_order_relaxed); }

 private:
  void run();

  int fd_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool pending_ = false;
  bool stopping_ = false;
  std::atomic<int> error_{0};
  std::thread thread_;
};

}  // namespace ree::trace
