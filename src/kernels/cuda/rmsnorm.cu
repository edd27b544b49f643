// Residual add + RMSNorm (src/kernels/ops.cpp, rmsnorm() and add_inplace()),
// fused: one block per token row combines the partials of the product that
// feeds the residual stream, adds it (x = x + y), then normalises:
//   ss = D(x, x, n)   (chunks of 256, fma chain inside, chunks added in order)
//   mean = ss / float(n); inv = 1 / sqrtf(mean + eps); y = (x * inv) * w
#include "kernels/cuda/device_common.cuh"

namespace ree::cuda {
namespace {

constexpr int kThreads = 1024;  // decode has one row: one block does it all

__global__ void __launch_bounds__(kThreads) residual_norm_kernel(const ResidualNormArgs a) {
  extern __shared__ float shared[];
  float* xs = shared;             // [dim] the updated row
  float* part = shared + a.dim;   // [chunks] partial sums of squares
  __shared__ float inv_s;
  pdl_entry();
  const int64_t t = blockIdx.x;
  float* xrow = a.x + t * a.dim;
  for (int i = threadIdx.x; i < a.dim; i += kThreads) {
    float v = xrow[i];
    if (a.add.data != nullptr) {
      const float y = combine(a.add, t, i);
      if (a.probe != nullptr) a.probe[t * a.dim + i] = y;
      v = __fadd_rn(v, y);
      xrow[i] = v;
    }
    xs[i] = v;
  }
  __syncthreads();
  const int chunks = (a.dim + kChunk - 1) / kChunk;
  for (int c = threadIdx.x; c < chunks; c += kThreads) {
    const int k1 = (c + 1) * kChunk < a.dim ? (c + 1) * kChunk : a.dim;
    float acc = 0.0f;
#pragma unroll 8
    for (int k = c * kChunk; k < k1; ++k) acc = __fmaf_rn(xs[k], xs[k], acc);
    part[c] = acc;
  }
  __syncthreads();
  if (threadIdx.x == 0) {
    float ss = part[0];
    for (int c = 1; c < chunks; ++c) ss = __fadd_rn(ss, part[c]);
    const float mean = __fdiv_rn(ss, float(a.dim));
    inv_s = __fdiv_rn(1.0f, __fsqrt_rn(__fadd_rn(mean, a.eps)));
  }
  __syncthreads();
  const float inv = inv_s;
  for (int i = threadIdx.x; i < a.dim; i += kThreads) {
    const float y = __fmul_rn(__fmul_rn(xs[i], inv), a.w[i]);
    a.y[t * a.dim + i] = y;
    if (a.y_low != nullptr) store_low(a.y_low, a.low, t * a.dim + i, y);
  }
}

}  // namespace

void launch_residual_norm(const ResidualNormArgs& a, const Launch& launch) {
  if (a.T <= 0) return;
  const size_t shared = (size_t(a.dim) + size_t(chunk_count(a.dim))) * sizeof(float);
  if (shared > 48 * 1024)  // rows wider than ~12k floats need the opt-in limit
    cudaFuncSetAttribute(residual_norm_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, int(shared));
  launch_kernel(residual_norm_kernel, dim3(unsigned(a.T)), dim3(kThreads), shared, launch, a);
  check_launch("residual_norm");
}

}  // namespace ree::cuda
