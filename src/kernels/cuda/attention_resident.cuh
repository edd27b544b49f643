#pragma once
// One decode row of repro-v1 attention with the arithmetic of attend_row
// (attention_row.cuh) in the same order, arranged for the streamed decode
// step (stream_step.cu). There, a weight stream saturates the memory system
// and every round trip to L2 costs 1-2 µs, so what matters is how many round
// trips lie on the row's path, not how many bytes it reads:
//   - each thread loads its position's whole key row at once (one round trip
//     for up to kAttentionThreads positions, where attend_row waits for one
//     tile after another);
//   - the scores and weights e_j stay in shared memory;
//   - the value rows arrive in batches as large as the shared memory allows,
//     the first one in flight while the scores are computed;
//   - the 256-chunks' o and S chains run side by side on groups of threads.
// Usable when resident_attention_fits(); otherwise the caller runs attend_row.
//
// The operations: s_j = D(q, k_j, hd) * scale (hd <= 256: one chunk, so D is
// the single chain acc = fma(q[d], k_j[d], acc), d ascending); m = max_j s_j;
// e_j = exp(s_j - m); S and o[d] chunked over 256 absolute positions, each
// chunk's chain in position order, chunks added left to right; out[d] = o[d] / S.
#include <cuda_pipeline.h>

#include <cstdint>

#include "kernels/cuda/attention_row.cuh"

namespace ree::cuda {

inline constexpr int kResidentMaxHeadDim = 64;  // a key row in 16 float4 registers

// Shared memory of a resident row: q, the scores (score_cap), the value batch
// (vrows x hd) and the chunks' partials (chunk_parts_floats(score_cap, hd)).
__host__ __device__ inline bool resident_attention_fits(int hd, int64_t npos, int score_cap, int vrows) {
  return hd % 4 == 0 && hd <= kResidentMaxHeadDim && npos <= score_cap && vrows >= 1;
}

// Key row j of a head (hd <= kResidentMaxHeadDim floats, 16-byte aligned) in
// registers. Key rows are read with plain (L1-allocating) loads: a thread's
// 16 float4 of one row share its cache lines, and the decode step measured
// 1.1-1.6% faster than with __ldcg (L2 only), its graph 2.5% shorter
// (session 14). Rows written by the kernel before are read only after the
// wait for it (complete_resident_rows), as `combine` reads partials:
// griddepcontrol.wait makes the earlier grids' writes visible to the
// current grid (PTX ISA), whatever an SM's L1 held before it. In the
// streamed step a block reads only rows of earlier launches and the row it
// wrote itself, behind a block barrier.
__device__ __forceinline__ float4 load_key_float4(const float4* p) { return *p; }
struct KeyRow {
  float4 k[kResidentMaxHeadDim / 4];
};
__device__ __forceinline__ void load_key_row(KeyRow& row, const float* kj, int hd) {
  const float4* k4 = reinterpret_cast<const float4*>(kj);
#pragma unroll
  for (int i = 0; i < kResidentMaxHeadDim / 4; ++i)
    if (4 * i < hd) row.k[i] = load_key_float4(k4 + i);
}

// What a caller loaded already: thread i's key rows i and
// i + kAttentionThreads (those below key_rows) and value rows [0, value_rows)
// of the first batch, copied into vbuf (cp.async, committed). Built by
// preload_resident_row before the wait for the kernel's inputs, from rows
// that earlier passes wrote; complete_resident_rows adds this pass's key rows
// right after the wait.
struct Preloaded {
  static constexpr int kKeyPasses = 2;
  KeyRow key[kKeyPasses];
  int64_t key_rows = 0;
  int64_t value_rows = 0;
};

// This thread's key rows of the two passes among [from, to) (to at most
// the passes' 2 * kAttentionThreads rows) into pre.key, all requested at once.
__device__ __forceinline__ void load_key_passes(Preloaded& pre, const float* kb, int64_t kv_dim, int64_t from,
                                                int64_t to, int hd) {
  const int64_t j = threadIdx.x;
  if (j >= from && j < to) load_key_row(pre.key[0], kb + j * kv_dim, hd);
  if (j + kAttentionThreads >= from && j + kAttentionThreads < to)
    load_key_row(pre.key[1], kb + (j + kAttentionThreads) * kv_dim, hd);
}

// Loads what Preloaded describes for the first `rows` positions (rows < the
// pass's first position) of a head whose scores the resident row computes.
__device__ __forceinline__ void preload_resident_row(Preloaded& pre, const float* kb, const float* vb, float* vbuf,
                                                     int vrows, int64_t kv_dim, int64_t rows, int hd) {
  const int64_t cap = int64_t(Preloaded::kKeyPasses) * kAttentionThreads;
  pre.key_rows = rows < cap ? rows : cap;
  load_key_passes(pre, kb, kv_dim, 0, pre.key_rows, hd);
  pre.value_rows = rows < vrows ? rows : vrows;
  attention_detail::copy_rows(vbuf, hd, vb, kv_dim, 0, int(pre.value_rows), hd);
  __pipeline_commit();
}

// Right after the wait: the key rows of the two passes that nobody had
// written before it (this pass's rows, below npos), into the same registers,
// all requested at once and before the query. Without this the row's newest
// key came after the query's round trip, in two halves, at 1.5-2 us each
// while the next products load their weights (timeline-decode-step.patch).
__device__ __forceinline__ void complete_resident_rows(Preloaded& pre, const float* kb, int64_t kv_dim, int64_t npos,
                                                       int hd) {
  const int64_t cap = int64_t(Preloaded::kKeyPasses) * kAttentionThreads;
  const int64_t rows = npos < cap ? npos : cap;
  load_key_passes(pre, kb, kv_dim, pre.key_rows, rows, hd);
  pre.key_rows = rows;
}

// acc = fma(q[d], k[d], acc) over the columns d = 4 i0 .. 4 (i0 + N) - 1
// (below hd) held by k, d ascending: a stretch of a score's chain.
template <int N>
__device__ __forceinline__ float chain_key_columns(float acc, const float* qs, int i0, const float4 (&k)[N], int hd) {
#pragma unroll
  for (int i = 0; i < N; ++i) {
    if (4 * (i0 + i) >= hd) break;
    acc = __fmaf_rn(qs[4 * (i0 + i) + 0], k[i].x, acc);
    acc = __fmaf_rn(qs[4 * (i0 + i) + 1], k[i].y, acc);
    acc = __fmaf_rn(qs[4 * (i0 + i) + 2], k[i].z, acc);
    acc = __fmaf_rn(qs[4 * (i0 + i) + 3], k[i].w, acc);
  }
  return acc;
}

// Two scores' chains at once, acc0 over key row k0 and acc1 over k1, each
// acc = fma(q[d], k[d], acc) with d ascending (chain_key_columns' operations
// for each): the two chains hide each other's fma latency, and each float4
// of q is read from shared memory once for both (qs 16-byte aligned).
template <int N>
__device__ __forceinline__ void chain_two_key_rows(float& acc0, float& acc1, const float* qs, const float4 (&k0)[N],
                                                   const float4 (&k1)[N], int hd) {
  const float4* q4 = reinterpret_cast<const float4*>(qs);
#pragma unroll
  for (int i = 0; i < N; ++i) {
    if (4 * i >= hd) break;
    const float4 q = q4[i];
    acc0 = __fmaf_rn(q.x, k0[i].x, acc0);
    acc1 = __fmaf_rn(q.x, k1[i].x, acc1);
    acc0 = __fmaf_rn(q.y, k0[i].y, acc0);
    acc1 = __fmaf_rn(q.y, k1[i].y, acc1);
    acc0 = __fmaf_rn(q.z, k0[i].z, acc0);
    acc1 = __fmaf_rn(q.z, k1[i].z, acc1);
    acc0 = __fmaf_rn(q.w, k0[i].w, acc0);
    acc1 = __fmaf_rn(q.w, k1[i].w, acc1);
  }
}

// One stretch of a chunk's chain over n positions, k ascending: o[d]'s,
// acc = fma(e[k], v[k * hd], acc), or (kSum) S's, acc = acc + e[k]. e and v
// are in shared memory. The chain's only dependency is acc, so its loads
// go out a batch ahead: e four positions a load (after up to three single
// ones to reach a 16-byte boundary) and v one a position, batch b + 1
// requested before batch b's fmas, in two register sets. With hd known at
// compile time (kHd) v's addresses are constant offsets. Loading each
// batch right before its fmas (eight positions, unrolled twice) left
// 1.9 us between the value batch and the end of chunk 0's chain in session
// 11's timeline (timeline-decode-step.patch), several times the fmas' own
// latency. kAhead = false keeps that older form, eight positions loaded
// right before their fmas, for a caller whose registers are scarce: the
// streamed decode step (stream_step.cu, 168 registers a thread) spilled
// three times as much with the two register sets.
namespace chain_detail {
inline constexpr int kBatch = 16;  // positions a register set holds
struct Batch {
  float4 e[kBatch / 4];
  float v[kBatch];
};
template <bool kSum, int kHd>
__device__ __forceinline__ void load_batch(Batch& b, const float* e, const float* v, int k, int stride) {
#pragma unroll
  for (int i = 0; i < kBatch / 4; ++i) b.e[i] = *reinterpret_cast<const float4*>(e + k + 4 * i);
  if constexpr (!kSum) {
    const float* vk = v + int64_t(k) * (kHd > 0 ? kHd : stride);
#pragma unroll
    for (int i = 0; i < kBatch; ++i) b.v[i] = vk[i * (kHd > 0 ? kHd : stride)];
  }
}
template <bool kSum>
__device__ __forceinline__ float chain_batch(float acc, const Batch& b) {
#pragma unroll
  for (int i = 0; i < kBatch / 4; ++i) {
    const float ek[4] = {b.e[i].x, b.e[i].y, b.e[i].z, b.e[i].w};
#pragma unroll
    for (int j = 0; j < 4; ++j) acc = kSum ? __fadd_rn(acc, ek[j]) : __fmaf_rn(ek[j], b.v[4 * i + j], acc);
  }
  return acc;
}
}  // namespace chain_detail

template <bool kSum, int kHd = 0, bool kAhead = true>
__device__ __forceinline__ float chain_positions(float acc, const float* e, const float* v, int n, int hd) {
  using namespace chain_detail;
  const int stride = kHd > 0 ? kHd : hd;
  auto step = [&](float acc, float ek, int k) { return kSum ? __fadd_rn(acc, ek) : __fmaf_rn(ek, v[k * stride], acc); };
  int k = 0;
  for (; k < n && (reinterpret_cast<uintptr_t>(e + k) & 15) != 0; ++k) acc = step(acc, e[k], k);
  if constexpr (kAhead) {
    // Invariant at the loop's top: when k + kBatch <= n, set a holds batch k.
    Batch a, b;
    if (k + kBatch <= n) load_batch<kSum, kHd>(a, e, v, k, stride);
    for (; k + 2 * kBatch <= n; k += 2 * kBatch) {
      load_batch<kSum, kHd>(b, e, v, k + kBatch, stride);
      acc = chain_batch<kSum>(acc, a);
      if (k + 3 * kBatch <= n) load_batch<kSum, kHd>(a, e, v, k + 2 * kBatch, stride);
      acc = chain_batch<kSum>(acc, b);
    }
    if (k + kBatch <= n) {
      acc = chain_batch<kSum>(acc, a);
      k += kBatch;
    }
  } else {
#pragma unroll 2
    for (; k + 8 <= n; k += 8) {
      const float4 e0 = *reinterpret_cast<const float4*>(e + k);
      const float4 e1 = *reinterpret_cast<const float4*>(e + k + 4);
      acc = step(acc, e0.x, k);
      acc = step(acc, e0.y, k + 1);
      acc = step(acc, e0.z, k + 2);
      acc = step(acc, e0.w, k + 3);
      acc = step(acc, e1.x, k + 4);
      acc = step(acc, e1.y, k + 5);
      acc = step(acc, e1.z, k + 6);
      acc = step(acc, e1.w, k + 7);
    }
  }
  for (; k < n; ++k) acc = step(acc, e[k], k);
  return acc;
}

// The shared memory chunk_sums_in_parallel needs for rows of up to npos
// positions: each chunk's o[0..hd) and S.
__host__ __device__ inline int64_t chunk_parts_floats(int64_t npos, int hd) {
  return (npos + kChunk - 1) / kChunk * (hd + 1);
}

// Every chunk's o[d] and S chains into parts[c * (hd + 1) + d] and
// parts[c * (hd + 1) + hd], with the operations of the one-thread-per-value
// loop, but chunks side by side: chunk c's o chains run on thread group
// c % kSumGroups (threads 64 g + d), its S chain on thread
// 64 kSumGroups + c % 64. A chunk that two value batches share goes on from
// its stored partial. One thread per value ran a 1,500-position row as one
// 1,500-long chain per value; here the longest is 512.
inline constexpr int kSumGroupThreads = 64;
inline constexpr int kSumGroups = kAttentionThreads / kSumGroupThreads - 1;
static_assert(kSumGroupThreads >= kResidentMaxHeadDim, "a group holds one thread per value of a head");
static_assert(kSumGroups >= 1, "at least one group for the o chains beside the S group");
template <class Sync, bool kAhead, class Issue>
__device__ __forceinline__ void chunk_sums_in_parallel(const float* scores, const float* vbuf, int vrows, int64_t npos,
                                                       int hd, float* parts, Issue& issue_values) {
  const int tid = int(threadIdx.x);
  const int g = tid / kSumGroupThreads, d = tid % kSumGroupThreads;
  const bool sums_s = g == kSumGroups;  // the last group runs the S chains
  const int lanes = sums_s ? kSumGroupThreads : kSumGroups, lane = sums_s ? d : g;
  for (int64_t p0 = 0; p0 < npos; p0 += vrows) {
    const int64_t p1 = p0 + vrows < npos ? p0 + vrows : npos;
    __pipeline_wait_prior(0);
    Sync::sync();  // the batch (and, the first time, every e_j) is visible
    if (sums_s || d < hd) {
      const int64_t c0 = p0 / kChunk;
      for (int64_t c = c0 + (lane - c0 % lanes + lanes) % lanes; c * kChunk < p1; c += lanes) {
        const int64_t a = c * kChunk > p0 ? c * kChunk : p0;
        const int64_t b = (c + 1) * kChunk < p1 ? (c + 1) * kChunk : p1;
        float* part = parts + c * (hd + 1) + (sums_s ? hd : d);
        const float acc = a == c * kChunk ? 0.0f : *part;
        const float* e = scores + a;
        const float* v = vbuf + (a - p0) * hd + d;
        *part = sums_s     ? chain_positions<true, 0, kAhead>(acc, e, v, int(b - a), hd)
                : hd == 64 ? chain_positions<false, 64, kAhead>(acc, e, v, int(b - a), hd)
                           : chain_positions<false, 0, kAhead>(acc, e, v, int(b - a), hd);
      }
    }
    Sync::sync();  // the batch has been read, and the parts written
    if (p1 < npos) issue_values(p1, 0);
  }
}

// r = part_0; r = r + part_c, c ascending: value i's chunks folded.
__device__ __forceinline__ float fold_chunk_parts(const float* parts, int64_t npos, int hd, int i) {
  float r = parts[i];
  for (int64_t c = 1; c * kChunk < npos; ++c) r = __fadd_rn(r, parts[c * (hd + 1) + i]);
  return r;
}

// qs: the rotated query (hd floats, shared, visible); scores: score_cap
// floats, vbuf: vrows * hd floats (shared, 16-byte aligned); red:
// kAttentionThreads / 32 + 1 floats. kb, vb: the head's first column in the
// [positions][kv_dim] caches (16-byte aligned rows). All kAttentionThreads
// threads (Sync's) call it. parts: chunk_parts_floats(npos, hd) floats of
// shared memory for the chunks' sums (chunk_sums_in_parallel). pre: when not
// null, the key and value rows the caller loaded already (Preloaded, with
// the same vbuf and vrows). kChainsAhead: chain_positions' kAhead.
template <class Sync, bool kChainsAhead = true>
__device__ __forceinline__ void attend_row_resident(const float* qs, float* scores, float* vbuf, int vrows, float* red,
                                                    float* parts, const float* kb, const float* vb, int64_t kv_dim,
                                                    int64_t npos, int hd, const AttentionRowOut& out,
                                                    const Preloaded* pre = nullptr) {
  using namespace attention_detail;
  const int tid = int(threadIdx.x);
  auto issue_values = [&](int64_t p0, int64_t issued) {  // rows [p0, p0 + issued) are on their way already
    const int n = int(npos - p0 < vrows ? npos - p0 : vrows);
    if (issued < n) copy_rows(vbuf + issued * hd, hd, vb, kv_dim, p0 + issued, int(n - issued), hd);
    __pipeline_commit();
  };
  issue_values(0, pre != nullptr ? pre->value_rows : 0);

  // scores: one key row per thread, loaded whole before its chain starts
  const float scale = __fdiv_rn(1.0f, __fsqrt_rn(float(hd)));
  float m = __int_as_float(0xff800000);  // -inf
  auto keep_score = [&](int64_t j, float acc) {
    const float sj = __fmul_rn(acc, scale);
    scores[j] = sj;
    m = fmaxf(m, sj);
  };
  int64_t j = tid;
  // The same chains over the preloaded rows; the two passes are written out
  // because a register array keeps to registers only under constant indices.
  if (pre != nullptr && j < npos && j < pre->key_rows) {
    const int64_t j1 = j + kAttentionThreads;
    if (j1 < npos && j1 < pre->key_rows) {  // both passes: their chains side by side
      float acc0 = 0.0f, acc1 = 0.0f;
      chain_two_key_rows(acc0, acc1, qs, pre->key[0].k, pre->key[1].k, hd);
      keep_score(j, acc0);
      keep_score(j1, acc1);
      j = j1 + kAttentionThreads;
    } else {
      keep_score(j, chain_key_columns(0.0f, qs, 0, pre->key[0].k, hd));
      j = j1;
    }
  }
  for (; j < npos; j += kAttentionThreads) {
    // the row in halves of 8 float4 (more registers made ptxas spill)
    const float4* k4 = reinterpret_cast<const float4*>(kb + j * kv_dim);
    float acc = 0.0f;
#pragma unroll
    for (int h0 = 0; h0 < kResidentMaxHeadDim / 4; h0 += 8) {
      if (4 * h0 >= hd) break;
      float4 k[8];
#pragma unroll
      for (int i = 0; i < 8; ++i)
        if (4 * (h0 + i) < hd) k[i] = load_key_float4(k4 + h0 + i);
      acc = chain_key_columns(acc, qs, h0, k, hd);
    }
    keep_score(j, acc);
  }
  m = block_max<Sync>(m, red);
  // e_j in place, two positions a thread at a time (their exps side by side)
  for (int64_t j = tid; j < npos; j += 2 * kAttentionThreads) {
    const int64_t j1 = j + kAttentionThreads;
    const float s0 = scores[j], s1 = j1 < npos ? scores[j1] : 0.0f;
    scores[j] = kernels::contract_expf(__fsub_rn(s0, m));
    if (j1 < npos) scores[j1] = kernels::contract_expf(__fsub_rn(s1, m));
  }

  // o[d] and S: one chain per 256-chunk of positions, chunks folded left to right
  chunk_sums_in_parallel<Sync, kChainsAhead>(scores, vbuf, vrows, npos, hd, parts, issue_values);
  const int s_thread = hd < kAttentionThreads ? hd : kAttentionThreads - 1;
  const float o = tid < hd ? fold_chunk_parts(parts, npos, hd, tid) : 0.0f;
  const float total = tid == s_thread ? fold_chunk_parts(parts, npos, hd, hd) : 0.0f;
  if (tid == s_thread) red[0] = total;
  Sync::sync();
  if (tid < hd) {
    const float v = __fdiv_rn(o, red[0]);
    out.out[tid] = v;
    if (out.low != nullptr) store_low(out.low, out.kind, out.low_index + tid, v);
  }
}

}  // namespace ree::cuda
