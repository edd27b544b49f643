#pragma once
// The chain of repro-v1's dot product for one weight row per lane and one
// 256-column chunk: acc = fma(w[k], x[k], acc), k ascending, x in shared
// memory: what matmul.cu's one-token products run, and, for the unit
// arithmetic, its prefill token blocks; kept apart so that a kernel that
// finishes whole values (bench/cuda/qkv-rope-product.patch) runs the same
// code. Weights stream as 16-byte units of the GPU layout (gpu_layout.h):
// lane l of a warp reads unit u of its row at wp + u * 32, so a warp reads
// 512 contiguous bytes a load.
#include "kernels/cuda/device_common.cuh"
#include "kernels/cuda/gpu_layout.h"
#include "kernels/cuda/weight_units.cuh"

namespace ree::cuda {

// Unit loads per batch: a whole chunk for one token (32 units of f16/bf16,
// 16 of Q8_0; half a chunk of f32), so that each thread waits for memory
// once per chunk; fewer when 16 tokens' accumulators are live.
template <kernels::DType DT, int TB>
struct Batch {
  static constexpr int kUnits = TB > 1 ? 4 : (DT == kernels::DType::Q8_0 ? 16 : 32);
};

// acc[t] = fma(w[e], x[t][kb + e], acc[t]) for e < n, in e order.
template <kernels::DType DT, int TB, bool FULL>
__device__ __forceinline__ void fma_unit(const uint4 u, float d, const float (*xs)[kChunk], int kb, int n,
                                         float (&acc)[TB]) {
  constexpr int V = Unit<DT>::kElems;
  float w[V];
  Unit<DT>::unpack(u, d, w);
#pragma unroll
  for (int t = 0; t < TB; ++t) {
    if constexpr (FULL) {
      const float4* xv = reinterpret_cast<const float4*>(&xs[t][kb]);
#pragma unroll
      for (int q = 0; q < V / 4; ++q) {
        const float4 x4 = xv[q];
        acc[t] = __fmaf_rn(w[4 * q + 0], x4.x, acc[t]);
        acc[t] = __fmaf_rn(w[4 * q + 1], x4.y, acc[t]);
        acc[t] = __fmaf_rn(w[4 * q + 2], x4.z, acc[t]);
        acc[t] = __fmaf_rn(w[4 * q + 3], x4.w, acc[t]);
      }
    } else {
#pragma unroll
      for (int e = 0; e < V; ++e)
        if (e < n) acc[t] = __fmaf_rn(w[e], xs[t][kb + e], acc[t]);
    }
  }
}

// One token's acc = fma(w[e], x[e], acc) for a whole unit, e ascending, x
// already in registers (fma_unit's operations for TB == 1).
template <kernels::DType DT>
__device__ __forceinline__ void fma_unit_x(const uint4 u, float d, const float4 (&x)[Unit<DT>::kElems / 4],
                                           float& acc) {
  constexpr int V = Unit<DT>::kElems;
  float w[V];
  Unit<DT>::unpack(u, d, w);
#pragma unroll
  for (int q = 0; q < V / 4; ++q) {
    acc = __fmaf_rn(w[4 * q + 0], x[q].x, acc);
    acc = __fmaf_rn(w[4 * q + 1], x[q].y, acc);
    acc = __fmaf_rn(w[4 * q + 2], x[q].z, acc);
    acc = __fmaf_rn(w[4 * q + 3], x[q].w, acc);
  }
}

// The Q8_0 scale of unit u (two units a 32-value block); 0 for other dtypes.
template <kernels::DType DT>
__device__ __forceinline__ float unit_scale(const uint16_t* sp, int u) {
  if constexpr (DT == kernels::DType::Q8_0) return __half2float(__ushort_as_half(sp[(u / 2) * 32]));
  return 0.0f;
}

// One 16-byte weight unit. ONCE: a one-token product reads each weight
// once a step, so it loads the unit as streaming data (ld.global.cs: its
// lines are the first that L1 and L2 evict). What pays is the L1 left
// alone: ld.global.nc.L1::no_allocate measured the same, +0.6-1.0% decode
// on an H100, while an explicit L2 evict-first policy (createpolicy) made
// the step 25% slower (docs/cuda.md, session 14;
// bench/cuda/weight-load-variants.patch). Prefill token blocks read the same
// weights again and keep __ldg; so do Q8_0 scales (unit_scale), each read
// for two units in a row.
template <bool ONCE>
__device__ __forceinline__ uint4 load_unit(const uint4* p) {
  if constexpr (ONCE) return __ldcs(p);
  return __ldg(p);
}

// Units u0 .. u0 + U - 1 of a row (those below `full`) into buf, all
// requested before any is used.
template <int U, bool ONCE>
__device__ __forceinline__ void load_batch(uint4 (&buf)[U], const uint4* wp, int u0, int full) {
#pragma unroll
  for (int i = 0; i < U; ++i)
    if (u0 + i < full) buf[i] = load_unit<ONCE>(wp + int64_t(u0 + i) * 32);
}

// A chunk's first batch of units (those below `full`) into buf, before the
// kernel waits for its inputs: weights depend on no kernel. METER > 0: the
// loads go out METER units at a time, each group once every load of the
// previous group has landed (matmul.cu says why). `zero` is always 0 but a
// kernel parameter: the offset it makes of every value a group loaded keeps
// the next group's loads behind them, and the compiler cannot fold it.
template <kernels::DType DT, int U, int METER, bool ONCE>
__device__ __forceinline__ void load_first_batch(uint4 (&buf)[U], const uint4* wp, int full, int64_t zero) {
  if constexpr (METER > 0) {
    int64_t offset = 0;
#pragma unroll
    for (int b = 0; b < U; b += METER) {
      uint32_t landed = 0;
#pragma unroll
      for (int i = b; i < b + METER && i < U; ++i)
        if (i < full) {
          buf[i] = load_unit<ONCE>(wp + offset + int64_t(i) * 32);
          landed ^= buf[i].x;
        }
      offset = int64_t(landed) * zero;
    }
  } else {
    load_batch<U, ONCE>(buf, wp, 0, full);
  }
}

// One token's whole chain over a chunk of `full` units and `tail` more
// columns, starting from the first batch already in buf (load_first_batch);
// xs: the chunk's x in shared memory (visible). x is read one unit ahead of
// the unit's fmas (xr, a ring of two; U is even), so a load's latency hides
// behind the previous unit's chain instead of stalling it: +4% decode on an
// H100 (session 11). Three units ahead made the bf16 kernel 196 registers,
// two blocks an SM instead of three, and the step 15% slower.
template <kernels::DType DT, int U>
__device__ __forceinline__ float chain_one_token(uint4 (&buf)[U], const uint4* wp, const uint16_t* sp,
                                                 const float (*xs)[kChunk], int full, int tail) {
  constexpr int V = Unit<DT>::kElems;
  constexpr int Q = V / 4;  // float4s of x per unit
  static_assert(V % 4 == 0 && U % 2 == 0, "whole float4s a unit, an even batch");
  float acc = 0.0f;
  const float4* x4 = reinterpret_cast<const float4*>(xs[0]);
  float4 xr[2][Q];
  if (full > 0) {
#pragma unroll
    for (int q = 0; q < Q; ++q) xr[0][q] = x4[q];
  }
  for (int u0 = 0; u0 < full; u0 += U) {
    if (u0 > 0) load_batch<U, true>(buf, wp, u0, full);
#pragma unroll
    for (int i = 0; i < U; ++i) {
      const int u = u0 + i;
      if (u >= full) break;
      if (u + 1 < full) {
#pragma unroll
        for (int q = 0; q < Q; ++q) xr[(i + 1) % 2][q] = x4[(u + 1) * Q + q];
      }
      fma_unit_x<DT>(buf[i], unit_scale<DT>(sp, u), xr[i % 2], acc);
    }
  }
  if (tail > 0) {  // the last columns of a row whose length is not a multiple of V
    float a[1] = {acc};
    fma_unit<DT, 1, false>(load_unit<true>(wp + int64_t(full) * 32), unit_scale<DT>(sp, full), xs, full * V, tail, a);
    acc = a[0];
  }
  return acc;
}

// body.template operator()<DT>() for the weights' dtype: matmul.cu's one
// switch from the runtime dtype to the kernels' template argument.
template <class Body>
void with_dtype(kernels::DType dtype, const Body& body) {
  switch (dtype) {
    case kernels::DType::F32: return body.template operator()<kernels::DType::F32>();
    case kernels::DType::F16: return body.template operator()<kernels::DType::F16>();
    case kernels::DType::BF16: return body.template operator()<kernels::DType::BF16>();
    case kernels::DType::Q8_0: return body.template operator()<kernels::DType::Q8_0>();
  }
}

}  // namespace ree::cuda
