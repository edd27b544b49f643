// What a step needs from its logits, computed on the device so that the
// vocabulary need not travel to the host: the XXH3-64 logits hash
// (src/kernels/hash.cpp), the greedy argmax (ties to the smallest id, -1 on
// any NaN) and the top-k in the contract's order (logit desc, id asc, NaN
// last: src/runtime/engine.cpp top_k_of), k <= kDeviceTopK.
//
// Grid (blocks of 1024 logits, rows). Each block stages its logits in shared
// memory, computes the XXH3 stripe sums of its four 1 KiB XXH3 blocks (64-bit
// integer sums: order-free; xxh3_split.h) and sorts its logits' order keys to
// keep its best kDeviceTopK candidates. The block that finishes last (an
// integer ticket) runs the sequential per-lane scrambles, adds the tail
// stripes, merges, and sorts all blocks' candidates for the row's top-k.
#include "kernels/cuda/cuda_device.h"
#include "kernels/cuda/device_common.cuh"
#include "kernels/cuda/xxh3_split.h"

namespace ree::cuda {
namespace {

constexpr int kThreads = 256;
constexpr int kSpan = 1024;  // logits per block: four XXH3 blocks
constexpr int kXxhBlocks = kSpan / xxh3::kBlockFloats;
constexpr int kContribs = kXxhBlocks * xxh3::kStripesPerBlock * 8;

__constant__ uint8_t kSecret[xxh3::kSecretSize] = {REE_XXH3_SECRET_BYTES};

// Where one row's scratch words go.
struct ScratchLayout {
  int64_t lane_sums = 0;   // [xxh3 blocks][8]
  int64_t candidates = 0;  // [blocks][kDeviceTopK] order keys
  int64_t nan_flags = 0;   // [blocks]
  int64_t words = 0;
};

__host__ __device__ inline int64_t blocks_of(int64_t vocab) { return (vocab + kSpan - 1) / kSpan; }

__host__ __device__ inline ScratchLayout scratch_layout(int64_t vocab) {
  ScratchLayout l;
  const int64_t xxh_blocks = (vocab + xxh3::kBlockFloats - 1) / xxh3::kBlockFloats;
  l.lane_sums = 0;
  l.candidates = xxh_blocks * 8;
  l.nan_flags = l.candidates + blocks_of(vocab) * kDeviceTopK;
  l.words = l.nan_flags + blocks_of(vocab);
  return l;
}

__host__ __device__ inline int next_pow2(int n) {
  int p = 1;
  while (p < n) p *= 2;
  return p;
}

// Candidate order as one integer: sorting keys in descending order gives
// (logit desc, id asc), NaN after every number (ids ascending), then the
// key 0, which marks "no candidate". -0 and +0 rank as equals (ids decide).
__device__ __forceinline__ uint32_t order_bits(float v) {
  uint32_t u = __float_as_uint(v);
  if ((u & 0x7fffffffu) > 0x7f800000u) return 0u;
  if (u == 0x80000000u) u = 0u;
  return (u & 0x80000000u) ? ~u : (u | 0x80000000u);
}
__device__ __forceinline__ uint64_t order_key(float v, uint32_t id) {
  return (uint64_t(order_bits(v)) << 32) | uint64_t(0xffffffffu - id);
}
__device__ __forceinline__ int32_t id_of(uint64_t key) { return int32_t(0xffffffffu - uint32_t(key)); }

// Sorts n (a power of two) keys in shared memory, descending. All threads.
__device__ void bitonic_sort_desc(uint64_t* keys, int n) {
  for (int k = 2; k <= n; k *= 2) {
    for (int j = k / 2; j > 0; j /= 2) {
      for (int i = threadIdx.x; i < n; i += kThreads) {
        const int ixj = i ^ j;
        if (ixj > i) {
          const uint64_t a = keys[i], b = keys[ixj];
          if ((i & k) == 0 ? a < b : a > b) {
            keys[i] = b;
            keys[ixj] = a;
          }
        }
      }
      __syncthreads();
    }
  }
}

__global__ void __launch_bounds__(kThreads) summary_kernel(const LogitsSummaryArgs a) {
  extern __shared__ uint64_t last_block[];  // [full xxh3 blocks][8], then [pow2 candidates]
  __shared__ __align__(16) float xs[kSpan];
  __shared__ uint64_t keys[kSpan];
  __shared__ uint64_t contrib[kContribs];
  __shared__ uint64_t acc[8];
  __shared__ int any_nan;
  __shared__ bool last;
  pdl_entry();
  const int b = int(blockIdx.x), nb = int(gridDim.x);
  const int64_t t = blockIdx.y;
  const float* x = a.logits + t * a.vocab;
  const int64_t f0 = int64_t(b) * kSpan;
  const int n = a.vocab - f0 < kSpan ? int(a.vocab - f0) : kSpan;
  const xxh3::Split split = xxh3::split_of(a.vocab);
  const ScratchLayout layout = scratch_layout(a.vocab);
  uint64_t* scratch = a.scratch + t * layout.words;

  if (threadIdx.x == 0) any_nan = 0;
  __syncthreads();
  for (int i = threadIdx.x; i < kSpan; i += kThreads) {
    const float v = i < n ? x[f0 + i] : 0.0f;
    xs[i] = v;
    keys[i] = i < n ? order_key(v, uint32_t(f0 + i)) : 0u;
    if (i < n && v != v) any_nan = 1;
  }
  __syncthreads();

  // XXH3: this block's stripe contributions, summed per (XXH3 block, lane).
  for (int item = threadIdx.x; item < kContribs; item += kThreads) {
    const int j = item / (xxh3::kStripesPerBlock * 8), s = (item / 8) % xxh3::kStripesPerBlock, lane = item % 8;
    const int64_t xb = int64_t(b) * kXxhBlocks + j;
    contrib[item] = xb < split.full_blocks
                        ? xxh3::lane_contribution(xs, j * xxh3::kBlockFloats + s * xxh3::kStripeFloats, kSecret + 8 * s, lane)
                        : 0u;
  }
  __syncthreads();
  if (threadIdx.x < kXxhBlocks * 8) {
    const int j = threadIdx.x / 8, lane = threadIdx.x % 8;
    const int64_t xb = int64_t(b) * kXxhBlocks + j;
    if (xb < split.full_blocks) {
      uint64_t sum = 0;
      for (int s = 0; s < xxh3::kStripesPerBlock; ++s) sum += contrib[(j * xxh3::kStripesPerBlock + s) * 8 + lane];
      scratch[layout.lane_sums + xb * 8 + lane] = sum;
    }
  }
  // This block's best candidates.
  bitonic_sort_desc(keys, kSpan);
  for (int i = threadIdx.x; i < kDeviceTopK; i += kThreads) scratch[layout.candidates + b * kDeviceTopK + i] = keys[i];
  if (threadIdx.x == 0) scratch[layout.nan_flags + b] = uint64_t(any_nan);
  __threadfence();
  __syncthreads();
  if (threadIdx.x == 0) last = atomicAdd(a.tickets + t, 1u) == unsigned(nb - 1);
  __syncthreads();
  if (!last) return;
  __threadfence();

  // The last block: the hash ...
  uint64_t* sums = last_block;
  for (int64_t i = threadIdx.x; i < split.full_blocks * 8; i += kThreads) sums[i] = __ldcg(scratch + layout.lane_sums + i);
  const int tail_items = int(split.tail_stripes + 1) * 8;  // the partial block's stripes and the last stripe
  for (int item = threadIdx.x; item < tail_items; item += kThreads) {
    const int k = item / 8, lane = item % 8;
    contrib[item] = k < split.tail_stripes
                        ? xxh3::lane_contribution(x, split.full_blocks * xxh3::kBlockFloats + int64_t(k) * xxh3::kStripeFloats,
                                                  kSecret + 8 * k, lane)
                        : xxh3::lane_contribution(x, a.vocab - xxh3::kStripeFloats,
                                                  kSecret + xxh3::kSecretSize - 64 - xxh3::kLastAccStart, lane);
  }
  // ... the candidates of every block ...
  const int n_cand = nb * kDeviceTopK, n_sorted = next_pow2(n_cand);
  uint64_t* cand = last_block + split.full_blocks * 8;
  for (int i = threadIdx.x; i < n_sorted; i += kThreads)
    cand[i] = i < n_cand ? __ldcg(scratch + layout.candidates + i) : 0u;
  if (threadIdx.x == 0) {
    int nan = 0;
    for (int k = 0; k < nb; ++k) nan |= int(__ldcg(scratch + layout.nan_flags + k));
    any_nan = nan;
  }
  __syncthreads();
  if (threadIdx.x < 8) {
    const int lane = threadIdx.x;
    uint64_t v = xxh3::initial_acc(lane);
    for (int64_t k = 0; k < split.full_blocks; ++k) v = xxh3::scramble(v + sums[k * 8 + lane], kSecret, lane);
    uint64_t tail = 0;
    for (int k = 0; k < tail_items / 8; ++k) tail += contrib[k * 8 + lane];
    acc[lane] = v + tail;
  }
  bitonic_sort_desc(cand, n_sorted);  // (syncs: acc is written before it returns)
  if (threadIdx.x == 0) {
    uint64_t lanes[8];
    for (int i = 0; i < 8; ++i) lanes[i] = acc[i];
    a.hash[t] = xxh3::merge(lanes, kSecret, split.len);
    a.argmax[t] = any_nan ? -1 : id_of(cand[0]);
    a.tickets[t] = 0u;  // ready for the next launch
  }
  for (int i = threadIdx.x; i < a.top_k; i += kThreads) {
    const int32_t id = id_of(cand[i]);
    a.top_ids[t * a.top_k + i] = id;
    a.top_logits[t * a.top_k + i] = x[id];
  }
}

size_t last_block_shared_bytes(int64_t vocab) {
  const xxh3::Split split = xxh3::split_of(vocab);
  return size_t(split.full_blocks) * 8 * sizeof(uint64_t) +
         size_t(next_pow2(int(blocks_of(vocab)) * kDeviceTopK)) * sizeof(uint64_t);
}

}  // namespace

size_t logits_summary_scratch_words(int64_t vocab) { return size_t(scratch_layout(vocab).words); }

void prepare_logits_summary(int64_t vocab) {
  const size_t shared = last_block_shared_bytes(vocab);
  if (shared > 24 * 1024)  // beyond what fits beside the 20 KiB of static shared memory
    check(cudaFuncSetAttribute(summary_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, int(shared)),
          "cudaFuncSetAttribute (logits summary)");
}

void launch_logits_summary(const LogitsSummaryArgs& a, const Launch& launch) {
  if (a.T <= 0) return;
  if (a.vocab < xxh3::kMinFloats || a.top_k < 0 || a.top_k > kDeviceTopK || a.top_k > a.vocab)
    throw std::runtime_error("cuda: logits summary needs a vocabulary of 61 or more and top_k <= 16");
  launch_kernel(summary_kernel, dim3(unsigned(blocks_of(a.vocab)), unsigned(a.T)), dim3(kThreads),
                last_block_shared_bytes(a.vocab), launch, a);
  check_launch("logits_summary");
}

}  // namespace ree::cuda
