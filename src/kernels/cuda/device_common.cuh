#pragma once
// Device helpers shared by the .cu files of the CUDA backend. Every float
// operation is an explicit round-to-nearest intrinsic (__fadd_rn, __fmul_rn,
// __fmaf_rn, ...): nvcc never contracts or reorders those, whatever the flags.
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <stdexcept>
#include <string>

#include "kernels/contract_math.h"
#include "kernels/cuda/cuda_ops.h"

namespace ree::cuda {

// Value (t, n) of a product from its chunk partials: r = p0; r = r + p_c.
__device__ __forceinline__ float combine(const Partials& p, int64_t t, int64_t n) {
  const float* base = p.data + t * p.chunks * p.rows + n;
  float r = base[0];
  for (int c = 1; c < p.chunks; ++c) r = __fadd_rn(r, base[int64_t(c) * p.rows]);
  return r;
}

// Stores the 16-bit copy of an activation for cuBLAS (fast mode only).
__device__ __forceinline__ void store_low(void* low, LowPrecision kind, int64_t i, float v) {
  if (kind == LowPrecision::Bf16) static_cast<__nv_bfloat16*>(low)[i] = __float2bfloat16_rn(v);
  else if (kind == LowPrecision::F16) static_cast<__half*>(low)[i] = __float2half_rn(v);
}

inline unsigned int blocks_for(int64_t n, int threads) { return unsigned((n + threads - 1) / threads); }

// Launch errors are internal errors: the caller's inputs were checked before.
inline void check_launch(const char* what) {
  const cudaError_t e = cudaGetLastError();
  if (e != cudaSuccess) throw std::runtime_error(std::string("cuda: launching ") + what + ": " + cudaGetErrorString(e));
}

}  // namespace ree::cuda
