#pragma once
// The receipt chain of a file being verified, computed on a helper thread
// while the reader's own thread checks frames. Hashing is about half of the
// reader's work (two BLAKE2b blocks per step record), and the chain is
// inherently sequential, so the one way to overlap it with verification is
// to hand the verified bound spans to a second thread in chunks. Small files
// are hashed inline: a thread costs more than it saves there.
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <span>
#include <thread>
#include <vector>

#include "trace/receipt.h"

namespace ree::trace {

class ChainPipeline {
 public:
  // Files at least this large get the helper thread (below it, the whole
  // chain takes under ~10 ms and a thread would only add latency).
  static constexpr size_t kThreadedFileBytes = size_t{8} << 20;

  ChainPipeline(std::span<const uint8_t> header_bound, bool threaded);
  ~ChainPipeline();
  ChainPipeline(const ChainPipeline&) = delete;
  ChainPipeline& operator=(const ChainPipeline&) = delete;

  // Adds one record's bound bytes to the chain; they must stay valid until
  // finish() (they point into the mapped file).
  void append(std::span<const uint8_t> bound);
  // The digest over everything appended; waits for the helper. After the
  // first call nothing more may be appended; later calls return the same.
  const Digest& finish();

 private:
  // Spans handed over per chunk: large enough that the lock is rare.
  static constexpr size_t kChunk = 8192;
  using Chunk = std::vector<std::span<const uint8_t>>;

  void hand_over();
  void work();

  ReceiptChain chain_;
  std::optional<Digest> digest_;
  Chunk pending_;  // the reader thread's chunk being filled
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Chunk> queue_;
  bool closed_ = false;
  std::thread worker_;
};

}  // namespace ree::trace
