// Causal attention of repro-v1 (src/kernels/attention.cpp, kernels_impl.h):
// one block per (head, query row), the row at absolute position p = pos0 + t:
//   s_j = D(q, k_j, hd) * scale, scale = 1 / sqrtf(hd)       (thread per j)
//   m = max_j s_j;  e_j = exp(s_j - m)                       (contract exp)
//   S = sum_j e_j, o[d] = sum_j fma(e_j, v_j[d], .)  as chunked sums over
//   absolute positions (chunks of 256; thread per (chunk, d); chunks then
//   added left to right);  out[d] = o[d] / S.
// Prefill and decode run this same kernel, so their bits are identical.
//
// The max: the CPU scans m = s_0, m = s_j > m ? s_j : m. fmaxf gives the same
// m except for NaN (both then make every output NaN) and the sign of a zero
// maximum (s_j - (+0) and s_j - (-0) are equal unless s_j is a zero, and
// exp(+0) = exp(-0) = 1), so no output bit can differ.

#include "kernels/cuda/device_common.cuh"

namespace ree::cuda {
namespace {

constexpr int kThreads = 256;

__device__ __forceinline__ float block_max(float m, float* red) {
#pragma unroll
  for (int o = 16; o > 0; o /= 2) m = fmaxf(m, __shfl_xor_sync(0xffffffffu, m, o));
  if (threadIdx.x % 32 == 0) red[threadIdx.x / 32] = m;
  __syncthreads();
  if (threadIdx.x == 0) {
    float r = red[0];
    for (int w = 1; w < kThreads / 32; ++w) r = fmaxf(r, red[w]);
    red[kThreads / 32] = r;
  }
  __syncthreads();
  return red[kThreads / 32];
}

__global__ void __launch_bounds__(kThreads) attention_kernel(const AttentionArgs a) {
  extern __shared__ float qs[];  // [hd]
  __shared__ float red[kThreads / 32 + 1];
  const int h = int(blockIdx.x);
  const int64_t r = blockIdx.y;  // query row within this launch
  const int64_t t = a.t0 + r;
  const int hd = a.head_dim;
  const int64_t q_dim = int64_t(a.n_heads) * hd, kv_dim = int64_t(a.n_kv_heads) * hd;
  const int64_t npos = *a.pos0 + t + 1;
  const int kvh = h / (a.n_heads / a.n_kv_heads);
  const float* kb = a.k_cache + int64_t(kvh) * hd;
  const float* vb = a.v_cache + int64_t(kvh) * hd;
  float* s = a.scores + (r * a.n_heads + h) * a.context;
  const int64_t slot = hd + 1;  // o partials for d < hd, then the partial of S
  float* part = a.partial + (r * a.n_heads + h) * ((a.context + kChunk - 1) / kChunk) * slot;

  for (int d = threadIdx.x; d < hd; d += kThreads) qs[d] = a.q[t * q_dim + int64_t(h) * hd + d];
  __syncthreads();

  const float scale = __fdiv_rn(1.0f, __fsqrt_rn(float(hd)));
  float m = __int_as_float(0xff800000);  // -inf
  for (int64_t j = threadIdx.x; j < npos; j += kThreads) {
    const float* kj = kb + j * kv_dim;
    float dot = 0.0f;
    for (int c0 = 0; c0 < hd; c0 += kChunk) {
      const int c1 = c0 + kChunk < hd ? c0 + kChunk : hd;
      float acc = 0.0f;
#pragma unroll 8
      for (int d = c0; d < c1; ++d) acc = __fmaf_rn(qs[d], kj[d], acc);
      dot = c0 == 0 ? acc : __fadd_rn(dot, acc);
    }
    const float sj = __fmul_rn(dot, scale);
    s[j] = sj;
    m = fmaxf(m, sj);
  }
  m = block_max(m, red);
  for (int64_t j = threadIdx.x; j < npos; j += kThreads) s[j] = kernels::contract_expf(__fsub_rn(s[j], m));
  __syncthreads();

  const int64_t chunks = (npos + kChunk - 1) / kChunk;
  for (int64_t item = threadIdx.x; item < chunks * slot; item += kThreads) {
    const int64_t c = item / slot;
    const int d = int(item % slot);
    const int64_t j0 = c * kChunk, j1 = j0 + kChunk < npos ? j0 + kChunk : npos;
    float acc = 0.0f;
    if (d < hd) {
#pragma unroll 4
      for (int64_t j = j0; j < j1; ++j) acc = __fmaf_rn(s[j], vb[j * kv_dim + d], acc);
    } else {
      for (int64_t j = j0; j < j1; ++j) acc = __fadd_rn(acc, s[j]);
    }
    part[c * slot + d] = acc;
  }
  __syncthreads();

  for (int d = threadIdx.x; d < hd; d += kThreads) {
    float total = part[hd], o = part[d];
    for (int64_t c = 1; c < chunks; ++c) {
      total = __fadd_rn(total, part[c * slot + hd]);
      o = __fadd_rn(o, part[c * slot + d]);
    }
    const float v = __fdiv_rn(o, total);
    const int64_t i = t * q_dim + int64_t(h) * hd + d;
    a.out[i] = v;
    if (a.out_low != nullptr) store_low(a.out_low, a.low, i, v);
  }
}

}  // namespace

size_t attention_partial_floats(int n_heads, int head_dim, int64_t context) {
  return size_t(n_heads) * size_t(chunk_count(context)) * size_t(head_dim + 1);
}

void launch_attention(const AttentionArgs& a, cudaStream_t stream) {
  if (a.T <= 0) return;
  const dim3 grid(unsigned(a.n_heads), unsigned(a.T));
  attention_kernel<<<grid, kThreads, size_t(a.head_dim) * sizeof(float), stream>>>(a);
  check_launch("attention");
}

}  // namespace ree::cuda
