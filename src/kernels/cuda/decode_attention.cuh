#pragma once
// The attention of the fused decode step (decode_ops.h) in two phases, so
// that many blocks share it (one block per head reads a whole head's K and V
// and runs every chain itself: 19 us per layer on an H100):
//
//   AttnScore  a block per (kv head, tile of 32 positions): RoPE of the q of
//              the kv head's query heads (rope.cu's operations), k and v of
//              the new position into the cache (by the tile holding it),
//              s_j = D(q, k_j, hd) * scale for the tile, and each head's
//              maximum over the tile.
//   AttnValue  a block per (head, chunk of 256 positions, 32 dims):
//              m = max over the head's tile maxima; e_j = exp(s_j - m); the
//              chunk's chains o_c[d] = fma(e_j, v_j[d], .) for its dims and,
//              for the first dims' block, S_c = S_c + e_j, j ascending.
//
// The Out phase's prologue then forms out[d] = (o_0 + o_1 + ...) / (S_0 +
// S_1 + ...) (decode_product.cuh). These are attention_row.cuh's operations
// in its order: the same scores, the same m (a maximum is order-free for
// fmaxf; see attention_row.cuh on NaN and signed zeros), the same chains per
// chunk, chunks added left to right.
#include "kernels/cuda/attention_row.cuh"
#include "kernels/cuda/decode_ops.h"
#include "kernels/cuda/device_common.cuh"

namespace ree::cuda {

// Shared floats the two phases need.
__host__ __device__ inline int64_t attention_score_floats(int group, int hd) {
  return (int64_t(group) * hd + 3) / 4 * 4 + int64_t(kAttentionTile) * (hd + 1);
}
__host__ __device__ inline int64_t attention_value_floats() { return int64_t(kChunk) * kAttentionDims + kChunk; }

namespace attention_detail {

__device__ __forceinline__ float warp_max(float m) {
#pragma unroll
  for (int o = 16; o > 0; o /= 2) m = fmaxf(m, __shfl_xor_sync(0xffffffffu, m, o));
  return m;
}

// x0' = x0*c - x1*s, x1' = x0*s + x1*c (each product rounded, no fma).
__device__ __forceinline__ float rope_first(float x0, float x1, float c, float s) {
  return __fsub_rn(__fmul_rn(x0, c), __fmul_rn(x1, s));
}
__device__ __forceinline__ float rope_second(float x0, float x1, float c, float s) {
  return __fadd_rn(__fmul_rn(x0, s), __fmul_rn(x1, c));
}

}  // namespace attention_detail

// AttnScore for one layer (all threads of the block; items dealt over blocks).
__device__ __forceinline__ void attention_scores(const DecodeArgs& a, const DecodeLayer& L, float* smem) {
  using namespace attention_detail;
  const int hd = a.head_dim, half = hd / 2, G = a.n_heads / a.n_kv_heads;
  const int64_t q_dim = int64_t(a.n_heads) * hd, kv_dim = int64_t(a.n_kv_heads) * hd;
  const int64_t pos = *a.pos, npos = pos + 1;
  const int64_t tiles = (npos + kAttentionTile - 1) / kAttentionTile;
  const float* cosv = a.rope_cos + pos * half;
  const float* sinv = a.rope_sin + pos * half;
  const float scale = __fdiv_rn(1.0f, __fsqrt_rn(float(hd)));
  float* qs = smem;                               // [G][hd]
  float* kt = smem + (int64_t(G) * hd + 3) / 4 * 4;  // [kAttentionTile][hd + 1]
  const int warp = int(threadIdx.x / 32), lane = int(threadIdx.x % 32);
  for (int64_t item = blockIdx.x; item < int64_t(a.n_kv_heads) * tiles; item += gridDim.x) {
    const int kvh = int(item / tiles);
    const int64_t t = item % tiles, j0 = t * kAttentionTile;
    const int n = int(npos - j0 < kAttentionTile ? npos - j0 : kAttentionTile);
    const float* kc = L.k_cache + int64_t(kvh) * hd;
    for (int i = int(threadIdx.x); i < G * half; i += kDecodeThreads) {
      const int gi = i / half, jj = i % half;
      const float* q = a.qkv + int64_t(kvh * G + gi) * hd;
      const float q0 = __ldcg(q + jj), q1 = __ldcg(q + jj + half);
      qs[gi * hd + jj] = rope_first(q0, q1, cosv[jj], sinv[jj]);
      qs[gi * hd + jj + half] = rope_second(q0, q1, cosv[jj], sinv[jj]);
    }
    for (int i = int(threadIdx.x); i < n * hd; i += kDecodeThreads) {
      const int jj = i / hd, d = i % hd;
      if (j0 + jj != pos) kt[jj * (hd + 1) + d] = __ldcg(kc + (j0 + jj) * kv_dim + d);
    }
    if (pos < j0 + n) {  // this tile holds the new position: its k and v go into the cache
      const float* k = a.qkv + q_dim + int64_t(kvh) * hd;
      const float* v = k + kv_dim;
      float* k_row = L.k_cache + pos * kv_dim + int64_t(kvh) * hd;
      float* v_row = L.v_cache + pos * kv_dim + int64_t(kvh) * hd;
      float* kp = kt + (pos - j0) * (hd + 1);
      for (int jj = int(threadIdx.x); jj < half; jj += kDecodeThreads) {
        const float k0 = __ldcg(k + jj), k1 = __ldcg(k + jj + half);
        const float n0 = rope_first(k0, k1, cosv[jj], sinv[jj]), n1 = rope_second(k0, k1, cosv[jj], sinv[jj]);
        kp[jj] = n0;
        kp[jj + half] = n1;
        k_row[jj] = n0;
        k_row[jj + half] = n1;
      }
      for (int d = int(threadIdx.x); d < hd; d += kDecodeThreads) v_row[d] = __ldcg(v + d);
    }
    __syncthreads();
    for (int gi = warp; gi < G; gi += kDecodeThreads / 32) {
      const int h = kvh * G + gi;
      float s = __int_as_float(0xff800000);  // -inf: no position
      if (lane < n) {
        s = attention_detail::score(qs + gi * hd, kt + lane * (hd + 1), hd, scale);
        a.scores[int64_t(h) * a.context + j0 + lane] = s;
      }
      const float m = warp_max(s);
      if (lane == 0) a.tile_max[int64_t(h) * a.tile_stride + t] = m;
    }
    __syncthreads();  // qs and kt are refilled by the next item
  }
}

// AttnValue for one layer (all threads of the block; items dealt over blocks).
// small: >= 1 float of shared memory.
__device__ __forceinline__ void attention_values(const DecodeArgs& a, const DecodeLayer& L, float* smem, float* small) {
  using namespace attention_detail;
  const int hd = a.head_dim, G = a.n_heads / a.n_kv_heads;
  const int64_t kv_dim = int64_t(a.n_kv_heads) * hd;
  const int64_t pos = *a.pos, npos = pos + 1;
  const int64_t tiles = (npos + kAttentionTile - 1) / kAttentionTile;
  const int64_t chunks = (npos + kChunk - 1) / kChunk;
  const int parts = (hd + kAttentionDims - 1) / kAttentionDims;
  float* vs = smem;                                      // [kChunk][kAttentionDims]
  float* es = smem + int64_t(kChunk) * kAttentionDims;  // [kChunk]
  const int warp = int(threadIdx.x / 32), lane = int(threadIdx.x % 32);
  for (int64_t item = blockIdx.x; item < int64_t(a.n_heads) * chunks * parts; item += gridDim.x) {
    const int h = int(item / (chunks * parts));
    const int64_t c = (item / parts) % chunks, j0 = c * kChunk;
    const int p = int(item % parts), d0 = p * kAttentionDims;
    const int n = int(npos - j0 < kChunk ? npos - j0 : kChunk);
    const int dn = hd - d0 < kAttentionDims ? hd - d0 : kAttentionDims;
    const float* vc = L.v_cache + int64_t(h / G) * hd + d0;
    for (int i = int(threadIdx.x); i < n * dn; i += kDecodeThreads) {
      const int jj = i / dn, d = i % dn;
      vs[jj * kAttentionDims + d] = __ldcg(vc + (j0 + jj) * kv_dim + d);
    }
    if (warp == 0) {
      float m = __int_as_float(0xff800000);
      for (int64_t t = lane; t < tiles; t += 32) m = fmaxf(m, __ldcg(a.tile_max + int64_t(h) * a.tile_stride + t));
      m = warp_max(m);
      if (lane == 0) small[0] = m;
    }
    __syncthreads();
    const float m = small[0];
    const float* s = a.scores + int64_t(h) * a.context + j0;
    for (int jj = int(threadIdx.x); jj < n; jj += kDecodeThreads) es[jj] = kernels::contract_expf(__fsub_rn(__ldcg(s + jj), m));
    __syncthreads();
    if (int(threadIdx.x) < dn) {
      float acc = 0.0f;
#pragma unroll 8
      for (int jj = 0; jj < n; ++jj) acc = __fmaf_rn(es[jj], vs[jj * kAttentionDims + threadIdx.x], acc);
      a.chunk_out[(int64_t(h) * a.chunk_stride + c) * hd + d0 + threadIdx.x] = acc;
    }
    if (p == 0 && threadIdx.x == kDecodeThreads - 1) {
      float acc = 0.0f;
#pragma unroll 8
      for (int jj = 0; jj < n; ++jj) acc = __fadd_rn(acc, es[jj]);
      a.chunk_sum[int64_t(h) * a.chunk_stride + c] = acc;
    }
    __syncthreads();  // vs, es and small are refilled by the next item
  }
}

}  // namespace ree::cuda
