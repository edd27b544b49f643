// The logits (src/kernels/hash.cpp): the lm_head product's consumer combines
// each logit's chunk partials. Also the first, single-block version of the
// logits summary (argmax and XXH3-64 hash; logits_summary.cu has the split
// one that the engine uses, with top-k).
#include "kernels/cuda/device_common.cuh"
#include "kernels/cuda/xxh3_split.h"

namespace ree::cuda {
namespace {

constexpr int kCombineThreads = 256;
constexpr int kSummaryThreads = 512;

__constant__ uint8_t kSecret[xxh3::kSecretSize] = {REE_XXH3_SECRET_BYTES};

__global__ void __launch_bounds__(kCombineThreads) combine_kernel(const Partials p, int64_t T, float* out) {
  pdl_entry();
  const int64_t i = int64_t(blockIdx.x) * kCombineThreads + threadIdx.x;
  if (i >= T * p.rows) return;
  out[i] = combine(p, i / p.rows, i % p.rows);
}

// Best (value, id) so far; a later id wins only with a strictly larger value.
struct Best {
  float value;
  int32_t id;  // -1: none yet
};

__device__ __forceinline__ Best better(Best a, Best b) {
  if (a.id < 0) return b;
  if (b.id < 0) return a;
  if (b.value > a.value || (b.value == a.value && b.id < a.id)) return b;
  return a;
}

// One block per row. Shared memory: one u64 per (full block, lane).
__global__ void __launch_bounds__(kSummaryThreads)
summary_kernel(const float* logits, int64_t vocab, int32_t* out_argmax, uint64_t* out_hash) {
  extern __shared__ uint64_t block_sums[];  // [full_blocks][8]
  __shared__ Best best_w[kSummaryThreads / 32];
  __shared__ int any_nan;
  __shared__ uint64_t acc[8];
  pdl_entry();
  const float* x = logits + int64_t(blockIdx.x) * vocab;
  if (threadIdx.x == 0) any_nan = 0;
  __syncthreads();

  // argmax
  Best best{0.0f, -1};
  bool nan = false;
  for (int64_t i = threadIdx.x; i < vocab; i += kSummaryThreads) {
    const float v = x[i];
    if (v != v) nan = true;
    else if (best.id < 0 || v > best.value) best = Best{v, int32_t(i)};
  }
  if (nan) any_nan = 1;
#pragma unroll
  for (int o = 16; o > 0; o /= 2) {
    Best other{__shfl_xor_sync(0xffffffffu, best.value, o), __shfl_xor_sync(0xffffffffu, best.id, o)};
    best = better(best, other);
  }
  if (threadIdx.x % 32 == 0) best_w[threadIdx.x / 32] = best;

  // hash: per-(block, lane) stripe sums in parallel ...
  const xxh3::Split s = xxh3::split_of(vocab);
  for (int64_t item = threadIdx.x; item < s.full_blocks * 8; item += kSummaryThreads)
    block_sums[item] = xxh3::block_contribution(x, item / 8, kSecret, int(item % 8));
  __syncthreads();
  // ... then each lane's sequential scrambles.
  if (threadIdx.x < 8) {
    const int lane = int(threadIdx.x);
    uint64_t a = xxh3::initial_acc(lane);
    for (int64_t b = 0; b < s.full_blocks; ++b) a = xxh3::scramble(a + block_sums[b * 8 + lane], kSecret, lane);
    acc[lane] = a + xxh3::tail_contribution(x, s, kSecret, lane);
  }
  __syncthreads();
  if (threadIdx.x == 0) {
    uint64_t lanes[8];
    for (int i = 0; i < 8; ++i) lanes[i] = acc[i];
    out_hash[blockIdx.x] = xxh3::merge(lanes, kSecret, s.len);
    Best b = best_w[0];
    for (int w = 1; w < kSummaryThreads / 32; ++w) b = better(b, best_w[w]);
    out_argmax[blockIdx.x] = any_nan ? -1 : b.id;
  }
}

}  // namespace

void launch_combine(const Partials& p, int64_t T, float* out, const Launch& launch) {
  if (T <= 0) return;
  launch_kernel(combine_kernel, dim3(blocks_for(T * p.rows, kCombineThreads)), dim3(kCombineThreads), 0, launch, p, T, out);
  check_launch("combine");
}

void launch_logits_summary_single(const float* logits, int64_t T, int64_t vocab, int32_t* out_argmax, uint64_t* out_hash,
                           const Launch& launch) {
  if (T <= 0) return;
  if (vocab < xxh3::kMinFloats) throw std::runtime_error("cuda: logits summary needs a vocabulary of 61 or more");
  const size_t shared = size_t(xxh3::split_of(vocab).full_blocks) * 8 * sizeof(uint64_t);
  if (shared > 48 * 1024)
    cudaFuncSetAttribute(summary_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, int(shared));
  launch_kernel(summary_kernel, dim3(unsigned(T)), dim3(kSummaryThreads), shared, launch, logits, vocab, out_argmax,
                out_hash);
  check_launch("logits_summary");
}

}  // namespace ree::cuda
