// The streamed decode step (stream_ops.h): one persistent kernel, one block
// per SM; in each block a producer warp streams weight tiles into a ring of
// shared-memory slots (weight_ring.cuh) and 8 consumer warps run the phases.
// Products are the contract's chunk chains (one lane per row); their values
// are only ever formed by adding a row's chunk partials left to right.
#include <algorithm>
#include <cstdlib>
#include <string>

#include "kernels/cuda/attention_resident.cuh"
#include "kernels/cuda/attention_row.cuh"
#include "kernels/cuda/block_product.cuh"
#include "kernels/cuda/cuda_device.h"
#include "kernels/cuda/stream_ops.h"
#include "kernels/cuda/weight_ring.cuh"

namespace ree::cuda {
namespace {

using kernels::DType;
using ConsumerSync = NamedSync<kStreamConsumerWarps * 32>;
static_assert(kStreamConsumerWarps * 32 == kDecodeThreads, "the consumers run block_product.cuh's prologues");
static_assert(kStreamConsumerWarps * 32 == kAttentionThreads, "the consumers run attend_row");

// Bytes of one tile (a 32-row group times a 256-column chunk) in a slot:
// the units, then (Q8_0) the f16 scales; a slot is 128-byte aligned.
template <DType DT>
struct TileBytes {
  static constexpr int kUnitsPerChunk = kChunk / Unit<DT>::kElems;
  static constexpr unsigned kUnits = unsigned(kUnitsPerChunk) * kRowsPerGroup * kUnitBytes;
  static constexpr unsigned kScales = DT == DType::Q8_0 ? unsigned(kChunk / kQ8Block) * kRowsPerGroup * 2 : 0;
  static constexpr unsigned kSlot = (kUnits + kScales + 127) / 128 * 128;
};

size_t slot_bytes(DType dt) {
  switch (dt) {
    case DType::F32: return TileBytes<DType::F32>::kSlot;
    case DType::F16: return TileBytes<DType::F16>::kSlot;
    case DType::BF16: return TileBytes<DType::BF16>::kSlot;
    case DType::Q8_0: return TileBytes<DType::Q8_0>::kSlot;
  }
  return 0;
}

// Shared memory: the barriers, the ring, then x (or attention's buffers).
// full[slots], empty[slots], then `staged` (the consumers' own bulk copies).
__host__ __device__ inline size_t barrier_bytes(int slots) { return (size_t(2 * slots + 1) * 8 + 127) / 128 * 128; }
__host__ __device__ inline int64_t area_floats(const DecodeArgs& a, int tile) {
  const int64_t xs = decode_x_floats(decode_max_cols(a));
  const int64_t att = attention_q_floats(a.head_dim) + 2 * attention_tile_floats(tile, a.head_dim);
  return xs > att ? xs : att;
}
size_t stream_shared_bytes(const StreamArgs& a) {
  return barrier_bytes(a.slots) + size_t(a.slots) * slot_bytes(a.d.layer_dtype) + size_t(a.area_floats) * sizeof(float);
}

__host__ __device__ inline bool has_tiles(StreamPhase p) {
  return p != StreamPhase::Attention && p != StreamPhase::Residual;
}

__device__ __forceinline__ GpuMatrix matrix_of(const StreamArgs& a, StreamPhase p, int layer) {
  if (p == StreamPhase::LmHead) return a.d.lm_head;
  const DecodeLayer& L = a.d.layers[layer];
  switch (p) {
    case StreamPhase::Qkv: return L.qkv;
    case StreamPhase::Out: return L.wo;
    case StreamPhase::GateUp: return L.gate_up;
    default: return L.down;
  }
}

// A block's share of a phase's n tiles (c-major: tile i is chunk i / groups
// of group i % groups): a contiguous run, the sizes differing by at most one.
// The blocks that get one more rotate from phase to phase (`offset`), so that
// every block's stream stays as long as every other's over the step.
struct Share {
  int64_t first = 0, count = 0;
};
__device__ __forceinline__ Share share_of(int64_t n, unsigned& offset) {
  const unsigned grid = gridDim.x;
  const int64_t base = n / grid;
  const unsigned extra = unsigned(n % grid);
  const unsigned rank = (blockIdx.x + grid - offset) % grid;
  Share s;
  s.first = int64_t(rank) * base + (rank < extra ? rank : extra);
  s.count = base + (rank < extra ? 1 : 0);
  offset = (offset + extra) % grid;
  return s;
}

struct Ring {
  uint8_t* data = nullptr;
  uint64_t* full = nullptr;
  uint64_t* empty = nullptr;
  uint64_t* staged = nullptr;  // completes when a prologue's bulk copies have landed
  int slots = 0;
};

// ------------------------------------------------------------- producer ----

// Streams every tile of the step that this block will consume, in order.
template <DType DT>
__device__ void produce(const StreamArgs& a, const Ring& r) {
  using TB = TileBytes<DT>;
  // REE_CUDA_STREAM_L2=normal: the weights' reads without the evict-first hint (a measurement)
  const uint64_t policy = a.l2_normal ? ring::evict_normal_policy() : ring::evict_first_policy();
  unsigned offset = 0;
  int64_t t = 0;
  const int phases = kStreamPhasesPerLayer * a.d.n_layers + 1;
  for (int i = 0; i < phases; ++i) {
    const StreamPhase p = stream_phase_kind(i, a.d.n_layers);
    if (!has_tiles(p)) continue;
    const GpuMatrix m = matrix_of(a, p, i / kStreamPhasesPerLayer);
    const int64_t groups = m.layout.groups;
    const Share sh = share_of(groups * product_detail::chunk_count_of(m.layout.cols), offset);
    for (int64_t it = sh.first; it < sh.first + sh.count; ++it, ++t) {
      const int slot = int(t % r.slots);
      const int64_t use = t / r.slots;
      if (use > 0) ring::wait(r.empty + slot, unsigned(use - 1) & 1u);
      if (a.in_flight > 0 && t >= a.in_flight) {  // metered: tile t - in_flight has landed
        const int64_t back = t - a.in_flight;
        ring::wait(r.full + int(back % r.slots), unsigned(back / r.slots) & 1u);
      }
      const int c = int(it / groups);
      const int64_t g = it % groups;
      const int64_t unit0 = int64_t(c) * TB::kUnitsPerChunk;
      const int64_t left = m.layout.units_per_row - unit0;
      const unsigned units = unsigned(left < TB::kUnitsPerChunk ? left : TB::kUnitsPerChunk);
      const unsigned unit_bytes = units * kRowsPerGroup * kUnitBytes;
      const unsigned scale_bytes = DT == DType::Q8_0 ? (units / 2) * kRowsPerGroup * 2 : 0;
      uint8_t* dst = r.data + size_t(slot) * TB::kSlot;
      ring::expect_bytes(r.full + slot, unit_bytes + scale_bytes);
      ring::bulk_copy(dst, m.data + (g * m.layout.units_per_row + unit0) * kRowsPerGroup, unit_bytes, r.full + slot,
                      policy);
      if constexpr (DT == DType::Q8_0)
        ring::bulk_copy(dst + TB::kUnits, m.scales + (g * (m.layout.cols / kQ8Block) + int64_t(c) * 8) * kRowsPerGroup,
                        scale_bytes, r.full + slot, policy);
    }
  }
}

// ------------------------------------------------------------- consumers ---

// One unit of this lane's row: acc = fma(w[e], x[e], acc) over its V elements.
template <DType DT>
__device__ __forceinline__ void unit_chain(const uint8_t* slot, int i, int n, const float* xc, int lane, float& acc) {
  constexpr int V = Unit<DT>::kElems;
  const uint4 u = reinterpret_cast<const uint4*>(slot)[i * kRowsPerGroup + lane];
  float d = 0.0f;
  if constexpr (DT == DType::Q8_0)
    d = __half2float(__ushort_as_half(
        reinterpret_cast<const unsigned short*>(slot + TileBytes<DT>::kUnits)[(i / 2) * kRowsPerGroup + lane]));
  float w[V];
  Unit<DT>::unpack(u, d, w);
  if (n == V) {
    const float4* x4 = reinterpret_cast<const float4*>(xc + i * V);
#pragma unroll
    for (int q = 0; q < V / 4; ++q) {
      const float4 x = x4[q];
      acc = __fmaf_rn(w[4 * q + 0], x.x, acc);
      acc = __fmaf_rn(w[4 * q + 1], x.y, acc);
      acc = __fmaf_rn(w[4 * q + 2], x.z, acc);
      acc = __fmaf_rn(w[4 * q + 3], x.w, acc);
    }
  } else {
#pragma unroll
    for (int e = 0; e < V; ++e)
      if (e < n) acc = __fmaf_rn(w[e], xc[i * V + e], acc);
  }
}

// The chain of this lane's row over one chunk of `len` columns.
template <DType DT>
__device__ __forceinline__ float tile_chain(const uint8_t* slot, int len, const float* xc, int lane) {
  constexpr int V = Unit<DT>::kElems, kUnits = TileBytes<DT>::kUnitsPerChunk;
  float acc = 0.0f;
  if (len == kChunk) {
#pragma unroll 8
    for (int i = 0; i < kUnits; ++i) unit_chain<DT>(slot, i, V, xc, lane, acc);
  } else {
    const int units = (len + V - 1) / V;
    for (int i = 0; i < units; ++i) unit_chain<DT>(slot, i, len - i * V < V ? len - i * V : V, xc, lane, acc);
  }
  return acc;
}

// This warp's tiles of a phase: chunk partials parts[c][row]. A slot is
// always emptied by the same warp (slot % warps), which takes its uses in
// order. That is what makes a parity wait unambiguous: a warp that ran ahead
// of the producer to use u of a slot could otherwise find the slot's `full`
// barrier still in phase u - 1, whose parity equals that of use u - 2,
// already complete, and read a stale tile.
template <DType DT>
__device__ void consume_tiles(const GpuMatrix& m, const Share& sh, int64_t t0, const float* xs, float* parts,
                              const Ring& r) {
  const int warp = int(threadIdx.x / 32), lane = int(threadIdx.x % 32);
  const int64_t groups = m.layout.groups, rows = m.layout.rows, cols = m.layout.cols;
  for (int64_t k = 0; k < sh.count; ++k) {
    const int64_t t = t0 + k, it = sh.first + k;
    const int slot = int(t % r.slots);
    if (slot % kStreamConsumerWarps != warp) continue;
    ring::wait(r.full + slot, unsigned(t / r.slots) & 1u);
    const int c = int(it / groups);
    const int64_t g = it % groups;
    const int64_t left = cols - int64_t(c) * kChunk;
    const int len = int(left < kChunk ? left : kChunk);
    const float acc = tile_chain<DT>(r.data + size_t(slot) * TileBytes<DT>::kSlot, len, xs + int64_t(c) * kChunk, lane);
    __syncwarp();
    if (lane == 0) ring::arrive(r.empty + slot);
    const int64_t row = g * kRowsPerGroup + lane;
    if (row < rows) parts[int64_t(c) * rows + row] = acc;
  }
}

// Value n of a product from its partials [chunks][rows], written by other
// blocks in an earlier phase (so read through L2): r = p0; r = r + p1; ...
// E values at once, n0, n0 + step, ... (those below `limit`): all loads of R
// chunks of all E go out before the adds, so a round costs one L2 latency.
template <int E, int R>
__device__ __forceinline__ void combined(const float* parts, int chunks, int64_t rows, int64_t n0, int64_t step,
                                         int64_t limit, float (&r)[E]) {
  for (int c0 = 0; c0 < chunks; c0 += R) {
    float v[E][R];
#pragma unroll
    for (int e = 0; e < E; ++e)
#pragma unroll
      for (int j = 0; j < R; ++j)
        if (n0 + e * step < limit && c0 + j < chunks) v[e][j] = __ldcg(parts + int64_t(c0 + j) * rows + n0 + e * step);
#pragma unroll
    for (int e = 0; e < E; ++e)
#pragma unroll
      for (int j = 0; j < R; ++j)
        if (n0 + e * step < limit && c0 + j < chunks) r[e] = c0 + j == 0 ? v[e][j] : __fadd_rn(r[e], v[e][j]);
  }
}

__device__ __forceinline__ int64_t qkv_rows(const DecodeArgs& d) {
  return int64_t(d.n_heads + 2 * d.n_kv_heads) * d.head_dim;
}

// The heads of this block (block h % grid takes head h): q, k and v from the
// q|k|v partials, RoPE (rope.cu's operations), k and v into the cache at pos
// (the heads of a kv group write the same bits), then attend_row_resident
// (attention_resident.cuh) when the row fits its shared memory, else
// attend_row.
__device__ void attention_phase(const StreamArgs& a, int layer, float* area, float* red) {
  const DecodeArgs& d = a.d;
  const DecodeLayer& L = d.layers[layer];
  const int hd = d.head_dim, half = hd / 2;
  const int64_t q_dim = int64_t(d.n_heads) * hd, kv_dim = int64_t(d.n_kv_heads) * hd, rows = qkv_rows(d);
  const int chunks = product_detail::chunk_count_of(d.dim);
  const int64_t pos = *d.pos;
  const float* cosv = d.rope_cos + pos * half;
  const float* sinv = d.rope_sin + pos * half;
  float* qs = area;
  float* raw = area + attention_q_floats(hd);  // the head's q, k, v before RoPE; then the scores or tiles
  for (int h = int(blockIdx.x); h < d.n_heads; h += int(gridDim.x)) {
    const int kvh = h / (d.n_heads / d.n_kv_heads);
    const int64_t q0i = int64_t(h) * hd, k0i = q_dim + int64_t(kvh) * hd, v0i = q_dim + kv_dim + int64_t(kvh) * hd;
    float* k_row = L.k_cache + pos * kv_dim + int64_t(kvh) * hd;
    float* v_row = L.v_cache + pos * kv_dim + int64_t(kvh) * hd;
    // q, k and v from their partials, one value per thread at a time
    for (int i = int(threadIdx.x); i < 3 * hd; i += kDecodeThreads) {
      const int part = i / hd, e = i % hd;
      float v[1];
      combined<1, 8>(a.parts_qkv, chunks, rows, (part == 0 ? q0i : part == 1 ? k0i : v0i) + e, 0, rows, v);
      raw[i] = v[0];
    }
    ConsumerSync::sync();
    for (int j = int(threadIdx.x); j < half; j += kDecodeThreads) {
      const float c = cosv[j], s = sinv[j];
      const float2 qr = rope_rotate(raw[j], raw[j + half], c, s);
      const float2 kr = rope_rotate(raw[hd + j], raw[hd + j + half], c, s);
      qs[j] = qr.x;
      qs[j + half] = qr.y;
      k_row[j] = kr.x;
      k_row[j + half] = kr.y;
    }
    for (int e = int(threadIdx.x); e < hd; e += kDecodeThreads) v_row[e] = raw[2 * hd + e];
    ConsumerSync::sync();
    const float* kb = L.k_cache + int64_t(kvh) * hd;
    const float* vb = L.v_cache + int64_t(kvh) * hd;
    if (resident_attention_fits(hd, pos + 1, a.score_cap, a.value_rows)) {
      float* scores = raw;  // raw has been read
      // the chains without register sets ahead (chain_positions): this
      // kernel's 168 registers made them spill
      attend_row_resident<ConsumerSync, false>(qs, scores, scores + a.score_cap, a.value_rows, red,
                                               scores + a.score_cap + int64_t(a.value_rows) * hd, kb, vb, kv_dim,
                                               pos + 1, hd, AttentionRowOut{d.att + int64_t(h) * hd});
    } else {
      attend_row<ConsumerSync>(qs, raw, red, kb, vb, kv_dim, pos + 1, hd, a.attention_tile,
                               d.scores + int64_t(h) * d.context, AttentionRowOut{d.att + int64_t(h) * hd});
    }
    ConsumerSync::sync();  // qs, the tiles and red are reused by the next head
  }
}

// xs[k] = x2[k] = x[k] + o[k] (o from its partials) for the whole row: every
// block needs all of it for the norm; block 0 keeps it for the Residual phase.
// The same from shared memory: x and the o partials arrive by bulk copies,
// all in flight at once (one round trip instead of one per batch of loads).
// Data that other blocks wrote in an earlier phase (generic proxy, published
// by the grid barrier) is read here by the async proxy: the proxy fence
// orders the two. `uses`: how many times `staged` completed before.
__device__ void add_attention_output_staged(const StreamArgs& a, float* xs, float* stage, const Ring& r,
                                            unsigned uses) {
  const DecodeArgs& d = a.d;
  const int chunks = product_detail::chunk_count_of(int64_t(d.n_heads) * d.head_dim);
  const unsigned row_bytes = unsigned(d.dim) * sizeof(float);
  if (threadIdx.x == 0) {
    ring::fence_before_async_read();
    ring::expect_bytes(r.staged, row_bytes * unsigned(chunks + 1));
    const uint64_t policy = ring::evict_normal_policy();
    ring::bulk_copy(stage, d.x, row_bytes, r.staged, policy);
    for (int c = 0; c < chunks; ++c)
      ring::bulk_copy(stage + int64_t(c + 1) * d.dim, a.parts_o + int64_t(c) * d.dim, row_bytes, r.staged, policy);
  }
  ring::wait(r.staged, uses & 1u);
  for (int k = int(threadIdx.x); k < d.dim; k += kDecodeThreads) {
    float o = stage[d.dim + k];
    for (int c = 1; c < chunks; ++c) o = __fadd_rn(o, stage[int64_t(c + 1) * d.dim + k]);
    const float v = __fadd_rn(stage[k], o);
    xs[k] = v;
    if (blockIdx.x == 0) a.x2[k] = v;
  }
}

__device__ void add_attention_output(const StreamArgs& a, float* xs) {
  const DecodeArgs& d = a.d;
  const int chunks = product_detail::chunk_count_of(int64_t(d.n_heads) * d.head_dim);
  constexpr int E = 2;  // 4 or 8 made ptxas spill (sm_90: 288 threads get 168 registers)
  for (int k0 = int(threadIdx.x); k0 < d.dim; k0 += E * kDecodeThreads) {
    float x[E], o[E];
#pragma unroll
    for (int e = 0; e < E; ++e)
      if (k0 + e * kDecodeThreads < d.dim) x[e] = __ldcg(d.x + k0 + e * kDecodeThreads);
    combined<E, 8>(a.parts_o, chunks, d.dim, k0, kDecodeThreads, d.dim, o);
#pragma unroll
    for (int e = 0; e < E; ++e) {
      const int k = k0 + e * kDecodeThreads;
      if (k >= d.dim) continue;
      const float v = __fadd_rn(x[e], o[e]);
      xs[k] = v;
      if (blockIdx.x == 0) a.x2[k] = v;
    }
  }
}

// h = silu(gate) * up (swiglu.cu's operations) for the chunks of the down
// product's input that this block's tiles cover.
__device__ void swiglu_chunks(const StreamArgs& a, const GpuMatrix& down, const Share& sh, float* xs) {
  if (sh.count == 0) return;
  const DecodeArgs& d = a.d;
  const int chunks = product_detail::chunk_count_of(d.dim);
  const int64_t rows = 2 * int64_t(d.hidden);
  const int64_t c0 = sh.first / down.layout.groups, c1 = (sh.first + sh.count - 1) / down.layout.groups;
  const int64_t k1 = (c1 + 1) * kChunk < d.hidden ? (c1 + 1) * kChunk : d.hidden;
  for (int64_t k = c0 * kChunk + threadIdx.x; k < k1; k += kDecodeThreads) {
    float gu[2];  // gate k and up k
    combined<2, 8>(a.parts_gu, chunks, rows, k, d.hidden, rows, gu);
    xs[k] = __fmul_rn(kernels::contract_silu(gu[0]), gu[1]);
  }
}

// x = x2 + down (from its partials), a slice of rows per block.
__device__ void residual_phase(const StreamArgs& a) {
  const DecodeArgs& d = a.d;
  const int chunks = product_detail::chunk_count_of(d.hidden);
  const int64_t per = (d.dim + gridDim.x - 1) / gridDim.x;
  const int64_t r0 = int64_t(blockIdx.x) * per, r1 = r0 + per < d.dim ? r0 + per : d.dim;
  for (int64_t r = r0 + threadIdx.x; r < r1; r += kDecodeThreads) {
    const float x2 = __ldcg(a.x2 + r);
    float y[1];
    combined<1, 16>(a.parts_down, chunks, d.dim, r, 0, d.dim, y);
    d.x[r] = __fadd_rn(x2, y[0]);
  }
}

// Norm weights: static, so each thread loads its first kBatch of them
// before the phase waits for its inputs.
struct NormWeights {
  float v[product_detail::kBatch];
};
__device__ __forceinline__ NormWeights preload_norm(const float* w, int n) {
  NormWeights nw;
#pragma unroll
  for (int i = 0; i < product_detail::kBatch; ++i) {
    const int k = int(threadIdx.x) + i * kDecodeThreads;
    if (k < n) nw.v[i] = __ldg(w + k);
  }
  return nw;
}

// xs = RMSNorm(xs) (rmsnorm.cu's operations), the first weights preloaded.
__device__ __forceinline__ void norm_in_place(float* xs, int n, const float* w, const NormWeights& nw, float eps,
                                              float* small) {
  const float inv = product_detail::rms_inv<ConsumerSync>(xs, n, eps, small);
#pragma unroll
  for (int i = 0; i < product_detail::kBatch; ++i) {
    const int k = int(threadIdx.x) + i * kDecodeThreads;
    if (k < n) xs[k] = __fmul_rn(__fmul_rn(xs[k], inv), nw.v[i]);
  }
  constexpr int kDone = product_detail::kBatch * kDecodeThreads;
  if (n > kDone) product_detail::scale_by(xs + kDone, n - kDone, inv, w + kDone);
  ConsumerSync::sync();
}

// The prologue of a normed product: x (layer 0: the token's embedding row,
// which block 0 also writes to x) into xs, then its RMSNorm.
__device__ void norm_prologue(const StreamArgs& a, int layer, const float* w, const NormWeights& nw, float* xs,
                              float* small) {
  const DecodeArgs& d = a.d;
  ProductJob j;
  j.prologue = Prologue::Copy;
  if (layer == 0) {
    j.embedding = d.embedding;
    j.embedding_dtype = d.embedding_dtype;
    j.embedding_row_bytes = d.embedding_row_bytes;
    j.token = d.token;
    j.x_out = d.x;
  } else {
    j.src = d.x;
  }
  product_detail::prologue<ConsumerSync>(j, d.dim, xs, small);
  norm_in_place(xs, d.dim, w, nw, d.eps, small);
}

template <DType DT>
__device__ void consume(const StreamArgs& a, const Ring& r, float* area, float* small, float* red) {
  const DecodeArgs& d = a.d;
  unsigned offset = 0;  // share_of's rotation, as in produce()
  int64_t t = 0;        // the block's tiles so far, as in produce()
  unsigned staged_uses = 0;
  const int phases = kStreamPhasesPerLayer * d.n_layers + 1;
  PhaseSync sync;
  sync.counter = d.sync;
  sync.persistent = true;
  sync.times = d.phase_times;
  for (int i = 0; i < phases; ++i) {
    sync.target = unsigned(i) * gridDim.x;
    sync.phase = i + 1;
    const StreamPhase p = stream_phase_kind(i, d.n_layers);
    const int layer = i / kStreamPhasesPerLayer;
    const float* norm_w = p == StreamPhase::Qkv      ? d.layers[layer].attn_norm
                          : p == StreamPhase::GateUp ? d.layers[layer].ffn_norm
                          : p == StreamPhase::LmHead ? d.final_norm
                                                     : nullptr;
    NormWeights nw;
    if (norm_w != nullptr) nw = preload_norm(norm_w, d.dim);
    phase_wait<ConsumerSync>(sync);
    Share sh;
    GpuMatrix m;
    if (has_tiles(p)) {
      m = matrix_of(a, p, layer);
      sh = share_of(m.layout.groups * product_detail::chunk_count_of(m.layout.cols), offset);
    }
    float* parts = nullptr;
    switch (p) {
      case StreamPhase::Qkv:
        norm_prologue(a, layer, norm_w, nw, area, small);
        parts = a.parts_qkv;
        break;
      case StreamPhase::Attention: attention_phase(a, layer, area, red); break;
      case StreamPhase::Out:
        product_detail::copy_in(area, d.att, d.n_heads * d.head_dim);
        ConsumerSync::sync();
        parts = a.parts_o;
        break;
      case StreamPhase::GateUp:
        if (a.stage_o) {
          add_attention_output_staged(a, area, area + decode_x_floats(d.dim), r, staged_uses++);
        } else {
          add_attention_output(a, area);
        }
        ConsumerSync::sync();
        norm_in_place(area, d.dim, norm_w, nw, d.eps, small);
        parts = a.parts_gu;
        break;
      case StreamPhase::Down:
        swiglu_chunks(a, m, sh, area);
        ConsumerSync::sync();
        parts = a.parts_down;
        break;
      case StreamPhase::Residual: residual_phase(a); break;
      case StreamPhase::LmHead:
        norm_prologue(a, d.n_layers, norm_w, nw, area, small);  // never layer 0: x is the residual stream
        parts = a.parts_lm;
        break;
    }
    // the phase clock's two inner stamps: the prologue done, the phase's work done
    unsigned long long* inner =
        d.phase_times != nullptr && blockIdx.x == 0 ? d.phase_times + stream_phase_count(d.n_layers) + 2 * i : nullptr;
    if (inner != nullptr && threadIdx.x == 0) inner[0] = global_time_ns();
    if (parts != nullptr) {
      consume_tiles<DT>(m, sh, t, area, parts, r);
      t += sh.count;
    }
    if (inner != nullptr) {
      ConsumerSync::sync();
      if (threadIdx.x == 0) inner[1] = global_time_ns();
    }
    phase_arrive<ConsumerSync>(sync);
  }
  persistent_exit<ConsumerSync>(sync, d.phase_times == nullptr ? nullptr
                                                               : d.phase_times + stream_phase_count(d.n_layers) - 1);
}

// REE_CUDA_STREAM_ONLY=1, a measurement: the consumers take every tile of the
// step as fast as it comes, with no phase, barrier or prologue (x is whatever
// the shared memory holds, so the logits are meaningless). What is left is
// the ring's streaming rate with the products' arithmetic: the ceiling of
// this design on the device.
template <DType DT>
__device__ void consume_stream_only(const StreamArgs& a, const Ring& r, const float* area) {
  unsigned offset = 0;
  int64_t t = 0;
  const int phases = kStreamPhasesPerLayer * a.d.n_layers + 1;
  for (int i = 0; i < phases; ++i) {
    const StreamPhase p = stream_phase_kind(i, a.d.n_layers);
    if (!has_tiles(p)) continue;
    const GpuMatrix m = matrix_of(a, p, i / kStreamPhasesPerLayer);
    const Share sh = share_of(m.layout.groups * product_detail::chunk_count_of(m.layout.cols), offset);
    consume_tiles<DT>(m, sh, t, area, a.parts_lm, r);
    t += sh.count;
  }
}

template <DType DT>
__global__ void __launch_bounds__(kStreamThreads, 1) stream_step_kernel(const StreamArgs a) {
  extern __shared__ __align__(128) uint8_t smem[];
  __shared__ float small[kDecodeMaxChunks + 1];
  __shared__ float red[kAttentionThreads / 32 + 1];
  Ring r;
  r.slots = a.slots;
  r.full = reinterpret_cast<uint64_t*>(smem);
  r.empty = r.full + a.slots;
  r.staged = r.empty + a.slots;
  r.data = smem + barrier_bytes(a.slots);
  float* area = reinterpret_cast<float*>(r.data + size_t(a.slots) * TileBytes<DT>::kSlot);
  if (threadIdx.x == 0) {
    for (int s = 0; s < a.slots; ++s) {
      ring::init(r.full + s, 1);   // the producer's expect_bytes
      ring::init(r.empty + s, 1);  // the consuming warp's lane 0
    }
    ring::init(r.staged, 1);
    ring::init_fence();
    if (a.d.phase_times != nullptr && blockIdx.x == 0) a.d.phase_times[0] = global_time_ns();
  }
  __syncthreads();  // the last barrier of the whole block: the producer warp leaves the consumers' barriers alone
  if (threadIdx.x / 32 == kStreamConsumerWarps) {
    if (threadIdx.x % 32 == 0) produce<DT>(a, r);
    return;
  }
  if (a.stream_only) {
    consume_stream_only<DT>(a, r, area);
    if (a.d.phase_times != nullptr && blockIdx.x == 0 && threadIdx.x == 0)
      a.d.phase_times[stream_phase_count(a.d.n_layers) - 1] = global_time_ns();
    return;
  }
  consume<DT>(a, r, area, small, red);
}

using StreamKernel = void (*)(const StreamArgs);

StreamKernel stream_kernel(DType dtype) {
  switch (dtype) {
    case DType::F32: return stream_step_kernel<DType::F32>;
    case DType::F16: return stream_step_kernel<DType::F16>;
    case DType::BF16: return stream_step_kernel<DType::BF16>;
    case DType::Q8_0: return stream_step_kernel<DType::Q8_0>;
  }
  return nullptr;
}

// Dynamic shared memory a block may have beside the kernel's static part.
size_t dynamic_budget(DType dt) {
  return dynamic_shared_budget(reinterpret_cast<const void*>(stream_kernel(dt)), "cudaFuncGetAttributes (stream)");
}

}  // namespace

const char* stream_unsupported(const StreamArgs& a) {
  if (device_attribute(cudaDevAttrComputeCapabilityMajor) < 9) return "a GPU before sm_90 (no bulk copies)";
  if (a.d.lm_head.layout.dtype != a.d.layer_dtype) return "an lm_head of another dtype than the layers";
  if (const char* why = decode_unsupported(a.d)) return why;
  return nullptr;
}

// The deepest ring that fits beside x; then the largest attention tile that
// fits in what is left (the attention buffers share x's space).
void prepare_stream(StreamArgs& a) {
  const size_t budget = dynamic_budget(a.d.layer_dtype), slot = slot_bytes(a.d.layer_dtype);
  const size_t x_bytes = size_t(area_floats(a.d, 1)) * sizeof(float);
  int fit = 16;
  while (fit > 2 && barrier_bytes(fit) + fit * slot + x_bytes > budget) --fit;
  // 8 slots by default: a deeper ring measured no faster alone (the stream
  // reached the same rate with 4, 8 and 12) and slower in the step, since it
  // leaves attention smaller tiles (docs/cuda.md, session 3).
  int slots = std::min(8, fit);
  const char* l2 = std::getenv("REE_CUDA_STREAM_L2");
  a.l2_normal = l2 && std::string(l2) == "normal";
  const char* only = std::getenv("REE_CUDA_STREAM_ONLY");
  a.stream_only = only && std::string(only) == "1";
  // REE_CUDA_STREAM_SLOTS=N: another ring depth (for measurements).
  if (const char* env = std::getenv("REE_CUDA_STREAM_SLOTS")) slots = std::clamp(std::atoi(env), 2, fit);
  a.slots = slots;
  // At most 2 of a block's copies outstanding (two 16 KB tiles of f16/bf16,
  // about 4 MB over an H100's SMs): the stream keeps its rate, and the
  // phases' round trips do not wait behind a whole ring of copies
  // (ree-cuda-latbench). Measured +5% on the H100 against no limit, 1 and
  // 3-4 slower (docs/cuda.md, session 8). REE_CUDA_STREAM_IN_FLIGHT=N:
  // another limit (0: none). slots >= 2 always.
  a.in_flight = 2;
  if (const char* env = std::getenv("REE_CUDA_STREAM_IN_FLIGHT")) a.in_flight = std::clamp(std::atoi(env), 0, slots);
  // x and attention get everything the ring leaves: attend_row the largest
  // tile that fits, the resident row (decode rows of up to score_cap
  // positions) its scores, its chunks' partials and as many value rows as fit.
  const size_t left = budget - barrier_bytes(slots) - slots * slot;
  a.area_floats = int64_t(left / sizeof(float)) / 4 * 4;
  int tile = kChunk;
  while (tile > 1 && area_floats(a.d, tile) > a.area_floats) tile /= 2;
  a.attention_tile = tile;
  const int hd = a.d.head_dim;
  a.score_cap = int(std::min<int64_t>((a.d.context + 3) / 4 * 4, 4096));
  a.score_cap = std::max(a.score_cap, (3 * hd + 3) / 4 * 4);  // it also holds q, k, v before RoPE
  const int64_t rows =
      (a.area_floats - attention_q_floats(hd) - a.score_cap - chunk_parts_floats(a.score_cap, hd)) / std::max(hd, 1);
  a.value_rows = rows >= 32 ? int(std::min<int64_t>(rows, 1 << 20)) : 0;
  // GateUp's prologue stages x and the o partials by bulk copies when they
  // fit beside x (REE_CUDA_STREAM_STAGE=0: the loads instead, a measurement)
  const int64_t o_chunks = (int64_t(a.d.n_heads) * hd + kChunk - 1) / kChunk;
  const char* stage = std::getenv("REE_CUDA_STREAM_STAGE");
  a.stage_o = !(stage && std::string(stage) == "0") && a.d.dim % 4 == 0 &&
              decode_x_floats(a.d.dim) + (o_chunks + 1) * a.d.dim <= a.area_floats;
  if (stream_shared_bytes(a) > budget) throw std::runtime_error("cuda: the streamed decode step does not fit on an SM");
  check(cudaFuncSetAttribute(stream_kernel(a.d.layer_dtype), cudaFuncAttributeMaxDynamicSharedMemorySize,
                             int(stream_shared_bytes(a))),
        "cudaFuncSetAttribute (stream)");
}

int stream_blocks(const StreamArgs& a) {
  int per_sm = 0;
  check(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, stream_kernel(a.d.layer_dtype), kStreamThreads,
                                                      stream_shared_bytes(a)),
        "cudaOccupancyMaxActiveBlocksPerMultiprocessor (stream)");
  return per_sm >= 1 ? device_attribute(cudaDevAttrMultiProcessorCount) : 0;
}

void launch_stream_step(const StreamArgs& a, int blocks, bool cooperative, const Launch& launch) {
  if (blocks <= 0) throw std::runtime_error("cuda: the streamed decode step does not fit on an SM");
  launch_persistent(stream_kernel(a.d.layer_dtype), blocks, kStreamThreads, stream_shared_bytes(a), launch.stream,
                    cooperative, a);
  check_launch("decode (streamed)");
}

}  // namespace ree::cuda
