// Causal attention of repro-v1 (src/kernels/attention.cpp, kernels_impl.h):
// one block per (head, query row), the row at absolute position p = pos0 + t.
// The row's operations are attend_row() (attention_row.cuh), which the fused
// decode step (decode_step.cu) and rope_attention_kernel below run too, so
// prefill and decode give identical bits.
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

// One token: launch_qkv_rope's and this kernel's work in one block per head.
// The head's q and its kv head's k are combined from the q|k|v partials and
// rotated with rope.cu's operations (x0*c - x1*s, x0*s + x1*c, each product
// rounded), k and v go into the caches at pos (the heads of a kv group all
// write the same bits there, and each reads back its own writes after the
// barrier), then the row as above.
__global__ void __launch_bounds__(kAttentionThreads) rope_attention_kernel(const QkvRopeArgs r, const AttentionArgs a,
                                                                           const int tile) {
  extern __shared__ __align__(16) float smem[];
  __shared__ float red[kAttentionThreads / 32 + 1];
  pdl_entry();
  const int hd = a.head_dim, half = hd / 2;
  float* qs = smem;
  float* buf = smem + attention_q_floats(hd);
  const int h = int(blockIdx.x);
  const int kvh = h / (a.n_heads / a.n_kv_heads);
  const int64_t q_dim = int64_t(a.n_heads) * hd, kv_dim = int64_t(a.n_kv_heads) * hd;
  const int64_t pos = *a.pos0;
  const float* cosv = r.cos + pos * half;
  const float* sinv = r.sin + pos * half;
  float* k_row = r.k_cache + pos * kv_dim + int64_t(kvh) * hd;
  float* v_row = r.v_cache + pos * kv_dim + int64_t(kvh) * hd;
  const int64_t q0 = int64_t(h) * hd, k0 = q_dim + int64_t(kvh) * hd, v0 = q_dim + kv_dim + int64_t(kvh) * hd;
  for (int j = int(threadIdx.x); j < half; j += kAttentionThreads) {
    const float c = cosv[j], s = sinv[j];
    const float x0 = combine(r.qkv, 0, q0 + j), x1 = combine(r.qkv, 0, q0 + j + half);
    qs[j] = __fsub_rn(__fmul_rn(x0, c), __fmul_rn(x1, s));
    qs[j + half] = __fadd_rn(__fmul_rn(x0, s), __fmul_rn(x1, c));
    const float y0 = combine(r.qkv, 0, k0 + j), y1 = combine(r.qkv, 0, k0 + j + half);
    k_row[j] = __fsub_rn(__fmul_rn(y0, c), __fmul_rn(y1, s));
    k_row[j + half] = __fadd_rn(__fmul_rn(y0, s), __fmul_rn(y1, c));
  }
  for (int d = int(threadIdx.x); d < hd; d += kAttentionThreads) v_row[d] = combine(r.qkv, 0, v0 + d);
  __syncthreads();
  attend_row(qs, buf, red, a.k_cache + int64_t(kvh) * hd, a.v_cache + int64_t(kvh) * hd, kv_dim, pos + 1, hd, tile,
             a.scores + int64_t(h) * a.context, AttentionRowOut{a.out + q0, a.out_low, a.low, q0});
}

}  // namespace

void prepare_attention(int head_dim) {
  const AttentionTiling t = attention_tiling(head_dim);
  if (t.shared_bytes > 48 * 1024) {
    check(cudaFuncSetAttribute(attention_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, int(t.shared_bytes)),
          "cudaFuncSetAttribute (attention)");
    check(cudaFuncSetAttribute(rope_attention_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, int(t.shared_bytes)),
          "cudaFuncSetAttribute (rope attention)");
  }
}

void launch_rope_attention(const QkvRopeArgs& qkv, const AttentionArgs& attention, const Launch& launch) {
  if (qkv.T != 1 || attention.T != 1 || attention.t0 != 0)
    throw std::runtime_error("cuda: rope_attention takes one token");
  if (attention.head_dim > kAttentionMaxHeadDim) throw std::runtime_error("cuda: attention supports head_dim <= 512");
  const AttentionTiling t = attention_tiling(attention.head_dim);
  launch_kernel(rope_attention_kernel, dim3(unsigned(attention.n_heads)), dim3(kAttentionThreads), t.shared_bytes,
                launch, qkv, attention, t.tile);
  check_launch("rope_attention");
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
