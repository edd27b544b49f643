// The q|k|v product's consumer (src/kernels/ops.cpp rope(), and the cache
// writes of cpu_engine.cpp): combine each value's chunk partials, rotate the
// pairs (i, i + hd/2) of every q and k head with the shared RoPE table
//   x0' = x0*c - x1*s;  x1' = x0*s + x1*c   (each product rounded, no fma)
// and store q for attention, k and v into the layer's KV cache.
#include "kernels/cuda/device_common.cuh"

namespace ree::cuda {
namespace {

constexpr int kThreads = 256;

__global__ void __launch_bounds__(kThreads) qkv_rope_kernel(const QkvRopeArgs a) {
  allow_next_kernel();
  const int hd = a.head_dim, half = hd / 2;
  const int64_t q_dim = int64_t(a.n_heads) * hd, kv_dim = int64_t(a.n_kv_heads) * hd;
  const int64_t q_pairs = int64_t(a.n_heads) * half, k_pairs = int64_t(a.n_kv_heads) * half;
  const int64_t per_token = q_pairs + k_pairs + kv_dim;
  const int64_t item = int64_t(blockIdx.x) * kThreads + threadIdx.x;
  const bool in_range = item < a.T * per_token;
  const int64_t t = item / per_token;
  int64_t i = item % per_token;
  // The position (written by a copy that precedes every kernel of the pass)
  // and the angle tables are nobody's output: read them before waiting. The
  // wait ends while the next products load their weights, and every round
  // trip then takes 1.5-2 us (bench/cuda/timeline-decode-step.patch).
  const int64_t pos = in_range ? *a.pos0 + t : 0;
  const bool is_pair = i < q_pairs + k_pairs;
  const bool is_q = i < q_pairs;
  if (is_pair && !is_q) i -= q_pairs;
  const int64_t j = is_pair ? i % half : 0;
  float c = 0.0f, s = 0.0f;
  if (in_range && is_pair) {
    c = a.cos[pos * half + j];
    s = a.sin[pos * half + j];
  }
  wait_for_inputs();  // every thread waits before it exits (cuda_ops.h)
  if (!in_range) return;
  if (is_pair) {
    const int64_t head = i / half;
    const int64_t row0 = (is_q ? 0 : q_dim) + head * hd + j;
    const float x0 = combine(a.qkv, t, row0), x1 = combine(a.qkv, t, row0 + half);
    const float2 n = rope_rotate(x0, x1, c, s);
    float* dst = is_q ? a.q_out + t * q_dim : a.k_cache + pos * kv_dim;
    dst[head * hd + j] = n.x;
    dst[head * hd + j + half] = n.y;
  } else {
    i -= q_pairs + k_pairs;
    a.v_cache[pos * kv_dim + i] = combine(a.qkv, t, q_dim + kv_dim + i);
  }
}

}  // namespace

void launch_qkv_rope(const QkvRopeArgs& a, const Launch& launch) {
  if (a.T <= 0) return;
  const int64_t per_token = int64_t(a.n_heads) * (a.head_dim / 2) + int64_t(a.n_kv_heads) * (a.head_dim / 2) +
                            int64_t(a.n_kv_heads) * a.head_dim;
  launch_kernel(qkv_rope_kernel, dim3(blocks_for(a.T * per_token, kThreads)), dim3(kThreads), 0, launch, a);
  check_launch("qkv_rope");
}

}  // namespace ree::cuda
