#pragma once
// One query row of repro-v1 causal attention for one head, run by a whole
// block of kAttentionThreads threads (src/kernels/attention.cpp is the CPU
// version). Shared by attention.cu (prefill and decode rows, one block per
// (head, row)) and decode_step.cu (the fused decode step):
//   s_j = D(q, k_j, hd) * scale, scale = 1 / sqrtf(hd)       (thread per j)
//   m = max_j s_j;  e_j = exp(s_j - m)                       (contract exp)
//   S = sum_j e_j, o[d] = sum_j fma(e_j, v_j[d], .)  as chunked sums over
//   absolute positions: a chain per chunk of 256 positions, chunks then
//   added left to right (r = p0; r = r + p1 ...);  out[d] = o[d] / S.
//
// The chains are serial by definition, so their inputs come from shared
// memory: tiles of TJ positions (TJ divides 256, so a tile never straddles a
// chunk) of k, then of v and e, are copied in with cp.async by the whole
// block, coalesced, the next tile in flight while the threads run their
// chains over the current one (thread j: the score of position j; thread d:
// o[d]; one more thread: S).
//
// The max: the CPU scans m = s_0, m = s_j > m ? s_j : m. fmaxf gives the same
// m except for NaN (both then make every output NaN) and the sign of a zero
// maximum (s_j - (+0) and s_j - (-0) are equal unless s_j is a zero, and
// exp(+0) = exp(-0) = 1), so no output bit can differ.
#include <cuda_pipeline.h>

#include "kernels/cuda/device_common.cuh"

namespace ree::cuda {

inline constexpr int kAttentionThreads = 256;
inline constexpr int kAttentionMaxHeadDim = 2 * kAttentionThreads;  // two o[d] chains per thread at most
inline constexpr size_t kAttentionTileBudget = size_t(96) << 10;    // shared bytes for the two v/e tile buffers

struct AttentionTiling {
  int tile = 0;  // positions per tile (divides 256)
  size_t shared_bytes = 0;  // q, then two tile buffers
};

// Floats of one tile buffer (a multiple of 4: both buffers stay 16-byte aligned).
__host__ __device__ inline int64_t attention_tile_floats(int tile, int hd) { return (int64_t(tile) * (hd + 1) + 3) / 4 * 4; }
// Floats before the tile buffers (q, padded to a multiple of 4).
__host__ __device__ inline int64_t attention_q_floats(int hd) { return (hd + 3) / 4 * 4; }

// The largest tile (a power of two up to 256) whose two buffers fit the budget.
__host__ __device__ inline int attention_tile(int hd) {
  int tile = kChunk;
  while (tile > 1 && size_t(2) * tile * (hd + 1) * sizeof(float) > kAttentionTileBudget) tile /= 2;
  return tile;
}

inline AttentionTiling attention_tiling(int hd) {
  AttentionTiling t;
  t.tile = attention_tile(hd);
  t.shared_bytes = (size_t(attention_q_floats(hd)) + size_t(2 * attention_tile_floats(t.tile, hd))) * sizeof(float);
  return t;
}

namespace attention_detail {

// red: kAttentionThreads / 32 + 1 floats of shared memory.
template <class Sync>
__device__ __forceinline__ float block_max(float m, float* red) {
#pragma unroll
  for (int o = 16; o > 0; o /= 2) m = fmaxf(m, __shfl_xor_sync(0xffffffffu, m, o));
  if (threadIdx.x % 32 == 0) red[threadIdx.x / 32] = m;
  Sync::sync();
  // every thread folds the warps' maxima itself, in the same order (one
  // barrier and one shared round trip fewer than thread 0 folding them)
  float r = red[0];
  for (int w = 1; w < kAttentionThreads / 32; ++w) r = fmaxf(r, red[w]);
  return r;
}

// Copies rows [jb, jb + n) of this head's hd columns of a cache into shared
// memory rows of `stride` floats, asynchronously (16-byte copies when
// everything is aligned, else 4-byte).
__device__ __forceinline__ void copy_rows(float* dst, int stride, const float* src, int64_t kv_dim, int64_t jb, int n,
                                          int hd) {
  if (stride % 4 == 0 && hd % 4 == 0 && kv_dim % 4 == 0) {
    const int q = hd / 4;
    for (int i = threadIdx.x; i < n * q; i += kAttentionThreads) {
      const int jj = i / q, d4 = i % q;
      __pipeline_memcpy_async(dst + jj * stride + 4 * d4, src + (jb + jj) * kv_dim + 4 * d4, 16);
    }
  } else {
    for (int i = threadIdx.x; i < n * hd; i += kAttentionThreads) {
      const int jj = i / hd, d = i % hd;
      __pipeline_memcpy_async(dst + jj * stride + d, src + (jb + jj) * kv_dim + d, 4);
    }
  }
}

// One tile of k rows (padded to hd + 1 floats: thread jj reads row jj, and
// the odd stride keeps the 32 lanes in 32 different banks).
__device__ __forceinline__ void issue_k_tile(float* kt, const float* kb, int64_t kv_dim, int64_t jb, int n, int hd) {
  copy_rows(kt, hd + 1, kb, kv_dim, jb, n, hd);
  __pipeline_commit();
}

// One tile of v rows and of the weights e.
__device__ __forceinline__ void issue_v_tile(float* vt, float* et, const float* vb, int64_t kv_dim, const float* e,
                                             int64_t jb, int n, int hd) {
  copy_rows(vt, hd, vb, kv_dim, jb, n, hd);
  for (int i = threadIdx.x; i < n; i += kAttentionThreads) __pipeline_memcpy_async(et + i, e + jb + i, 4);
  __pipeline_commit();
}

// s_j = D(q, k_j, hd) * scale from a shared-memory row.
__device__ __forceinline__ float score(const float* qs, const float* kj, int hd, float scale) {
  float dot = 0.0f;
  for (int c0 = 0; c0 < hd; c0 += kChunk) {
    const int c1 = c0 + kChunk < hd ? c0 + kChunk : hd;
    float acc = 0.0f;
#pragma unroll 8
    for (int d = c0; d < c1; ++d) acc = __fmaf_rn(qs[d], kj[d], acc);
    dot = c0 == 0 ? acc : __fadd_rn(dot, acc);
  }
  return __fmul_rn(dot, scale);
}

}  // namespace attention_detail

// Where one row's result goes: out[d] (and its 16-bit copy low[d] when set).
struct AttentionRowOut {
  float* out = nullptr;
  void* low = nullptr;
  LowPrecision kind = LowPrecision::None;
  int64_t low_index = 0;  // index of out[0] in the 16-bit buffer
};

// The row whose query (already rotated) is qs[0..hd) in shared memory, over
// cache positions 0..npos-1 (kb, vb: the head's first column in [positions]
// [kv_dim] caches). buf: 2 * attention_tile_floats(tile, hd) floats of
// shared memory; red: kAttentionThreads / 32 + 1; s: npos floats of global
// scratch. All kAttentionThreads threads (Sync's) call it; qs must be
// visible (after a barrier) before.
template <class Sync = BlockSync>
__device__ __forceinline__ void attend_row(const float* qs, float* buf, float* red, const float* kb, const float* vb,
                                           int64_t kv_dim, int64_t npos, int hd, int tile, float* s,
                                           const AttentionRowOut& o) {
  using namespace attention_detail;
  const int64_t buf_floats = attention_tile_floats(tile, hd);

  // scores and their maximum, tile by tile; then e_j = exp(s_j - m) in place
  const float scale = __fdiv_rn(1.0f, __fsqrt_rn(float(hd)));
  float m = __int_as_float(0xff800000);  // -inf
  const int64_t tiles = (npos + tile - 1) / tile;
  issue_k_tile(buf, kb, kv_dim, 0, int(npos < tile ? npos : tile), hd);
  for (int64_t i = 0; i < tiles; ++i) {
    const int64_t jb = i * tile;
    if (i + 1 < tiles) {
      const int64_t jn = jb + tile;
      issue_k_tile(buf + ((i + 1) & 1) * buf_floats, kb, kv_dim, jn, int(npos - jn < tile ? npos - jn : tile), hd);
      __pipeline_wait_prior(1);
    } else {
      __pipeline_wait_prior(0);
    }
    Sync::sync();
    const float* kt = buf + (i & 1) * buf_floats;
    const int n = int(npos - jb < tile ? npos - jb : tile);
    for (int jj = threadIdx.x; jj < n; jj += kAttentionThreads) {
      const float sj = score(qs, kt + jj * (hd + 1), hd, scale);
      s[jb + jj] = sj;
      m = fmaxf(m, sj);
    }
    Sync::sync();  // the buffer just read is the next one filled
  }
  m = block_max<Sync>(m, red);
  // e_j in place, 8 positions per thread at a time: all of a batch's loads go
  // out before its stores (one round trip per batch, not per position)
  for (int64_t j0 = threadIdx.x; j0 < npos; j0 += 8 * kAttentionThreads) {
    float v[8];
#pragma unroll
    for (int b = 0; b < 8; ++b)
      if (j0 + b * kAttentionThreads < npos) v[b] = s[j0 + b * kAttentionThreads];
#pragma unroll
    for (int b = 0; b < 8; ++b)
      if (j0 + b * kAttentionThreads < npos) s[j0 + b * kAttentionThreads] = kernels::contract_expf(__fsub_rn(v[b], m));
  }
  Sync::sync();

  // o[d] and S: chains over each chunk's positions, tile by tile
  const int d0 = threadIdx.x, d1 = threadIdx.x + kAttentionThreads;
  const int s_thread = hd < kAttentionThreads ? hd : kAttentionThreads - 1;  // runs the chain of S
  float o0 = 0.0f, o1 = 0.0f, total = 0.0f;                                   // sums of the chunks so far
  float acc0 = 0.0f, acc1 = 0.0f, acc_s = 0.0f;                               // the current chunk's chains
  issue_v_tile(buf, buf + int64_t(tile) * hd, vb, kv_dim, s, 0, int(npos < tile ? npos : tile), hd);
  for (int64_t i = 0; i < tiles; ++i) {
    const int64_t jb = i * tile;
    if (i + 1 < tiles) {
      const int64_t jn = jb + tile;
      const int n_next = int(npos - jn < tile ? npos - jn : tile);
      float* next = buf + ((i + 1) & 1) * buf_floats;
      issue_v_tile(next, next + int64_t(tile) * hd, vb, kv_dim, s, jn, n_next, hd);
      __pipeline_wait_prior(1);
    } else {
      __pipeline_wait_prior(0);
    }
    Sync::sync();
    if (jb > 0 && jb % kChunk == 0) {  // a new chunk starts: fold the last one's partials in
      o0 = jb == kChunk ? acc0 : __fadd_rn(o0, acc0);
      o1 = jb == kChunk ? acc1 : __fadd_rn(o1, acc1);
      total = jb == kChunk ? acc_s : __fadd_rn(total, acc_s);
      acc0 = acc1 = acc_s = 0.0f;
    }
    const float* v = buf + (i & 1) * buf_floats;
    const float* e = v + int64_t(tile) * hd;
    const int n = int(npos - jb < tile ? npos - jb : tile);
    if (d0 < hd) {
#pragma unroll 8
      for (int jj = 0; jj < n; ++jj) acc0 = __fmaf_rn(e[jj], v[jj * hd + d0], acc0);
    }
    if (d1 < hd) {
#pragma unroll 8
      for (int jj = 0; jj < n; ++jj) acc1 = __fmaf_rn(e[jj], v[jj * hd + d1], acc1);
    }
    if (threadIdx.x == s_thread) {
#pragma unroll 8
      for (int jj = 0; jj < n; ++jj) acc_s = __fadd_rn(acc_s, e[jj]);
    }
    Sync::sync();  // the buffer just read is the next one filled
  }
  const bool one_chunk = npos <= kChunk;
  o0 = one_chunk ? acc0 : __fadd_rn(o0, acc0);
  o1 = one_chunk ? acc1 : __fadd_rn(o1, acc1);
  total = one_chunk ? acc_s : __fadd_rn(total, acc_s);
  if (threadIdx.x == s_thread) red[0] = total;
  Sync::sync();
  total = red[0];
  if (d0 < hd) {
    const float v = __fdiv_rn(o0, total);
    o.out[d0] = v;
    if (o.low != nullptr) store_low(o.low, o.kind, o.low_index + d0, v);
  }
  if (d1 < hd) {
    const float v = __fdiv_rn(o1, total);
    o.out[d1] = v;
    if (o.low != nullptr) store_low(o.low, o.kind, o.low_index + d1, v);
  }
}

}  // namespace ree::cuda
