#pragma once
// A product phase of the fused decode step (decode_ops.h): one token, the
// contract's operations in the contract's order, spread evenly over every
// warp of the grid.
//
// A work item is (group of 32 rows, 256-chunk): one warp, each lane one row
// (the GPU layout, gpu_layout.h), running the serial chain acc = fma(w[k],
// x[k], acc) over the chunk, k ascending, and storing the chunk's partial.
// Items are dealt round robin over the blocks first, so that every SM
// streams the same number of bytes: one SM streams about 20 GB/s at most
// (measured on an H100), and a phase needs all of them. The warp that
// completes a group (an integer counter per group, never a float atomic)
// adds the group's chunk partials left to right, r = p0; r = r + p1; ...,
// which is exactly D(W[n,:], x, K), and writes the value.
//
// Weights stream in slots of 16 units (16 x 512 contiguous bytes per warp).
// On sm_90 a slot is one bulk copy into one of the warp's two shared-memory
// stages (bulk_copy.cuh); otherwise (or with DecodeArgs::bulk_copy off) a
// slot is a register buffer. Either way the next slot is in flight while the
// lanes run their chains over the current one, and the first two are asked
// for before the phase waits for its inputs: weights never depend on
// activations.
//
// Before the first use, every block that has items computes the product's
// input x in shared memory (the prologue): RMSNorm of the residual stream
// (in layer 0, of the token's embedding row), SwiGLU of the gate|up values,
// or the attention output from the attention phases' chunk sums, with the
// operations of rmsnorm.cu, swiglu.cu and attention_row.cuh.
#include "kernels/cuda/bulk_copy.cuh"
#include "kernels/cuda/decode_ops.h"
#include "kernels/cuda/device_common.cuh"
#include "kernels/cuda/embedding_row.cuh"
#include "kernels/cuda/grid_sync.cuh"
#include "kernels/cuda/weight_units.cuh"

namespace ree::cuda {

inline constexpr int kDecodeWarps = kDecodeThreads / 32;
inline constexpr int kSlotUnits = 16;  // a chunk of Q8_0, half a chunk of bf16/f16, a quarter of f32
inline constexpr int kStageWeightBytes = kSlotUnits * 32 * 16;
inline constexpr int kStageScaleBytes = kSlotUnits / 2 * 32 * 2;
inline constexpr int kStageBytes = kStageWeightBytes + kStageScaleBytes;

enum class Prologue : uint8_t { Norm, Silu, AttentionCombine };

// What one product phase computes.
struct ProductJob {
  GpuMatrix m;
  Prologue prologue = Prologue::Norm;
  const float* src = nullptr;     // Norm: the residual stream [cols]; Silu: gate|up values [2 cols]
  const float* norm_w = nullptr;  // Norm
  float eps = 0.0f;
  // Norm of the token's embedding row instead of src (layer 0); block 0 also
  // writes the row to x_out, the residual stream.
  const uint8_t* embedding = nullptr;
  kernels::DType embedding_dtype = kernels::DType::F32;
  size_t embedding_row_bytes = 0;
  const int32_t* token = nullptr;
  float* x_out = nullptr;
  // AttentionCombine: x[h * hd + d] = (sum over c of chunk_out[h][c][d]) /
  // (sum over c of chunk_sum[h][c]), c < the chunks of positions 0..*pos.
  const float* chunk_out = nullptr;  // [heads][chunk_stride][head_dim]
  const float* chunk_sum = nullptr;  // [heads][chunk_stride]
  int heads = 0, head_dim = 0, chunk_stride = 0;
  const int64_t* pos = nullptr;
  float* out = nullptr;          // [rows]
  bool accumulate = false;       // out[n] = out[n] + value (a residual add), else out[n] = value
  float* partials = nullptr;     // [groups][chunks][32] scratch
  unsigned* counts = nullptr;    // [groups], zero before; left zero
  bool bulk = false;             // stream with the bulk copy engine (sm_90 only)
  unsigned offset = 0;           // the warp, in round-robin order, that takes item 0
  PhaseSync sync;
};

// A block's shared memory for product phases.
struct ProductShared {
  float* xs = nullptr;          // the product's input [cols]
  float* small = nullptr;       // kDecodeMaxChunks + 1
  uint8_t* stages = nullptr;    // [warps][2][kStageBytes] (bulk copies)
  uint64_t* bars = nullptr;     // [warps][2]
  uint32_t* parity = nullptr;   // [warps]: bit s, the parity of stage s's next completion
};

namespace product_detail {

__device__ __forceinline__ int chunk_count_of(int64_t cols) { return int((cols + kChunk - 1) / kChunk); }

// Round-robin position of this warp: consecutive items go to consecutive blocks.
__device__ __forceinline__ unsigned warp_place(int warp) { return unsigned(warp) * gridDim.x + blockIdx.x; }

struct Items {
  int64_t first = 0, count = 0, stride = 0;
};
__device__ __forceinline__ Items warp_items(int64_t total, unsigned place, unsigned offset) {
  const int64_t W = int64_t(gridDim.x) * kDecodeWarps;
  Items it;
  it.stride = W;
  it.first = (int64_t(place) + W - int64_t(offset % W)) % W;
  it.count = it.first < total ? (total - it.first + W - 1) / W : 0;
  return it;
}

// Chunk c of a row: its whole units, the elements of a last partial unit,
// and its slots (at least one, so that every chunk passes through the loop).
struct ChunkShape {
  int full_units = 0, tail = 0, slots = 1;
};
template <kernels::DType DT>
__device__ __forceinline__ ChunkShape chunk_shape(int64_t cols, int c) {
  constexpr int V = Unit<DT>::kElems;
  const int64_t rest = cols - int64_t(c) * kChunk;
  const int len = int(rest < kChunk ? rest : kChunk);
  ChunkShape s;
  s.full_units = len / V;
  s.tail = len % V;
  s.slots = s.full_units > 0 ? (s.full_units + kSlotUnits - 1) / kSlotUnits : 1;
  return s;
}

// Whole units in slot s of chunk c (0..16).
template <kernels::DType DT>
__device__ __forceinline__ int slot_units(int64_t cols, int c, int s) {
  const int n = chunk_shape<DT>(cols, c).full_units - s * kSlotUnits;
  return n < 0 ? 0 : (n > kSlotUnits ? kSlotUnits : n);
}

// The next slot a warp asks for: (item, slot of the item's chunk).
struct Cursor {
  int64_t item = 0;
  int s = 0;
  bool ok = false;
};

template <kernels::DType DT>
__device__ __forceinline__ void advance(Cursor& cur, const Items& items, int64_t cols, int chunks) {
  const int c = int((items.first + cur.item * items.stride) % chunks);
  if (++cur.s == chunk_shape<DT>(cols, c).slots) {
    cur.s = 0;
    cur.ok = ++cur.item < items.count;
  }
}

template <kernels::DType DT>
__device__ __forceinline__ float scale_of(uint32_t bits) {
  if constexpr (DT == kernels::DType::Q8_0) return __half2float(__ushort_as_half(static_cast<unsigned short>(bits)));
  return 0.0f;
}

// acc = fma(w[e], x[e], acc) over one whole unit, in order.
template <kernels::DType DT>
__device__ __forceinline__ void fma_unit(const uint4 u, float d, const float* x, float& acc) {
  constexpr int V = Unit<DT>::kElems;
  float w[V];
  Unit<DT>::unpack(u, d, w);
  const float4* xv = reinterpret_cast<const float4*>(x);
#pragma unroll
  for (int q = 0; q < V / 4; ++q) {
    const float4 x4 = xv[q];
    acc = __fmaf_rn(w[4 * q + 0], x4.x, acc);
    acc = __fmaf_rn(w[4 * q + 1], x4.y, acc);
    acc = __fmaf_rn(w[4 * q + 2], x4.z, acc);
    acc = __fmaf_rn(w[4 * q + 3], x4.w, acc);
  }
}

// ---- register slots (any architecture) ----

template <kernels::DType DT>
struct RegisterSlot {
  uint4 u[kSlotUnits];
  uint32_t d[kSlotUnits / 2];  // Q8_0's f16 scales, one per two units
};

template <kernels::DType DT>
__device__ __forceinline__ void load_registers(const GpuMatrix& m, int64_t g, int c, int s, int lane,
                                               RegisterSlot<DT>& b) {
  constexpr int kUnitsPerChunk = kChunk / Unit<DT>::kElems;
  const int n = slot_units<DT>(m.layout.cols, c, s);
  const int unit = c * kUnitsPerChunk + s * kSlotUnits;  // within the row (fewer than 2^31 units)
  const uint4* p = m.data + g * m.layout.units_per_row * 32 + (unit * 32 + lane);
#pragma unroll
  for (int i = 0; i < kSlotUnits; ++i)
    if (i < n) b.u[i] = __ldg(p + i * 32);
  if constexpr (DT == kernels::DType::Q8_0) {
    const uint16_t* sp = m.scales + g * (m.layout.cols / kQ8Block) * 32 + ((unit / 2) * 32 + lane);
#pragma unroll
    for (int i = 0; i < kSlotUnits / 2; ++i)
      if (2 * i < n) b.d[i] = __ldg(sp + i * 32);
  }
}

template <kernels::DType DT>
__device__ __forceinline__ void consume_registers(const RegisterSlot<DT>& b, int n, const float* x, float& acc) {
  constexpr int V = Unit<DT>::kElems;
#pragma unroll
  for (int i = 0; i < kSlotUnits; ++i)
    if (i < n) fma_unit<DT>(b.u[i], scale_of<DT>(b.d[i / 2]), x + i * V, acc);
}

// ---- bulk-copy stages (sm_90) ----

// Lane 0 asks for slot s of chunk c of group g into a stage.
template <kernels::DType DT>
__device__ __forceinline__ void issue_stage(const GpuMatrix& m, int64_t g, int c, int s, uint8_t* stage, uint64_t* bar) {
  constexpr int kUnitsPerChunk = kChunk / Unit<DT>::kElems;
  const int n = slot_units<DT>(m.layout.cols, c, s);
  const int64_t unit = int64_t(c) * kUnitsPerChunk + s * kSlotUnits;
  const uint32_t bytes = uint32_t(n) * 512u;
  const uint32_t scale_bytes = DT == kernels::DType::Q8_0 ? uint32_t(n) * 32u : 0u;
  mbarrier_expect_bytes(bar, bytes + scale_bytes);
  if (n > 0) {
    bulk_load(stage, m.data + (g * m.layout.units_per_row + unit) * 32, bytes, bar);
    if constexpr (DT == kernels::DType::Q8_0)
      bulk_load(stage + kStageWeightBytes, m.scales + (g * (m.layout.cols / kQ8Block) + unit / 2) * 32, scale_bytes,
                bar);
  }
}

template <kernels::DType DT>
__device__ __forceinline__ void consume_stage(const uint8_t* stage, int n, int lane, const float* x, float& acc) {
  constexpr int V = Unit<DT>::kElems;
  const uint4* u = reinterpret_cast<const uint4*>(stage);
  const uint16_t* sc = reinterpret_cast<const uint16_t*>(stage + kStageWeightBytes);
#pragma unroll
  for (int i = 0; i < kSlotUnits; ++i) {
    if (i < n) {
      float d = 0.0f;
      if constexpr (DT == kernels::DType::Q8_0) d = scale_of<DT>(sc[(i / 2) * 32 + lane]);
      fma_unit<DT>(u[i * 32 + lane], d, x + i * V, acc);
    }
  }
}

// The last elements of a row whose length is not a multiple of V (never Q8_0).
template <kernels::DType DT>
__device__ __forceinline__ void consume_tail(const GpuMatrix& m, int64_t g, int c, const ChunkShape& cs, int lane,
                                             const float* x, float& acc) {
  constexpr int V = Unit<DT>::kElems, kUnitsPerChunk = kChunk / V;
  const uint4 u = __ldg(m.data + (g * m.layout.units_per_row + int64_t(c) * kUnitsPerChunk + cs.full_units) * 32 + lane);
  float w[V];
  Unit<DT>::unpack(u, 0.0f, w);
#pragma unroll
  for (int e = 0; e < V; ++e)
    if (e < cs.tail) acc = __fmaf_rn(w[e], x[cs.full_units * V + e], acc);
}

// ---- prologues ----

// ss = D(x, x, n) (one thread per 256-chunk, each on its own warp while there
// are at most 8), then x = (x * inv) * w as in rmsnorm.cu. small: >= 65 floats.
__device__ __forceinline__ void normalize(float* xs, int n, const float* w, float eps, float* small) {
  const int chunks = chunk_count_of(n);
  const int lane = int(threadIdx.x % 32), warp = int(threadIdx.x / 32);
  const int c = lane * kDecodeWarps + warp;
  if (lane < kDecodeMaxChunks / kDecodeWarps && c < chunks) {
    const int k0 = c * kChunk;
    const int len = n - k0 < kChunk ? n - k0 : kChunk;
    const float4* x4 = reinterpret_cast<const float4*>(xs + k0);
    float acc = 0.0f;
    int k = 0;
#pragma unroll 4
    for (; k + 4 <= len; k += 4) {
      const float4 v = x4[k / 4];
      acc = __fmaf_rn(v.x, v.x, acc);
      acc = __fmaf_rn(v.y, v.y, acc);
      acc = __fmaf_rn(v.z, v.z, acc);
      acc = __fmaf_rn(v.w, v.w, acc);
    }
    for (; k < len; ++k) acc = __fmaf_rn(xs[k0 + k], xs[k0 + k], acc);
    small[c] = acc;
  }
  __syncthreads();
  if (threadIdx.x == 0) {
    float ss = small[0];
    for (int k = 1; k < chunks; ++k) ss = __fadd_rn(ss, small[k]);
    const float mean = __fdiv_rn(ss, float(n));
    small[kDecodeMaxChunks] = __fdiv_rn(1.0f, __fsqrt_rn(__fadd_rn(mean, eps)));
  }
  __syncthreads();
  const float inv = small[kDecodeMaxChunks];
  for (int k = int(threadIdx.x); k < n; k += kDecodeThreads) xs[k] = __fmul_rn(__fmul_rn(xs[k], inv), __ldg(w + k));
}

// xs[0..n) = the product's input. Activations written by earlier phases are
// read with __ldcg (L2), never through the non-coherent read-only path.
__device__ __forceinline__ void prologue(const ProductJob& j, int n, float* xs, float* small) {
  if (j.prologue == Prologue::Silu) {
    for (int k = int(threadIdx.x); k < n; k += kDecodeThreads) {
      const float g = __ldcg(j.src + k), u = __ldcg(j.src + n + k);
      xs[k] = __fmul_rn(kernels::contract_silu(g), u);
    }
  } else if (j.prologue == Prologue::AttentionCombine) {
    const int hd = j.head_dim;
    const int chunks = chunk_count_of(*j.pos + 1);
    for (int k = int(threadIdx.x); k < n; k += kDecodeThreads) {
      const int h = k / hd, d = k % hd;
      const float* o = j.chunk_out + int64_t(h) * j.chunk_stride * hd + d;
      const float* s = j.chunk_sum + int64_t(h) * j.chunk_stride;
      float ov = __ldcg(o), sv = __ldcg(s);
      for (int c = 1; c < chunks; ++c) {
        ov = __fadd_rn(ov, __ldcg(o + int64_t(c) * hd));
        sv = __fadd_rn(sv, __ldcg(s + c));
      }
      xs[k] = __fdiv_rn(ov, sv);
    }
  } else if (j.embedding != nullptr) {
    const uint8_t* row = j.embedding + size_t(*j.token) * j.embedding_row_bytes;
    for (int k = int(threadIdx.x); k < n; k += kDecodeThreads) {
      const float v = embedding_value(j.embedding_dtype, row, k);
      xs[k] = v;
      if (blockIdx.x == 0) j.x_out[k] = v;
    }
  } else {
    for (int k = int(threadIdx.x); k < n; k += kDecodeThreads) xs[k] = __ldcg(j.src + k);
  }
  __syncthreads();
  if (j.prologue == Prologue::Norm) {
    normalize(xs, n, j.norm_w, j.eps, small);
    __syncthreads();
  }
}

// Group g is complete: r = p0; r = r + p1; ... over its chunk partials, then
// the epilogue. The partials' loads go out eight at a time, ahead of the adds.
__device__ __forceinline__ void finish_group(const ProductJob& j, int64_t g, int chunks, int lane) {
  const float* p = j.partials + g * chunks * 32 + lane;
  float r = __ldcg(p);
  for (int c = 1; c < chunks; c += 8) {
    float v[8];
#pragma unroll
    for (int i = 0; i < 8; ++i)
      if (c + i < chunks) v[i] = __ldcg(p + int64_t(c + i) * 32);
#pragma unroll
    for (int i = 0; i < 8; ++i)
      if (c + i < chunks) r = __fadd_rn(r, v[i]);
  }
  const int64_t row = g * 32 + lane;
  if (row < j.m.layout.rows) j.out[row] = j.accumulate ? __fadd_rn(__ldcg(j.out + row), r) : r;
}

// After a warp's items: count each item's chunk in for its group; the warp
// that brings a group's count to `chunks` adds the group up (and resets the
// count for the next phase).
__device__ __forceinline__ void count_in(const ProductJob& j, const Items& items, int chunks, int lane) {
  __threadfence();  // this warp's partials are visible before its counts are
  __syncwarp();
  for (int64_t b = 0; b < items.count; b += 32) {
    const int64_t it = b + lane;
    int64_t g = 0;
    bool last = false;
    if (it < items.count) {
      g = (items.first + it * items.stride) / chunks;
      last = atomicAdd(j.counts + g, 1u) == unsigned(chunks - 1);
    }
    unsigned mask = __ballot_sync(0xffffffffu, last);
    while (mask != 0u) {
      const int from = __ffs(mask) - 1;
      mask &= mask - 1;
      const int64_t gg = __shfl_sync(0xffffffffu, g, from);
      __threadfence();  // the other warps' partials, counted in before ours
      finish_group(j, gg, chunks, lane);
      if (lane == 0) j.counts[gg] = 0u;
    }
  }
}

// Whether any warp of this block has an item.
__device__ __forceinline__ bool block_has_items(int64_t total, unsigned offset) {
  for (int w = 0; w < kDecodeWarps; ++w)
    if (warp_items(total, warp_place(w), offset).count > 0) return true;
  return false;
}

}  // namespace product_detail

// Runs a product phase (all threads of the block).
template <kernels::DType DT>
__device__ __noinline__ void product_phase(const ProductJob& j, const ProductShared& sh) {
  using namespace product_detail;
  constexpr int V = Unit<DT>::kElems;
  const GpuMatrix m = j.m;
  const int warp = int(threadIdx.x / 32), lane = int(threadIdx.x % 32);
  const int64_t cols = m.layout.cols;
  const int chunks = chunk_count_of(cols);
  const int64_t total = m.layout.groups * chunks;
  const Items items = warp_items(total, warp_place(warp), j.offset);
  const bool bulk = kBulkCopy && j.bulk;

  Cursor ld;
  ld.ok = items.count > 0;
  uint8_t* stage[2] = {sh.stages + (2 * warp) * kStageBytes, sh.stages + (2 * warp + 1) * kStageBytes};
  uint64_t* bar[2] = {sh.bars + 2 * warp, sh.bars + 2 * warp + 1};
  RegisterSlot<DT> ra, rb;
  // Asks for the next slot of the stream into stage/buffer `which`.
  auto ask = [&](int which) {
    if (!ld.ok) return;
    const int64_t i = items.first + ld.item * items.stride;
    const int64_t g = i / chunks;
    const int c = int(i % chunks);
    if (bulk) {
      if (lane == 0) issue_stage<DT>(m, g, c, ld.s, stage[which], bar[which]);
    } else if (which == 0) {
      load_registers<DT>(m, g, c, ld.s, lane, ra);
    } else {
      load_registers<DT>(m, g, c, ld.s, lane, rb);
    }
    advance<DT>(ld, items, cols, chunks);
  };
  ask(0);
  ask(1);

  phase_wait(j.sync);
  if (block_has_items(total, j.offset) || (j.x_out != nullptr && blockIdx.x == 0)) prologue(j, int(cols), sh.xs, sh.small);

  const uint32_t parity = bulk ? sh.parity[warp] : 0u;
  int k = 0;  // slots consumed: even ones from stage/buffer 0, odd ones from 1
  for (int64_t it = 0; it < items.count; ++it) {
    const int64_t i = items.first + it * items.stride;
    const int64_t g = i / chunks;
    const int c = int(i % chunks);
    const ChunkShape cs = chunk_shape<DT>(cols, c);
    const float* xc = sh.xs + int64_t(c) * kChunk;
    float acc = 0.0f;
    for (int s = 0; s < cs.slots; ++s, ++k) {
      const int n = slot_units<DT>(cols, c, s);
      const float* x = xc + s * kSlotUnits * V;
      const int which = k & 1;
      if (bulk) {
        mbarrier_wait(bar[which], ((parity >> which) ^ uint32_t(k >> 1)) & 1u);
        consume_stage<DT>(stage[which], n, lane, x, acc);
        __syncwarp();  // every lane has read the stage before it is refilled
      } else if (which == 0) {
        consume_registers<DT>(ra, n, x, acc);
      } else {
        consume_registers<DT>(rb, n, x, acc);
      }
      ask(which);
    }
    if (cs.tail > 0) consume_tail<DT>(m, g, c, cs, lane, xc, acc);
    j.partials[i * 32 + lane] = acc;
  }
  if (bulk && lane == 0) {  // each stage completed once per use
    const uint32_t uses0 = uint32_t(k + 1) / 2, uses1 = uint32_t(k) / 2;
    sh.parity[warp] = parity ^ ((uses0 & 1u) | ((uses1 & 1u) << 1));
  }
  if (items.count > 0) count_in(j, items, chunks, lane);
}

// Lane-parallel L2 prefetch of this block's share of bytes [from, to) of a
// matrix (fractions of its size), in pieces of 32 KiB dealt over the blocks.
__device__ __forceinline__ void prefetch_matrix(const GpuMatrix& m, float from, float to) {
  if (!kBulkCopy || threadIdx.x >= 32) return;
  constexpr int64_t kPiece = 32 << 10;
  const int64_t bytes = m.layout.groups * m.layout.units_per_row * 512;
  const int64_t b0 = int64_t(double(bytes) * from) / kPiece * kPiece;
  const int64_t b1 = int64_t(double(bytes) * to);
  const char* base = reinterpret_cast<const char*>(m.data);
  for (int64_t p = b0 + (int64_t(blockIdx.x) * 32 + threadIdx.x) * kPiece; p < b1;
       p += int64_t(gridDim.x) * 32 * kPiece) {
    const int64_t n = b1 - p < kPiece ? (b1 - p) / 16 * 16 : kPiece;
    if (n > 0) prefetch_l2(base + p, uint32_t(n));
  }
}

}  // namespace ree::cuda
