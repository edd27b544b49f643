#pragma once
// A product phase of the fused decode step (decode_ops.h): one token, whole
// output values per block, the contract's operations in the contract's order.
//
// A block takes a group of 32 rows of the GPU layout (gpu_layout.h; lane =
// row). Its 8 warps take the row's 256-chunks in turn (warp w: chunks w,
// w + 8, ...); each lane runs its row's serial chain acc = fma(w[k], x[k],
// acc) over a chunk, k ascending, and leaves the chunk's partial in shared
// memory; warp 0 then adds the partials left to right (r = p0; r = r + p1;
// ...), exactly D(W[n,:], x, K). Nothing is added in any other order, no
// atomics, no tensor cores.
//
// Weights stream through two register buffers ("slots") of 16 units (a warp
// reads 16 x 512 contiguous bytes per slot): while a lane runs its chain over
// one slot, the next is in flight, and the stream runs on across chunks and
// across the block's groups. The first two slots are loaded before the phase
// waits for its inputs: weights never depend on activations.
//
// Before the first use, every block computes the product's input x in shared
// memory (the prologue): a copy, RMSNorm (of the residual stream or, in
// layer 0, of the token's embedding row) or SwiGLU of the gate|up values,
// with the operations of rmsnorm.cu and swiglu.cu.
#include "kernels/cuda/decode_ops.h"
#include "kernels/cuda/device_common.cuh"
#include "kernels/cuda/embedding_row.cuh"
#include "kernels/cuda/grid_sync.cuh"
#include "kernels/cuda/weight_units.cuh"

namespace ree::cuda {

inline constexpr int kProductWarps = kDecodeThreads / 32;
inline constexpr int kSlotUnits = 16;  // units per slot: one chunk of Q8_0, half of bf16/f16, a quarter of f32

enum class Prologue : uint8_t { Copy, Norm, Silu };

// What one product phase computes.
struct ProductJob {
  GpuMatrix m;
  Prologue prologue = Prologue::Copy;
  const float* src = nullptr;     // Copy: x [cols]; Norm: the residual stream [cols]; Silu: gate|up [2 cols]
  const float* norm_w = nullptr;  // Norm
  float eps = 0.0f;
  // Norm of the token's embedding row instead of src (layer 0); block 0
  // also writes the row to x_out, the residual stream.
  const uint8_t* embedding = nullptr;
  kernels::DType embedding_dtype = kernels::DType::F32;
  size_t embedding_row_bytes = 0;
  const int32_t* token = nullptr;
  float* x_out = nullptr;
  float* out = nullptr;       // [rows]
  bool accumulate = false;    // out[n] = out[n] + value (a residual add), else out[n] = value
  unsigned offset = 0;        // the block that takes the first group
  PhaseSync sync;
};

// Shared memory of a product phase: x, then the chunk partials of two groups.
__host__ __device__ inline int64_t decode_x_floats(int64_t max_cols) { return (max_cols + 3) / 4 * 4; }
__host__ __device__ inline int64_t decode_parts_floats(int max_chunks) { return int64_t(2) * max_chunks * 32; }

namespace product_detail {

// The work items of a phase: this block takes items first, first + grid, ...
struct Items {
  int64_t first = 0, count = 0;
};
__device__ __forceinline__ Items block_items(int64_t total, unsigned offset) {
  const unsigned grid = gridDim.x;
  Items it;
  it.first = int64_t((blockIdx.x + grid - offset % grid) % grid);
  it.count = it.first < total ? (total - it.first + grid - 1) / grid : 0;
  return it;
}

__device__ __forceinline__ int chunk_count_of(int64_t cols) { return int((cols + kChunk - 1) / kChunk); }

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

template <kernels::DType DT>
struct Slot {
  uint4 u[kSlotUnits];
  uint32_t d[kSlotUnits / 2];  // Q8_0's f16 scales, one per two units
};

// The next slot a warp loads: (item, chunk, slot of the chunk).
struct Cursor {
  int item = 0;
  int c = 0, s = 0;
  bool ok = false;
};

// Loads slot s of chunk c of the rows of group g (this lane's row).
template <kernels::DType DT>
__device__ __forceinline__ void load_slot(const GpuMatrix& m, int64_t g, int c, int s, int lane, Slot<DT>& b) {
  constexpr int V = Unit<DT>::kElems, kUnitsPerChunk = kChunk / V;
  const ChunkShape cs = chunk_shape<DT>(m.layout.cols, c);
  const int u0 = s * kSlotUnits;
  const int n = cs.full_units - u0;
  const int unit = c * kUnitsPerChunk + u0;  // within the row (a row has fewer than 2^31 units)
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
__device__ __forceinline__ float unit_scale(const Slot<DT>& b, int i) {
  if constexpr (DT == kernels::DType::Q8_0) return __half2float(__ushort_as_half(static_cast<unsigned short>(b.d[i / 2])));
  return 0.0f;
}

// acc = fma(w[e], x[e], acc) over the slot's n whole units, in order.
template <kernels::DType DT>
__device__ __forceinline__ void consume_slot(const Slot<DT>& b, int n, const float* x, float& acc) {
  constexpr int V = Unit<DT>::kElems;
#pragma unroll
  for (int i = 0; i < kSlotUnits; ++i) {
    if (i < n) {
      float w[V];
      Unit<DT>::unpack(b.u[i], unit_scale<DT>(b, i), w);
      const float4* xv = reinterpret_cast<const float4*>(x + i * V);
#pragma unroll
      for (int q = 0; q < V / 4; ++q) {
        const float4 x4 = xv[q];
        acc = __fmaf_rn(w[4 * q + 0], x4.x, acc);
        acc = __fmaf_rn(w[4 * q + 1], x4.y, acc);
        acc = __fmaf_rn(w[4 * q + 2], x4.z, acc);
        acc = __fmaf_rn(w[4 * q + 3], x4.w, acc);
      }
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

// Element loops of the prologues go in batches of kBatch per thread: each
// batch's loads are all issued before its stores, which the compiler could
// not otherwise move them past (the pointers might alias), so a batch costs
// one memory latency instead of kBatch.
inline constexpr int kBatch = 8;

// xs[k] = src[k] for k < n (src written by an earlier phase: read through L2).
__device__ __forceinline__ void copy_in(float* xs, const float* src, int n) {
  for (int k0 = int(threadIdx.x); k0 < n; k0 += kBatch * kDecodeThreads) {
    float v[kBatch];
#pragma unroll
    for (int i = 0; i < kBatch; ++i)
      if (k0 + i * kDecodeThreads < n) v[i] = __ldcg(src + k0 + i * kDecodeThreads);
#pragma unroll
    for (int i = 0; i < kBatch; ++i)
      if (k0 + i * kDecodeThreads < n) xs[k0 + i * kDecodeThreads] = v[i];
  }
}

// ss = D(x, x, n) (one thread per 256-chunk, each on its own warp while there
// are at most 8) and inv = 1 / sqrtf(ss / n + eps) as in rmsnorm.cu.
// small: >= 65 floats. Threads 0..255 (Sync's barrier) take part.
template <class Sync = BlockSync>
__device__ __forceinline__ float rms_inv(const float* xs, int n, float eps, float* small) {
  const int chunks = chunk_count_of(n);
  const int lane = int(threadIdx.x % 32), warp = int(threadIdx.x / 32);
  const int c = lane * kProductWarps + warp;
  if (lane < kDecodeMaxChunks / kProductWarps && c < chunks) {
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
  Sync::sync();
  if (threadIdx.x == 0) {
    float ss = small[0];
    for (int k = 1; k < chunks; ++k) ss = __fadd_rn(ss, small[k]);
    small[kDecodeMaxChunks] = rms_inverse(ss, n, eps);
  }
  Sync::sync();
  return small[kDecodeMaxChunks];
}

// x = (x * inv) * w, in batches of 8 per thread (every load of a batch
// issued before any store).
__device__ __forceinline__ void scale_by(float* xs, int n, float inv, const float* w) {
  for (int k0 = int(threadIdx.x); k0 < n; k0 += kBatch * kDecodeThreads) {
    float wv[kBatch];
#pragma unroll
    for (int i = 0; i < kBatch; ++i)
      if (k0 + i * kDecodeThreads < n) wv[i] = __ldg(w + k0 + i * kDecodeThreads);
#pragma unroll
    for (int i = 0; i < kBatch; ++i) {
      const int k = k0 + i * kDecodeThreads;
      if (k < n) xs[k] = __fmul_rn(__fmul_rn(xs[k], inv), wv[i]);
    }
  }
}

// RMSNorm of xs in place.
template <class Sync = BlockSync>
__device__ __forceinline__ void normalize(float* xs, int n, const float* w, float eps, float* small) {
  scale_by(xs, n, rms_inv<Sync>(xs, n, eps, small), w);
}

// xs[0..n) = the product's input. Activations written by earlier phases are
// read with __ldcg (L2), never through the non-coherent read-only path.
template <class Sync = BlockSync>
__device__ __forceinline__ void prologue(const ProductJob& j, int n, float* xs, float* small) {
  if (j.prologue == Prologue::Silu) {
    for (int k = int(threadIdx.x); k < n; k += kDecodeThreads) {
      const float g = __ldcg(j.src + k), u = __ldcg(j.src + n + k);
      xs[k] = __fmul_rn(kernels::contract_silu(g), u);
    }
  } else if (j.embedding != nullptr) {
    const uint8_t* row = j.embedding + size_t(*j.token) * j.embedding_row_bytes;
    for (int k0 = int(threadIdx.x); k0 < n; k0 += kBatch * kDecodeThreads) {
      float v[kBatch];
#pragma unroll
      for (int i = 0; i < kBatch; ++i)
        if (k0 + i * kDecodeThreads < n) v[i] = embedding_value(j.embedding_dtype, row, k0 + i * kDecodeThreads);
#pragma unroll
      for (int i = 0; i < kBatch; ++i) {
        const int k = k0 + i * kDecodeThreads;
        if (k >= n) continue;
        xs[k] = v[i];
        if (blockIdx.x == 0) j.x_out[k] = v[i];
      }
    }
  } else {
    copy_in(xs, j.src, n);
  }
  Sync::sync();
  if (j.prologue == Prologue::Norm) {
    normalize<Sync>(xs, n, j.norm_w, j.eps, small);
    Sync::sync();
  }
}

}  // namespace product_detail

// Runs a product phase (all threads of the block). xs: decode_x_floats,
// parts: decode_parts_floats, small: kDecodeMaxChunks + 1 floats of shared memory.
template <kernels::DType DT>
__device__ __noinline__ void product_phase(const ProductJob& j, float* xs, float* parts, float* small) {
  using namespace product_detail;
  constexpr int V = Unit<DT>::kElems;
  const GpuMatrix m = j.m;
  const int warp = int(threadIdx.x / 32), lane = int(threadIdx.x % 32);
  const int64_t cols = m.layout.cols;
  const int chunks = chunk_count_of(cols);
  const Items items = block_items(m.layout.groups, j.offset);

  Slot<DT> a, b;
  Cursor ld;
  ld.c = warp;
  ld.ok = items.count > 0 && warp < chunks;
  const unsigned grid = gridDim.x;
  auto load_next = [&](Slot<DT>& buf) {
    if (!ld.ok) return;
    load_slot<DT>(m, items.first + ld.item * grid, ld.c, ld.s, lane, buf);
    if (++ld.s == chunk_shape<DT>(cols, ld.c).slots) {
      ld.s = 0;
      ld.c += kProductWarps;
      if (ld.c >= chunks) {
        ld.c = warp;
        ld.ok = ++ld.item < items.count;
      }
    }
  };
  load_next(a);
  load_next(b);

  phase_wait(j.sync);
  if (items.count > 0 || (j.x_out != nullptr && blockIdx.x == 0)) prologue(j, int(cols), xs, small);

  int k = 0;  // slots consumed by this warp: even ones come from a, odd ones from b
  for (int64_t it = 0; it < items.count; ++it) {
    const int64_t g = items.first + it * grid;
    float* part = parts + (it & 1) * kDecodeMaxChunks * 32;
    if (warp < chunks) {
      for (int c = warp; c < chunks; c += kProductWarps) {
        const ChunkShape cs = chunk_shape<DT>(cols, c);
        const float* xc = xs + int64_t(c) * kChunk;
        float acc = 0.0f;
        for (int s = 0; s < cs.slots; ++s, ++k) {
          const int n = cs.full_units - s * kSlotUnits;
          if ((k & 1) == 0) {
            consume_slot<DT>(a, n, xc + s * kSlotUnits * V, acc);
            load_next(a);
          } else {
            consume_slot<DT>(b, n, xc + s * kSlotUnits * V, acc);
            load_next(b);
          }
        }
        if (cs.tail > 0) consume_tail<DT>(m, g, c, cs, lane, xc, acc);
        part[c * 32 + lane] = acc;
      }
    }
    // One barrier per group: the partials alternate between two buffers, and
    // warp 0 has added a group's before any warp passes the next barrier.
    __syncthreads();
    if (warp == 0) {
      float r = part[lane];
      for (int c = 1; c < chunks; ++c) r = __fadd_rn(r, part[c * 32 + lane]);
      const int64_t row = g * 32 + lane;
      if (row < m.layout.rows) j.out[row] = j.accumulate ? __fadd_rn(__ldcg(j.out + row), r) : r;
    }
  }
}

}  // namespace ree::cuda
