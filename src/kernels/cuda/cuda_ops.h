#pragma once
// The CUDA kernels of repro-v1, as launch functions on device pointers. Each
// kernel lives in the .cu file named after its CPU counterpart (matmul.cu,
// attention.cu, rmsnorm.cu, rope.cu, swiglu.cu, embed.cu, logits.cu) and
// performs exactly the contract's operations in the contract's order, so its
// bits equal the scalar CPU reference (tests/cuda/test_cuda_kernels.cpp).
//
// Matrix products are split into two steps so that no float is ever added in
// an order the contract does not fix:
//   1. matmul partials: one thread per (row, 256-chunk, token) runs the serial
//      fma chain of that chunk and writes its partial sum;
//   2. the consumer of the product (norm, RoPE, SwiGLU, logits) combines the
//      partials of each value left to right, r = p0; r = r + p1; ... — the
//      contract's "across chunks" rule — before using it.
// No atomics, no split-K beyond the contract's chunks.
//
// Every launch takes the position of the first token from device memory
// (`pos0`), so one captured CUDA graph serves every decode step.
//
// With Launch::pdl (programmatic dependent launch, sm_90) a kernel may start
// while its predecessor finishes; each kernel waits (griddepcontrol.wait)
// before it reads anything a predecessor wrote, and every thread waits before
// it exits, so completion stays ordered along the stream. The matrix
// products load their first weights (which no kernel writes) before waiting.
#include <cuda_runtime.h>

#include <cstdint>

#include "kernels/cuda/gpu_layout.h"
#include "kernels/kernels.h"

namespace ree::cuda {

// Where and how a kernel is launched.
struct Launch {
  cudaStream_t stream = nullptr;
  bool pdl = false;  // programmatic dependent launch (ignored before sm_90)
};

// A weight matrix in the GPU layout (gpu_layout.h), on the device.
struct GpuMatrix {
  GpuLayout layout;
  const uint4* data = nullptr;
  const uint16_t* scales = nullptr;  // Q8_0 only
  int chunks() const { return chunk_count(layout.cols); }
};

// Partial sums of a product: value (t, n) is the left-to-right sum over
// c < chunks of data[(t * chunks + c) * rows + n]. A product computed in one
// piece (cuBLAS, fast mode) is the case chunks == 1.
struct Partials {
  const float* data = nullptr;
  int chunks = 0;
  int64_t rows = 0;
};

// Optional low-precision copy of an activation (fast mode feeds it to cuBLAS).
enum class LowPrecision : uint8_t { None = 0, Bf16 = 1, F16 = 2 };

// out[(t * chunks + c) * rows + n] = chunk c of D(W[n, :], x[t, :]) for t < T.
// `meter` (one token only): 0 loads a thread's first batch of weights at
// once; 8 or 16 loads it that many 16-byte units at a time, each group once
// every load of the previous one has landed (matmul.cu says why). The same
// bits either way. The engine passes one only under PDL (CudaEngine::meter):
// without it nothing runs while the first batch loads.
void launch_matmul_partials(const GpuMatrix& w, const float* x, int64_t x_stride, int64_t T, float* out,
                            const Launch& launch, int meter = 0);

// The same for one token whose x is SwiGLU of a gate|up product, computed by
// each block for its own chunk of x: h[k] = silu(g[k]) * u[k] (the decode
// step's down product; prefill runs launch_swiglu then the plain product).
void launch_matmul_partials_swiglu(const GpuMatrix& w, const Partials& gate_up, float* out, const Launch& launch,
                                   int meter = 0);

// One token's RMSNorm left for its consumer to finish: x and the 256-chunk
// partials of ss = D(x, x, dim), as launch_residual_norm writes them with
// y == nullptr. A product fed this computes inv and (x * inv) * w itself, for
// the chunk of x each block needs, with rmsnorm.cu's operations: the same
// bits as reading y, with no kernel-wide step in between (the decode step).
struct NormedX {
  const float* x = nullptr;           // [dim]
  const float* ss_partial = nullptr;  // [chunks(dim)]
  const float* w = nullptr;           // [dim]
  int dim = 0;
  float eps = 0.0f;
};
void launch_matmul_partials_normed(const GpuMatrix& w, const NormedX& x, float* out, const Launch& launch,
                                   int meter = 0);

// For each of T rows: v = x + combine(add) (x unchanged when add.data is null),
// x = v, y = rmsnorm(v) * w. `probe` (may be null) receives combine(add).
// With y == nullptr (and T == 1) it stops at x and the ss partials, and the
// consumer finishes the norm (NormedX).
struct ResidualNormArgs {
  Partials add;
  int64_t T = 0;
  int dim = 0;
  float eps = 0.0f;
  float* x = nullptr;        // [T][dim], updated in place
  const float* w = nullptr;  // [dim]
  float* y = nullptr;        // [T][dim], or null: x and ss_partial only (NormedX)
  float* probe = nullptr;    // [T][dim] or null
  void* y_low = nullptr;     // [T][dim] 16-bit copy of y, or null
  LowPrecision low = LowPrecision::None;
  float* ss_partial = nullptr;  // scratch [T][chunks(dim)]
  unsigned* tickets = nullptr;  // [T], zero before the first launch; left zero
};
void launch_residual_norm(const ResidualNormArgs& a, const Launch& launch);

// Combine the stacked q|k|v product, rotate q and k (RoPE at position
// pos0 + t), write q to q_out and k, v into the layer's caches at that position.
struct QkvRopeArgs {
  Partials qkv;                  // rows: n_heads*hd (q), then n_kv*hd (k), then n_kv*hd (v)
  int64_t T = 0;
  int n_heads = 0, n_kv_heads = 0, head_dim = 0;
  const int64_t* pos0 = nullptr;  // device
  const float* cos = nullptr;     // [positions][hd/2]
  const float* sin = nullptr;
  float* q_out = nullptr;         // [T][n_heads*hd]
  float* k_cache = nullptr;       // [positions][n_kv*hd] of this layer
  float* v_cache = nullptr;
};
void launch_qkv_rope(const QkvRopeArgs& a, const Launch& launch);

// Causal attention for query rows t0..t0+T-1 (absolute positions pos0 + t).
struct AttentionArgs {
  int64_t T = 0;                  // query rows in this launch
  int64_t t0 = 0;                 // first query row (index into q/out)
  int n_heads = 0, n_kv_heads = 0, head_dim = 0;
  const int64_t* pos0 = nullptr;  // device
  const float* q = nullptr;       // [*][n_heads*hd]
  const float* k_cache = nullptr; // [positions][n_kv*hd]
  const float* v_cache = nullptr;
  int64_t context = 0;            // cache positions (scratch row length)
  float* scores = nullptr;        // scratch [T][n_heads][context]
  float* out = nullptr;           // [*][n_heads*hd]
  void* out_low = nullptr;        // 16-bit copy of out, or null
  LowPrecision low = LowPrecision::None;
  // One decode row (T == 1, t0 == 0): 2..kAttentionMaxSplit runs each head's
  // row on that many blocks (a thread-block cluster, attention_split.cu), the
  // same bits; 1: one block a head. Only where attention_split_supported().
  int split = 1;
};
inline constexpr int kAttentionMaxSplit = 8;  // a portable cluster
// Whether this GPU (sm_90) can run rows of up to `context` positions split
// over `split` blocks a head (head_dim <= 64, a multiple of 4).
bool attention_split_supported(int head_dim, int64_t context, int split);
// Once per process before the first launch (outside graph capture): lets the
// kernels use more than 48 KiB of shared memory for their tiles. head_dim <= 512.
void prepare_attention(int head_dim);
void launch_attention(const AttentionArgs& a, const Launch& launch);

// One token (qkv.T = attention.T = 1, attention.t0 = 0): launch_qkv_rope and
// launch_attention in one kernel, one block per head, the same operations
// (q is not stored: attention takes it from shared memory). The decode
// step's default for rows not split over a cluster (+4.5% decode on an
// H100, docs/cuda.md session 15; REE_CUDA_ROPE_ATTENTION=0 runs the two).
void launch_rope_attention(const QkvRopeArgs& qkv, const AttentionArgs& attention, const Launch& launch);

// h[t][i] = silu(combine(gate_up)[t][i]) * combine(gate_up)[t][hidden + i].
struct SwigluArgs {
  Partials gate_up;  // rows: hidden (gate), then hidden (up)
  int64_t T = 0;
  int64_t hidden = 0;
  float* h = nullptr;  // [T][hidden]
  void* h_low = nullptr;
  LowPrecision low = LowPrecision::None;
};
void launch_swiglu(const SwigluArgs& a, const Launch& launch);

// x[t][:] = exact f32 of embedding row tokens[t] (row-major stored dtype).
struct EmbedArgs {
  kernels::DType dtype = kernels::DType::F32;
  const uint8_t* table = nullptr;  // [vocab][row_bytes]
  size_t row_bytes = 0;
  int dim = 0;
  const int32_t* tokens = nullptr;  // device, ids already checked on the host
  int64_t T = 0;
  float* x = nullptr;
};
void launch_embed(const EmbedArgs& a, const Launch& launch);

// out[t][n] = combine(p)[t][n] for t < T (the logits).
void launch_combine(const Partials& p, int64_t T, float* out, const Launch& launch);

// y[i] = repro-v1 exp(x[i]) (contract_math.h compiled by nvcc; for tests).
void launch_exp(const float* x, int64_t n, float* y, const Launch& launch);

// What a step needs from each of T logits rows, on the device
// (logits_summary.cu): the XXH3-64 logits hash, the argmax (ties to the
// smallest id, -1 if any NaN) and the best top_k <= kDeviceTopK entries in
// the contract's order. Needs vocab >= 61 (xxh3_split.h); smaller
// vocabularies are summarised on the host.
inline constexpr int kDeviceTopK = 16;
struct LogitsSummaryArgs {
  const float* logits = nullptr;  // [T][vocab]
  int64_t T = 0, vocab = 0;
  int top_k = 0;                  // entries written per row (<= kDeviceTopK, <= vocab)
  int32_t* argmax = nullptr;      // [T]
  uint64_t* hash = nullptr;       // [T]
  int32_t* top_ids = nullptr;     // [T][top_k]
  float* top_logits = nullptr;    // [T][top_k]
  uint64_t* scratch = nullptr;    // [T][logits_summary_scratch_words(vocab)]
  unsigned* tickets = nullptr;    // [T], zero before the first launch; left zero
};
size_t logits_summary_scratch_words(int64_t vocab);
// Once per vocabulary size, outside graph capture (shared-memory limit).
void prepare_logits_summary(int64_t vocab);
void launch_logits_summary(const LogitsSummaryArgs& a, const Launch& launch);

// The first version: one block per row, argmax and hash only (logits.cu);
// kept as a fallback (REE_CUDA_SUMMARY=single).
void launch_logits_summary_single(const float* logits, int64_t T, int64_t vocab, int32_t* out_argmax,
                                  uint64_t* out_hash, const Launch& launch);

}  // namespace ree::cuda
