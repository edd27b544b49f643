// Matrix products of repro-v1 on CUDA cores (src/kernels/matmul.cpp is the CPU
// version): one thread per (output row, 256-column chunk, token) runs the
// contract's serial chain acc = fma(w[k], x[k], acc) for k ascending inside
// its chunk and writes that chunk's partial; consumers add the partials left
// to right (device_common.cuh, combine()). Never tensor cores, never atomics.
//
// Block: 4 warps = 4 groups of 32 rows, one chunk, TB tokens. The chunk of x
// for those tokens is staged in shared memory (each x value is read by all
// lanes at once: a broadcast); a decode step's block computes that chunk
// itself from the previous kernel's output where the step leaves it
// unfinished: SwiGLU of the gate|up partials (the down product) or RMSNorm
// of x from its ss partials (NormedX: q|k|v, gate|up, lm_head). Each lane
// streams its own row's weights as 16-byte units (gpu_layout.h), so a warp
// reads 512 contiguous bytes per load; U units are loaded before the first
// is used, to keep enough bytes in flight for the memory-bound decode step.
#include "kernels/cuda/matmul_chain.cuh"

namespace ree::cuda {
namespace {

using kernels::DType;

constexpr int kWarpsPerBlock = 4;
constexpr int kThreads = kWarpsPerBlock * 32;

struct MatmulParams {
  const uint4* w = nullptr;
  const uint16_t* scales = nullptr;
  int64_t rows = 0, cols = 0, groups = 0, units_per_row = 0;
  int chunks = 0;
  const float* x = nullptr;
  int64_t x_stride = 0;
  int64_t T = 0;
  float* out = nullptr;
  Partials gate_up;  // when set, x = silu(gate) * up of this product (rows: gate then up, cols of each)
  NormedX normed;    // when set (one token), x = rmsnorm of normed.x, finished here
  int64_t zero = 0;  // always 0: a factor the compiler cannot fold (metered loads)
};

// The block's chunk [k0, k0 + len) of one token's normed x, as rmsnorm.cu
// computes it: inv from the ss partials added in order, then (x * inv) * w.
// w (constant) is loaded before the kernel waits (normed_weights), x and the
// partials after it, all at once: one round trip.
constexpr int kNormedPerThread = kChunk / kThreads;
static_assert(kChunk % kThreads == 0, "a block's threads cover its chunk of a normed x evenly");
__device__ __forceinline__ void normed_weights(const NormedX& n, int64_t k0, int len, float (&w)[kNormedPerThread]) {
#pragma unroll
  for (int j = 0; j < kNormedPerThread; ++j) {
    const int k = int(threadIdx.x) + j * kThreads;
    if (k < len) w[j] = __ldg(n.w + k0 + k);
  }
}
__device__ __forceinline__ void stage_normed(const NormedX& n, int64_t k0, int len,
                                             const float (&w)[kNormedPerThread], float* xs) {
  float x[kNormedPerThread];
#pragma unroll
  for (int j = 0; j < kNormedPerThread; ++j) {
    const int k = int(threadIdx.x) + j * kThreads;
    if (k < len) x[j] = __ldcg(n.x + k0 + k);
  }
  const float ss = combine(Partials{n.ss_partial, (n.dim + kChunk - 1) / kChunk, 1}, 0, 0);
  const float inv = rms_inverse(ss, n.dim, n.eps);
#pragma unroll
  for (int j = 0; j < kNormedPerThread; ++j) {
    const int k = int(threadIdx.x) + j * kThreads;
    xs[k] = k < len ? __fmul_rn(__fmul_rn(x[j], inv), w[j]) : 0.0f;
  }
}

// Prefill: this block's chunk of x for its TB tokens into xs (zero past len
// and past T; prefill products read x itself: SwiGLU and norms are finished
// by a product only for one token), loaded in batches of 8 values a thread,
// each batch in flight before its stores. Left to the compiler, the loop
// went rolled once matmul.cu grew, and each value cost a round trip: prefill
// (32 values a thread) ran 14% slower (session 11, H100: 8,300 against 9,600
// tok/s).
template <int TB>
__device__ __forceinline__ void stage_x(const MatmulParams& p, int64_t t0, int64_t k0, int len, float (*xs)[kChunk]) {
  constexpr int kPer = TB * kChunk / kThreads;
  constexpr int kBatch = kPer < 8 ? kPer : 8;
  static_assert(TB * kChunk % kThreads == 0 && kPer % kBatch == 0, "whole batches a thread");
#pragma unroll 1
  for (int b0 = 0; b0 < kPer; b0 += kBatch) {
    float v[kBatch];
#pragma unroll
    for (int j = 0; j < kBatch; ++j) {
      const int i = int(threadIdx.x) + (b0 + j) * kThreads;
      const int t = i / kChunk, k = i % kChunk;
      v[j] = 0.0f;
      if (t0 + t < p.T && k < len) {
        v[j] = p.x[(t0 + t) * p.x_stride + k0 + k];  // (SwiGLU inputs come one token at a time)
      }
    }
#pragma unroll
    for (int j = 0; j < kBatch; ++j) {
      const int i = int(threadIdx.x) + (b0 + j) * kThreads;
      xs[i / kChunk][i % kChunk] = v[j];
    }
  }
}

// METER > 0 (one token): the first batch's loads go out METER units at a time,
// each group once every load of the previous group has landed. Why: blocks
// launched early (PDL) load their first batch while the short kernel before
// them runs a chain of round trips, and loads issued past what the HBM
// needs for its rate lengthen those round trips without adding bandwidth
// (ree-cuda-latbench on an H100, at 2.8-3.1 TB/s: an L2 hit 161 ns with 2 MB
// of loads issued, 264-303 ns with 4 MB, 611-699 ns with 6.5-8.6 MB). A
// whole first batch is 64 KB a block, up to 26 MB over the GPU. The order of
// the arithmetic is untouched.
// Registers: ptxas gives the one-token kernels 168 a thread today (three
// blocks an SM), which attention_resident_kernel's cap (attention.cu)
// assumes, so that one of these blocks fits beside a resident attention row.
template <DType DT, int TB, int METER>
__global__ void __launch_bounds__(kThreads) matmul_partials_kernel(const MatmulParams p) {
  constexpr int V = Unit<DT>::kElems;
  constexpr int U = Batch<DT, TB>::kUnits;
  __shared__ __align__(16) float xs[TB][kChunk];
  allow_next_kernel();

  const int c = int(blockIdx.z);
  const int64_t t0 = int64_t(blockIdx.x) * TB;
  const int64_t k0 = int64_t(c) * kChunk;
  const int len = int(p.cols - k0 < kChunk ? p.cols - k0 : int64_t(kChunk));
  const int full = len / V, tail = len % V;
  const int lane = int(threadIdx.x % 32);
  const int64_t g = int64_t(blockIdx.y) * kWarpsPerBlock + threadIdx.x / 32;
  const bool active = g < p.groups;
  const uint4* wp = p.w + (g * p.units_per_row + k0 / V) * 32 + lane;
  const uint16_t* sp = nullptr;
  if constexpr (DT == DType::Q8_0) sp = p.scales + (g * (p.cols / kQ8Block) + k0 / kQ8Block) * 32 + lane;

  // The first batch of weights does not depend on any kernel: load it
  // before waiting for the previous kernel to finish.
  uint4 buf[U];
  if (active) load_first_batch<DT, U, METER, TB == 1>(buf, wp, full, p.zero);
  // a normed x (one token only: the prefill kernels do not carry the code)
  const bool normed = TB == 1 && p.normed.x != nullptr;
  float norm_w[kNormedPerThread] = {};
  if constexpr (TB == 1)
    if (normed) normed_weights(p.normed, k0, len, norm_w);
  wait_for_inputs();
  if constexpr (TB == 1)
    if (normed) stage_normed(p.normed, k0, len, norm_w, xs[0]);
  if constexpr (TB == 1) {
    // two values a thread, loaded as the compiler sees fit: stage_x's
    // batches measured 2% slower here (session 11)
    if (!normed)
      for (int i = threadIdx.x; i < kChunk; i += kThreads) {
        float v = 0.0f;
        if (t0 < p.T && i < len) {
          if (p.gate_up.data != nullptr) {  // swiglu.cu's operations, for this chunk of x
            const float gate = combine(p.gate_up, t0, k0 + i);
            const float up = combine(p.gate_up, t0, p.cols + k0 + i);
            v = __fmul_rn(kernels::contract_silu(gate), up);
          } else {
            v = p.x[t0 * p.x_stride + k0 + i];
          }
        }
        xs[0][i] = v;
      }
  } else {
    stage_x<TB>(p, t0, k0, len, xs);
  }
  __syncthreads();
  if (!active) return;

  float acc[TB];
  if constexpr (TB == 1) {
    acc[0] = chain_one_token<DT, U>(buf, wp, sp, xs, full, tail);
  } else {
#pragma unroll
    for (int t = 0; t < TB; ++t) acc[t] = 0.0f;
    for (int u0 = 0; u0 < full; u0 += U) {
      if (u0 > 0) load_batch<U, false>(buf, wp, u0, full);
#pragma unroll
      for (int i = 0; i < U; ++i)
        if (u0 + i < full) fma_unit<DT, TB, true>(buf[i], unit_scale<DT>(sp, u0 + i), xs, (u0 + i) * V, V, acc);
    }
    if (tail > 0)  // the last columns of a row whose length is not a multiple of V
      fma_unit<DT, TB, false>(load_unit<false>(wp + int64_t(full) * 32), unit_scale<DT>(sp, full), xs, full * V, tail,
                              acc);
  }

  const int64_t row = g * 32 + lane;
  if (row >= p.rows) return;
#pragma unroll
  for (int t = 0; t < TB; ++t)
    if (t0 + t < p.T) p.out[((t0 + t) * p.chunks + c) * p.rows + row] = acc[t];
}

template <DType DT, int TB, int METER = 0>
void launch_typed(const MatmulParams& p, const Launch& launch) {
  const dim3 grid(blocks_for(p.T, TB), blocks_for(p.groups, kWarpsPerBlock), unsigned(p.chunks));
  launch_kernel(matmul_partials_kernel<DT, TB, METER>, grid, dim3(kThreads), 0, launch, p);
}

// Prefill: kPrefillTokens tokens a thread.
constexpr int kPrefillTokens = 16;
void launch_prefill(DType dtype, const MatmulParams& p, const Launch& launch) {
  with_dtype(dtype, [&]<DType DT>() { launch_typed<DT, kPrefillTokens>(p, launch); });
}

// One token: the first batch loaded whole (meter 0) or `meter` units at a
// time (8 or 16: the kernel's METER).
void launch_decode(DType dtype, const MatmulParams& p, const Launch& launch, int meter) {
  if (meter != 0 && meter != 8 && meter != 16) throw std::runtime_error("cuda: matmul meter must be 0, 8 or 16");
  with_dtype(dtype, [&]<DType DT>() {
    if (meter == 8) launch_typed<DT, 1, 8>(p, launch);
    else if (meter == 16) launch_typed<DT, 1, 16>(p, launch);
    else launch_typed<DT, 1>(p, launch);
  });
}

MatmulParams params_for(const GpuMatrix& w, float* out) {
  MatmulParams p;
  p.w = w.data;
  p.scales = w.scales;
  p.rows = w.layout.rows;
  p.cols = w.layout.cols;
  p.groups = w.layout.groups;
  p.units_per_row = w.layout.units_per_row;
  p.chunks = w.chunks();
  p.out = out;
  return p;
}

}  // namespace

void launch_matmul_partials_swiglu(const GpuMatrix& w, const Partials& gate_up, float* out, const Launch& launch,
                                   int meter) {
  MatmulParams p = params_for(w, out);
  p.T = 1;
  p.gate_up = gate_up;
  launch_decode(w.layout.dtype, p, launch, meter);
  check_launch("matmul (swiglu)");
}

void launch_matmul_partials_normed(const GpuMatrix& w, const NormedX& x, float* out, const Launch& launch,
                                   int meter) {
  if (w.layout.cols != x.dim) throw std::runtime_error("cuda: a normed product's columns differ from the norm's");
  MatmulParams p = params_for(w, out);
  p.T = 1;
  p.normed = x;
  launch_decode(w.layout.dtype, p, launch, meter);
  check_launch("matmul (normed)");
}

void launch_matmul_partials(const GpuMatrix& w, const float* x, int64_t x_stride, int64_t T, float* out,
                            const Launch& launch, int meter) {
  if (T <= 0) return;
  MatmulParams p = params_for(w, out);
  p.x = x;
  p.x_stride = x_stride;
  p.T = T;
  // Token blocking changes only which thread computes a value, never its
  // operations: decode (T = 1) gets one token per thread, prefill 16.
  if (T == 1) launch_decode(w.layout.dtype, p, launch, meter);
  else launch_prefill(w.layout.dtype, p, launch);
  check_launch("matmul");
}

}  // namespace ree::cuda
