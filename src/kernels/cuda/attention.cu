// Causal attention of repro-v1 (src/kernels/attention.cpp, kernels_impl.h):
// one block per (head, query row), the row at absolute position p = pos0 + t.
// The row's operations are attend_row() (attention_row.cuh), which the fused
// decode step (decode_step.cu) runs too. Prefill and decode run this same
// kernel, so their bits are identical.
#include "kernels/cuda/attention_row.cuh"
#include "kernels/cuda/cuda_device.h"

namespace ree::cuda {
namespace {

__global__ void __launch_bounds__(kAttentionThreads) attention_kernel(const AttentionArgs a, const int tile) {
  extern __shared__ __align__(16) float smem[];
  __shared__ float red[kAttentionThreads / 32 + 1];
  pdl_entry();
  const int hd = a.head_dim;
  float* qs = smem;                          // [hd]
  float* buf = smem + attention_q_floats(hd);  // [2][tile * (hd + 1)]
  const int h = int(blockIdx.x);
  const int64_t r = blockIdx.y;  // query row within this launch
  const int64_t t = a.t0 + r;
  const int64_t q_dim = int64_t(a.n_heads) * hd, kv_dim = int64_t(a.n_kv_heads) * hd;
  const int64_t npos = *a.pos0 + t + 1;
  const int kvh = h / (a.n_heads / a.n_kv_heads);
  for (int d = threadIdx.x; d < hd; d += kAttentionThreads) qs[d] = a.q[t * q_dim + int64_t(h) * hd + d];
  __syncthreads();
  const int64_t base = t * q_dim + int64_t(h) * hd;
  attend_row(qs, buf, red, a.k_cache + int64_t(kvh) * hd, a.v_cache + int64_t(kvh) * hd, kv_dim, npos, hd, tile,
             a.scores + (r * a.n_heads + h) * a.context, AttentionRowOut{a.out + base, a.out_low, a.low, base});
}

}  // namespace

void prepare_attention(int head_dim) {
  const AttentionTiling t = attention_tiling(head_dim);
  if (t.shared_bytes > 48 * 1024)
    check(cudaFuncSetAttribute(attention_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, int(t.shared_bytes)),
          "cudaFuncSetAttribute (attention)");
}

void launch_attention(const AttentionArgs& a, const Launch& launch) {
  if (a.T <= 0) return;
  if (a.head_dim > kAttentionMaxHeadDim) throw std::runtime_error("cuda: attention supports head_dim <= 512");
  const AttentionTiling t = attention_tiling(a.head_dim);
  const dim3 grid(unsigned(a.n_heads), unsigned(a.T));
  launch_kernel(attention_kernel, grid, dim3(kAttentionThreads), t.shared_bytes, launch, a, t.tile);
  check_launch("attention");
}

}  // namespace ree::cuda
