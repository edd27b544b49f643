// Residual add + RMSNorm (src/kernels/ops.cpp, rmsnorm() and add_inplace()),
// fused with the combination of the product that feeds the residual stream:
//   x = x + combine(partials)
//   ss = D(x, x, n)   (chunks of 256, fma chain inside, chunks added in order)
//   mean = ss / float(n); inv = 1 / sqrtf(mean + eps); y = (x * inv) * w
// One block per (256-chunk of the row, token row): it updates its chunk of x
// and runs that chunk's chain of ss. The block that finishes last (an integer
// ticket; no float atomics) adds the chunks' partials in order and writes y
// for the whole row, then resets the ticket for the next launch. Without y
// (the decode step) it stops at x and the partials: every block of the
// product that consumes the norm adds the partials itself (NormedX), which
// takes the ticket's round trip and the last block's pass off the step.
#include "kernels/cuda/device_common.cuh"

namespace ree::cuda {
namespace {

constexpr int kThreads = kChunk;  // one element of the chunk per thread

__global__ void __launch_bounds__(kThreads) residual_norm_kernel(const ResidualNormArgs a) {
  __shared__ __align__(16) float xs[kChunk];
  __shared__ float parts[64];  // the chunks' ss partials, read by the last block (rows of up to 16k)
  __shared__ bool last;
  __shared__ float inv_s;
  pdl_entry();
  const int c = int(blockIdx.x), chunks = int(gridDim.x);
  const int64_t t = blockIdx.y;
  const int k0 = c * kChunk;
  const int len = a.dim - k0 < kChunk ? a.dim - k0 : kChunk;
  float* xrow = a.x + t * a.dim;
  const int i = threadIdx.x;
  float v = 0.0f;
  if (i < len) {
    v = xrow[k0 + i];
    if (a.add.data != nullptr) {
      const float y = combine<16>(a.add, t, k0 + i);
      if (a.probe != nullptr) a.probe[t * a.dim + k0 + i] = y;
      v = __fadd_rn(v, y);
      xrow[k0 + i] = v;
    }
  }
  xs[i] = v;
  __syncthreads();
  if (i == 0) {
    // the chunk's chain, four shared-memory values per load (xs is zero past len)
    float acc = 0.0f;
    const float4* x4 = reinterpret_cast<const float4*>(xs);
#pragma unroll 8
    for (int k = 0; k < kChunk / 4; ++k) {
      if (4 * k >= len) break;
      const float4 v4 = x4[k];
      acc = __fmaf_rn(v4.x, v4.x, acc);
      if (4 * k + 1 < len) acc = __fmaf_rn(v4.y, v4.y, acc);
      if (4 * k + 2 < len) acc = __fmaf_rn(v4.z, v4.z, acc);
      if (4 * k + 3 < len) acc = __fmaf_rn(v4.w, v4.w, acc);
    }
    a.ss_partial[t * chunks + c] = acc;
    if (a.y != nullptr) {
      // One acquire-release add: it releases this block's x and partial (the
      // barrier above orders every thread's stores before it) and, for the
      // last block, acquires every other block's; no separate fences.
      unsigned before;
      asm volatile("atom.acq_rel.gpu.global.add.u32 %0, [%1], 1;" : "=r"(before) : "l"(a.tickets + t) : "memory");
      last = before == unsigned(chunks - 1);
    }
  }
  if (a.y == nullptr) return;  // the consumer finishes the norm (the kernel's end publishes x and the partials)
  __syncthreads();
  if (!last) return;
  // The last block: the chunks' partials, and this thread's first x and w
  // values, all requested at once (they do not depend on each other).
  constexpr int kBatch = 8;
  for (int k = i; k < chunks; k += kThreads) parts[k] = __ldcg(a.ss_partial + t * chunks + k);
  float xv[kBatch], wv[kBatch];
#pragma unroll
  for (int b = 0; b < kBatch; ++b) {
    const int k = i + b * kThreads;
    if (k < a.dim) {
      xv[b] = __ldcg(xrow + k);
      wv[b] = a.w[k];
    }
  }
  __syncthreads();
  if (i == 0) {
    float ss = parts[0];
    for (int k = 1; k < chunks; ++k) ss = __fadd_rn(ss, parts[k]);
    inv_s = rms_inverse(ss, a.dim, a.eps);
    a.tickets[t] = 0u;  // ready for the next launch (also inside a replayed graph)
  }
  __syncthreads();
  const float inv = inv_s;
  // y for the whole row, a batch of kBatch per thread at a time: a batch's
  // loads all go out before its stores (the compiler cannot move a load past
  // a store that might alias it, so one at a time each would cost a round trip)
  for (int k0 = i; k0 < a.dim; k0 += kBatch * kThreads) {
    if (k0 != i) {
#pragma unroll
      for (int b = 0; b < kBatch; ++b) {
        const int k = k0 + b * kThreads;
        if (k < a.dim) {
          xv[b] = __ldcg(xrow + k);
          wv[b] = a.w[k];
        }
      }
    }
#pragma unroll
    for (int b = 0; b < kBatch; ++b) {
      const int k = k0 + b * kThreads;
      if (k >= a.dim) continue;
      const float y = __fmul_rn(__fmul_rn(xv[b], inv), wv[b]);
      a.y[t * a.dim + k] = y;
      if (a.y_low != nullptr) store_low(a.y_low, a.low, t * a.dim + k, y);
    }
  }
}

}  // namespace

void launch_residual_norm(const ResidualNormArgs& a, const Launch& launch) {
  if (a.T <= 0) return;
  if (chunk_count(a.dim) > 64) throw std::runtime_error("cuda: rmsnorm rows longer than 16384 are not supported");
  if (a.y == nullptr && (a.T != 1 || a.y_low != nullptr))
    throw std::runtime_error("cuda: a norm left to its consumer is for one token without a 16-bit copy");
  launch_kernel(residual_norm_kernel, dim3(unsigned(chunk_count(a.dim)), unsigned(a.T)), dim3(kThreads), 0, launch, a);
  check_launch("residual_norm");
}

}  // namespace ree::cuda
