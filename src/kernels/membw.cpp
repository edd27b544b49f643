// Read-bandwidth measurement (membw.h). Integer adds over 64-bit words with
// independent sums keep the loads, not the adds, the bottleneck. Where the CPU
// has AVX2 the sums use 32-byte loads: the baseline (SSE2) loop measured
// 29.6 GB/s on the 2-core EPYC where 32-byte loads read 36.8 GB/s and the
// decode loop itself streamed more than the SSE2 figure, so a baseline-only
// probe made the roofline ratio look better than it is.
#include "kernels/membw.h"

#include <immintrin.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <vector>

#include "kernels/thread_pool.h"

namespace ree::kernels {

namespace {

uint64_t sum_words(const uint64_t* p, size_t n) {
  uint64_t s[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  size_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int j = 0; j < 8; ++j) s[j] += p[i + j];
  for (; i < n; ++i) s[0] += p[i];
  return s[0] + s[1] + s[2] + s[3] + s[4] + s[5] + s[6] + s[7];
}

__attribute__((target("avx2"))) uint64_t sum_words_avx2(const uint64_t* p, size_t n) {
  __m256i s0 = _mm256_setzero_si256(), s1 = s0, s2 = s0, s3 = s0;
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    s0 = _mm256_add_epi64(s0, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + i)));
    s1 = _mm256_add_epi64(s1, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + i + 4)));
    s2 = _mm256_add_epi64(s2, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + i + 8)));
    s3 = _mm256_add_epi64(s3, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + i + 12)));
  }
  alignas(32) uint64_t lanes[4];
  _mm256_store_si256(reinterpret_cast<__m256i*>(lanes), _mm256_add_epi64(_mm256_add_epi64(s0, s1), _mm256_add_epi64(s2, s3)));
  return lanes[0] + lanes[1] + lanes[2] + lanes[3] + sum_words(p + i, n - i);
}

using SumFn = uint64_t (*)(const uint64_t*, size_t);

SumFn pick_sum() { return __builtin_cpu_supports("avx2") ? &sum_words_avx2 : &sum_words; }

}  // namespace

double measure_memory_bandwidth_gbs(ThreadPool* pool) { return measure_memory_bandwidth_gbs(pool, {}); }

double measure_memory_bandwidth_gbs(ThreadPool* pool, const MemBandwidthOptions& options) {
  const size_t words = size_t(options.buffer_mib * 1024.0 * 1024.0) / 8;
  if (words == 0) return 0.0;
  // uninitialised allocation: the pages are first touched by the threads below
  std::unique_ptr<uint64_t[]> buffer(new uint64_t[words]);
  // Touch every page from the threads that will read it (first-touch placement).
  const int64_t grain = 4096;
  parallel_for(pool, int64_t(words), grain, [&](int64_t b, int64_t e, int) {
    for (int64_t i = b; i < e; ++i) buffer[size_t(i)] = uint64_t(i);
  });
  const int threads = pool ? pool->size() : 1;
  std::vector<uint64_t> sink(size_t(threads), 0);
  const SumFn sum = pick_sum();
  double best = 0.0;
  for (int pass = 0; pass < options.passes; ++pass) {
    const auto t0 = std::chrono::steady_clock::now();
    parallel_for(pool, int64_t(words), grain, [&](int64_t b, int64_t e, int thread) {
      sink[size_t(thread)] += sum(buffer.get() + b, size_t(e - b));
    });
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (s > 0) {
      const double gbs = double(words) * 8.0 / s / 1e9;
      best = gbs > best ? gbs : best;
    }
  }
  // keep the sums observable so the reads are not optimised away
  volatile uint64_t keep = 0;
  for (uint64_t v : sink) keep = keep + v;
  (void)keep;
  return best;
}

}  // namespace ree::kernels
