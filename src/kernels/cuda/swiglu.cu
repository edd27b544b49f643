// SwiGLU (src/kernels/ops.cpp swiglu()): the consumer of the stacked
// gate|up product. h = silu(g) * u with silu(x) = x / (1 + exp(-x)) and the
// contract's exp (contract_math.h, compiled here by nvcc from the same text).
#include "kernels/cuda/device_common.cuh"

namespace ree::cuda {
namespace {

constexpr int kThreads = 256;

__global__ void __launch_bounds__(kThreads) swiglu_kernel(const SwigluArgs a) {
  pdl_entry();
  const int64_t i = int64_t(blockIdx.x) * kThreads + threadIdx.x;
  if (i >= a.T * a.hidden) return;
  const int64_t t = i / a.hidden, n = i % a.hidden;
  const float g = combine(a.gate_up, t, n);
  const float u = combine(a.gate_up, t, a.hidden + n);
  const float h = __fmul_rn(kernels::contract_silu(g), u);
  a.h[i] = h;
  if (a.h_low != nullptr) store_low(a.h_low, a.low, i, h);
}

__global__ void __launch_bounds__(kThreads) exp_kernel(const float* x, int64_t n, float* y) {
  pdl_entry();
  const int64_t i = int64_t(blockIdx.x) * kThreads + threadIdx.x;
  if (i < n) y[i] = kernels::contract_expf(x[i]);
}

}  // namespace

void launch_swiglu(const SwigluArgs& a, const Launch& launch) {
  if (a.T <= 0) return;
  launch_kernel(swiglu_kernel, dim3(blocks_for(a.T * a.hidden, kThreads)), dim3(kThreads), 0, launch, a);
  check_launch("swiglu");
}

void launch_exp(const float* x, int64_t n, float* y, const Launch& launch) {
  if (n <= 0) return;
  launch_kernel(exp_kernel, dim3(blocks_for(n, kThreads)), dim3(kThreads), 0, launch, x, n, y);
  check_launch("exp");
}

}  // namespace ree::cuda
