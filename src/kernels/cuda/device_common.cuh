#pragma once
// Device helpers shared by the .cu files of the CUDA backend. Every float
// operation is an explicit round-to-nearest intrinsic (__fadd_rn, __fmul_rn,
// __fmaf_rn, ...): nvcc never contracts or reorders those, whatever the flags.
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <stdexcept>
#include <utility>
#include <string>

#include "kernels/contract_math.h"
#include "kernels/cuda/cuda_ops.h"

namespace ree::cuda {

// Value (t, n) of a product from its chunk partials: r = p0; r = r + p_c.
// Loads go out kBatch at a time, ahead of the (ordered) adds: each batch
// costs a round trip, so a kernel with registers to spare (the residual
// norm, 22 chunks after tinyllama's down product) may take a wider one.
// Measured there on an H100 (session 11, decode tok/s): 16 931, 8 927,
// 32 about 4% slower than 8.
template <int kBatch = 8>
__device__ __forceinline__ float combine(const Partials& p, int64_t t, int64_t n) {
  const float* base = p.data + t * p.chunks * p.rows + n;
  float r = base[0];
  for (int c = 1; c < p.chunks; c += kBatch) {
    float v[kBatch];
#pragma unroll
    for (int j = 0; j < kBatch; ++j)
      if (c + j < p.chunks) v[j] = base[int64_t(c + j) * p.rows];
#pragma unroll
    for (int j = 0; j < kBatch; ++j)
      if (c + j < p.chunks) r = __fadd_rn(r, v[j]);
  }
  return r;
}

// RoPE's rotation of the pair (x0, x1) = (x[j], x[j + hd/2]) by the shared
// table's cos c and sin s (rope() in src/kernels/ops.cpp): x0*c - x1*s and
// x0*s + x1*c, each product rounded (no fma).
__device__ __forceinline__ float2 rope_rotate(float x0, float x1, float c, float s) {
  return make_float2(__fsub_rn(__fmul_rn(x0, c), __fmul_rn(x1, s)), __fadd_rn(__fmul_rn(x0, s), __fmul_rn(x1, c)));
}

// RMSNorm's 1 / sqrtf(ss / n + eps) (rmsnorm() in src/kernels/ops.cpp), ss
// being the chunks' partials already added in order.
__device__ __forceinline__ float rms_inverse(float ss, int n, float eps) {
  return __fdiv_rn(1.0f, __fsqrt_rn(__fadd_rn(__fdiv_rn(ss, float(n)), eps)));
}

// Stores the 16-bit copy of an activation for cuBLAS (fast mode only).
__device__ __forceinline__ void store_low(void* low, LowPrecision kind, int64_t i, float v) {
  if (kind == LowPrecision::Bf16) static_cast<__nv_bfloat16*>(low)[i] = __float2bfloat16_rn(v);
  else if (kind == LowPrecision::F16) static_cast<__half*>(low)[i] = __float2half_rn(v);
}

// Who takes part in a block-wide barrier: the whole block, or (the streamed
// decode step, stream_step.cu) the N threads 0..N-1 on named barrier 1 while
// a producer warp that never waits on it streams weights.
struct BlockSync {
  __device__ static void sync() { __syncthreads(); }
};
template <int N>
struct NamedSync {
  __device__ static void sync() { asm volatile("bar.sync 1, %0;" ::"n"(N) : "memory"); }
};

inline unsigned int blocks_for(int64_t n, int threads) { return unsigned((n + threads - 1) / threads); }

// Programmatic dependent launch (cuda_ops.h): let the next kernel be
// scheduled, and wait until the previous one has completed and its writes
// are visible. Both are no-ops without PDL and before sm_90.
__device__ __forceinline__ void allow_next_kernel() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  asm volatile("griddepcontrol.launch_dependents;" ::: "memory");
#endif
}
__device__ __forceinline__ void wait_for_inputs() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  asm volatile("griddepcontrol.wait;" ::: "memory");
#endif
}
// Both, at the top of a kernel that reads its predecessor's output at once.
__device__ __forceinline__ void pdl_entry() {
  allow_next_kernel();
  wait_for_inputs();
}

// A launch on l's stream (with PDL when l.pdl), its blocks in clusters of
// `cluster` along x (sm_90; 1: no clusters).
template <class... Params, class... Args>
void launch_kernel_in_clusters(void (*kernel)(Params...), unsigned cluster, dim3 grid, dim3 block, size_t shared,
                               const Launch& l, Args&&... args) {
  cudaLaunchConfig_t cfg = {};
  cfg.gridDim = grid;
  cfg.blockDim = block;
  cfg.dynamicSmemBytes = shared;
  cfg.stream = l.stream;
  cudaLaunchAttribute attr[2] = {};
  unsigned n = 0;
  if (l.pdl) {
    attr[n].id = cudaLaunchAttributeProgrammaticStreamSerialization;
    attr[n++].val.programmaticStreamSerializationAllowed = 1;
  }
  if (cluster > 1) {
    attr[n].id = cudaLaunchAttributeClusterDimension;
    attr[n].val.clusterDim.x = cluster;
    attr[n].val.clusterDim.y = 1;
    attr[n++].val.clusterDim.z = 1;
  }
  cfg.attrs = attr;
  cfg.numAttrs = n;
  cudaLaunchKernelEx(&cfg, kernel, std::forward<Args>(args)...);
}

template <class... Params, class... Args>
void launch_kernel(void (*kernel)(Params...), dim3 grid, dim3 block, size_t shared, const Launch& l,
                   Args&&... args) {
  launch_kernel_in_clusters(kernel, 1u, grid, block, shared, l, std::forward<Args>(args)...);
}

// A persistent kernel (every block resident at once): as a cooperative
// launch, which guarantees co-residency, unless `cooperative` is false.
template <class... Params, class... Args>
void launch_persistent(void (*kernel)(Params...), int blocks, int threads, size_t shared, cudaStream_t stream,
                       bool cooperative, Args&&... args) {
  cudaLaunchConfig_t cfg = {};
  cfg.gridDim = dim3(unsigned(blocks));
  cfg.blockDim = dim3(unsigned(threads));
  cfg.dynamicSmemBytes = shared;
  cfg.stream = stream;
  cudaLaunchAttribute attr[1] = {};
  attr[0].id = cudaLaunchAttributeCooperative;
  attr[0].val.cooperative = 1;
  cfg.attrs = attr;
  cfg.numAttrs = cooperative ? 1 : 0;
  cudaLaunchKernelEx(&cfg, kernel, std::forward<Args>(args)...);
}

// Launch errors are internal errors: the caller's inputs were checked before.
inline void check_launch(const char* what) {
  const cudaError_t e = cudaGetLastError();
  if (e != cudaSuccess) throw std::runtime_error(std::string("cuda: launching ") + what + ": " + cudaGetErrorString(e));
}

}  // namespace ree::cuda
