// What a step needs from its logits, computed on the device so that the
// vocabulary need not travel to the host: the XXH3-64 logits hash
// (src/kernels/hash.cpp), the greedy argmax (ties to the smallest id, -1 on
// any NaN) and the top-k in the contract's order (logit desc, id asc, NaN
// last: src/runtime/engine.cpp top_k_of), k <= kDeviceTopK.
//
// Grid (blocks of 1024 logits, rows). Each block stages its logits in shared
// memory, computes the XXH3 stripe sums of its four 1 KiB XXH3 blocks (64-bit
// integer sums: order-free; xxh3_split.h) and selects its best kDeviceTopK
// order keys. The block that finishes last (an integer ticket) runs the
// sequential per-lane scrambles, adds the tail stripes, and selects the
// row's top-k from all blocks' candidates.
//
// Selection, not sorting: a warp extracts its 16 largest keys in 16 rounds
// of a warp-wide maximum (keys are unique, so each round has one winner),
// then one warp does the same over the warps' winners. Session 4 measured
// the former bitonic sorts of 1024 keys per block at about 80% of this
// kernel's 49 us on an H100 (docs/cuda.md).
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

// The warp's kDeviceTopK largest among its lanes' P keys each and `best`
// (the result of an earlier call: lane r < kDeviceTopK holds the r-th
// largest so far, 0 for none and on the other lanes). Returns lane r's r-th
// largest, descending; 0 (no candidate) past the keys that exist. Unique
// keys (order_key includes the id; 0 only pads) give each round one winner.
template <int P>
__device__ uint64_t warp_top_keys(const uint64_t (&keys)[P], uint64_t best) {
  uint64_t c[P + 1];
#pragma unroll
  for (int i = 0; i < P; ++i) c[i] = keys[i];
  c[P] = best;
#pragma unroll
  for (int i = 0; i < P; ++i)  // sort the lane's own few, descending
#pragma unroll
    for (int j = 0; j < P - i; ++j)
      if (c[j] < c[j + 1]) {
        const uint64_t x = c[j];
        c[j] = c[j + 1];
        c[j + 1] = x;
      }
  const int lane = int(threadIdx.x % 32);
  uint64_t mine = 0;
  for (int r = 0; r < kDeviceTopK; ++r) {
    uint64_t m = c[0];
#pragma unroll
    for (int o = 16; o > 0; o /= 2) {
      const uint64_t other = __shfl_xor_sync(0xffffffffu, m, o);
      m = other > m ? other : m;
    }
    if (lane == r) mine = m;
    if (m != 0 && c[0] == m) {  // the winner moves on to its next key
#pragma unroll
      for (int i = 0; i < P; ++i) c[i] = c[i + 1];
      c[P] = 0;
    }
  }
  return lane < kDeviceTopK ? mine : 0;
}

// The block's kDeviceTopK largest of the per-warp winners in `wtop`
// ([8 warps][kDeviceTopK], after a barrier), by warp 0: lane r gets the r-th.
__device__ uint64_t merge_warp_tops(const uint64_t* wtop) {
  static_assert(kThreads / 32 * kDeviceTopK == 4 * 32, "8 warps' winners are 4 keys per lane");
  uint64_t k[4];
#pragma unroll
  for (int i = 0; i < 4; ++i) k[i] = wtop[(threadIdx.x % 32) * 4 + i];
  return warp_top_keys<4>(k, 0);
}

__global__ void __launch_bounds__(kThreads) summary_kernel(const LogitsSummaryArgs a) {
  extern __shared__ uint64_t last_block[];  // [full xxh3 blocks][8]
  __shared__ __align__(16) float xs[kSpan];
  __shared__ uint64_t wtop[kThreads / 32 * kDeviceTopK];  // each warp's winners
  __shared__ uint64_t top[kDeviceTopK];                   // the last block's result
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
  constexpr int kPerThread = kSpan / kThreads;
  uint64_t keys[kPerThread];
#pragma unroll
  for (int e = 0; e < kPerThread; ++e) {
    const int i = int(threadIdx.x) + e * kThreads;
    const float v = i < n ? x[f0 + i] : 0.0f;
    xs[i] = v;
    keys[e] = i < n ? order_key(v, uint32_t(f0 + i)) : 0u;
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
  // This block's best candidates: each warp's, then the block's.
  const uint64_t warp_best = warp_top_keys<kPerThread>(keys, 0);
  if (threadIdx.x % 32 < kDeviceTopK) wtop[(threadIdx.x / 32) * kDeviceTopK + threadIdx.x % 32] = warp_best;
  __syncthreads();
  if (threadIdx.x < 32) {
    const uint64_t block_best = merge_warp_tops(wtop);
    if (threadIdx.x < kDeviceTopK) scratch[layout.candidates + b * kDeviceTopK + threadIdx.x] = block_best;
  }
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
  // ... the best of every block's candidates (each warp takes 128 at a
  // time, 4 per lane, keeping its best so far) ...
  const int n_cand = nb * kDeviceTopK, warp = int(threadIdx.x / 32), lane = int(threadIdx.x % 32);
  uint64_t best = 0;
  for (int base = warp * 128; base < n_cand; base += kThreads / 32 * 128) {
    uint64_t k[4];
#pragma unroll
    for (int i = 0; i < 4; ++i) {
      const int c = base + lane * 4 + i;
      k[i] = c < n_cand ? __ldcg(scratch + layout.candidates + c) : 0u;
    }
    best = warp_top_keys<4>(k, best);
  }
  if (lane < kDeviceTopK) wtop[warp * kDeviceTopK + lane] = best;
  if (threadIdx.x == 0) {
    int nan = 0;
    for (int k = 0; k < nb; ++k) nan |= int(__ldcg(scratch + layout.nan_flags + k));
    any_nan = nan;
  }
  __syncthreads();
  // Warp 0 selects the row's top-k while lanes 0-7 of warp 1 run the
  // per-lane scrambles (a sequential chain over the XXH3 blocks).
  if (warp == 0) {
    const uint64_t row_best = merge_warp_tops(wtop);
    if (lane < kDeviceTopK) top[lane] = row_best;
  } else if (warp == 1 && lane < 8) {
    uint64_t v = xxh3::initial_acc(lane);
    for (int64_t k = 0; k < split.full_blocks; ++k) v = xxh3::scramble(v + sums[k * 8 + lane], kSecret, lane);
    uint64_t tail = 0;
    for (int k = 0; k < tail_items / 8; ++k) tail += contrib[k * 8 + lane];
    acc[lane] = v + tail;
  }
  __syncthreads();
  const uint64_t* cand = top;
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
  return size_t(split.full_blocks) * 8 * sizeof(uint64_t);
}

}  // namespace

size_t logits_summary_scratch_words(int64_t vocab) { return size_t(scratch_layout(vocab).words); }

void prepare_logits_summary(int64_t vocab) {
  const size_t shared = last_block_shared_bytes(vocab);
  if (shared > 24 * 1024)  // beyond what surely fits beside the static shared memory (under 10 KiB)
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
