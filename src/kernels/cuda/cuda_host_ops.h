#pragma once
// Each CUDA kernel called on host arrays (copy in, launch, copy out): what
// the per-kernel bit-identity tests (tests/cuda) and ree-cuda-bench compare
// against the CPU's scalar reference. Slow by design; the engine uses the
// launch functions of cuda_ops.h on device buffers instead.
#include <cstdint>

#include "kernels/kernels.h"

namespace ree::cuda::host {

// True when a CUDA device can be used (tests exit 77, "skipped", otherwise).
bool gpu_visible();

// Y[t][n] = D(W[n,:], X[t,:], K): the partials kernel, then their combination.
void matmul(const kernels::PackedMatrix& w, const float* x, int64_t T, float* y, int meter = 0);

// y[n] = D(W[n,:], h) for one token with h = silu(g) * u from gate|up
// partials [chunks][2 * w.cols] (the decode step's fused down product).
void matmul_swiglu(const kernels::PackedMatrix& w, const float* gate_up_partials, int chunks, float* y, int meter = 0);

// x = x + combine(partials) (when partials is not null), y = rmsnorm(x) * w,
// for T rows of n; partials are [T][chunks][n].
void residual_rmsnorm(float* x, const float* partials, int chunks, const float* w, int64_t T, int n, float eps,
                      float* y);

// One token's residual add and RMSNorm as the decode step runs them: the norm
// stops at x and its ss partials, and the product W rmsnorm(x) finishes it in
// each block (NormedX). x is updated (x = x + combine(partials) when partials
// is not null); y = W rmsnorm(x) * norm_w.
void residual_rmsnorm_matmul(float* x, const float* partials, int chunks, const float* norm_w, int n, float eps,
                             const kernels::PackedMatrix& w, float* y, int meter = 0);

// q|k|v partials ([T][chunks][q_dim + 2 kv_dim]) -> RoPE'd q ([T][q_dim]) and
// cache rows pos0..pos0+T-1 of k_cache, v_cache ([positions][kv_dim], updated).
void qkv_rope(const float* partials, int chunks, int64_t T, int64_t pos0, int n_heads, int n_kv_heads,
              const kernels::RopeTable& rope, float* q, float* k_cache, float* v_cache);

// Causal attention of T query rows at positions pos0.. over caches holding
// positions 0..pos0+T-1 ([positions][n_kv_heads*head_dim]). split > 1: one
// row (T == 1) on that many blocks a head (AttentionArgs::split), in a
// cache of `context` positions (0: pos0 + T), where attention_split_supported.
void attention(const kernels::AttentionShape& shape, const float* q, int64_t T, int64_t pos0, const float* k_cache,
               const float* v_cache, float* out, int split = 1, int64_t context = 0);

// One token at position pos: qkv_rope and attention in one kernel, from
// q|k|v partials [chunks][q_dim + 2 kv_dim]; the caches ([rope.max_pos]
// [kv_dim]) get row pos, out the attention row [q_dim].
void rope_attention(const float* partials, int chunks, int64_t pos, int n_heads, int n_kv_heads,
                    const kernels::RopeTable& rope, float* k_cache, float* v_cache, float* out);

// h = silu(g) * u from gate|up partials [T][chunks][2*hidden].
void swiglu(const float* partials, int chunks, int64_t T, int64_t hidden, float* h);

// x[t] = exact f32 of row tokens[t] of a row-major [rows][cols] table.
void embed(kernels::DType dtype, const uint8_t* table, int64_t rows, int64_t cols, const int32_t* tokens,
           int64_t T, float* x);

// y = repro-v1 exp(x), evaluated by nvcc's compilation of contract_math.h.
void exp(const float* x, int64_t n, float* y);

// Per row: argmax (ties to the smallest id, -1 on NaN), the logits hash and
// the top_k (<= 16) entries (ids, logits: [T][top_k]); `single` runs the
// first, single-block kernel (argmax and hash only).
void logits_summary(const float* logits, int64_t T, int64_t vocab, int top_k, int32_t* argmax, uint64_t* hash,
                    int32_t* top_ids, float* top_logits, bool single = false);

}  // namespace ree::cuda::host
