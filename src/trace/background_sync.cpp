// fdatasync on a helper thread (background_sync.h).
#include "trace/background_sync.h"

#include <unistd.h>

#include <cerrno>

namespace ree::trace {

BackgroundSync::BackgroundSync(int fd) : fd_(fd), thread_([this] { run(); }) {}

BackgroundSync::~BackgroundSync() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

void BackgroundSync::request() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    pending_ = true;
  }
  wake_.notify_one();
}

void BackgroundSync::run() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (true) {
    wake_.wait(lock, [this] { return pending_ || stopping_; });
    if (!pending_) return;  // stopping with nothing left to sync
    pending_ = false;
    lock.unlock();
    if (::fdatasync(fd_) != 0 && error_.load(std::memory_order_relaxed) == 0) {
      error_.store(errno, std::memory_order_relaxed);
    }
    lock.lock();
  }
}

}  // namespace ree::trace
