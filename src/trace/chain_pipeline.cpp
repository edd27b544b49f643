// Receipt chain on a helper thread (chain_pipeline.h).
#include "trace/chain_pipeline.h"

namespace ree::trace {

ChainPipeline::ChainPipeline(std::span<const uint8_t> header_bound, bool threaded) : chain_(header_bound) {
  if (threaded) {
    pending_.reserve(kChunk);
    worker_ = std::thread([this] { work(); });
  }
}

ChainPipeline::~ChainPipeline() { finish(); }

void ChainPipeline::append(std::span<const uint8_t> bound) {
  if (!worker_.joinable()) {
    chain_.append(bound);
    return;
  }
  pending_.push_back(bound);
  if (pending_.size() == kChunk) hand_over();
}

void ChainPipeline::hand_over() {
  if (pending_.empty()) return;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    queue_.push_back(std::move(pending_));
  }
  wake_.notify_one();
  pending_ = Chunk();
  pending_.reserve(kChunk);
}

const Digest& ChainPipeline::finish() {
  if (digest_) return *digest_;
  if (worker_.joinable()) {
    hand_over();
    {
      std::lock_guard<std::mutex> lock(mutex_);
      closed_ = true;
    }
    wake_.notify_one();
    worker_.join();
  }
  digest_ = chain_.digest();
  return *digest_;
}

void ChainPipeline::work() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (true) {
    wake_.wait(lock, [this] { return !queue_.empty() || closed_; });
    if (queue_.empty()) return;  // closed and drained
    Chunk chunk = std::move(queue_.front());
    queue_.pop_front();
    lock.unlock();
    for (std::span<const uint8_t> bound : chunk) chain_.append(bound);
    lock.lock();
  }
}

}  // namespace ree::trace
