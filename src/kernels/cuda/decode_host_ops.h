#pragma once
// The fused decode step's phases (decode_ops.h) called on host arrays, one
// phase of one layer at a time: what tests/cuda/test_cuda_decode.cpp compares
// with the CPU's scalar reference. Slow by design (copy in, launch, copy out).
#include <cstdint>

#include "kernels/cuda/decode_ops.h"
#include "kernels/kernels.h"

namespace ree::cuda::host {

// `blocks` 0 launches one block per work item (a group of 32 rows, or a
// head); fewer blocks each take several items, item 0 at block `offset`, as
// in the persistent kernel's round robin.
struct PhaseGrid {
  int blocks = 0;
  unsigned offset = 0;
};

// Qkv (of layer 1, where x is the residual stream), GateUp or LmHead:
// y = W rmsnorm(x) * norm_w, x and norm_w of w.cols values, y of w.rows.
void decode_norm_product(DecodePhase phase, const kernels::PackedMatrix& w, const float* x, const float* norm_w,
                         float eps, float* y, PhaseGrid grid = {});

// Qkv of layer 0: x_out = the embedding row `token` of a row-major
// [rows][w.cols] table of `dtype`; y = W rmsnorm(x_out) * norm_w.
void decode_embed_norm_product(kernels::DType dtype, const uint8_t* table, int64_t rows, int32_t token,
                               const kernels::PackedMatrix& w, const float* norm_w, float eps, float* x_out, float* y,
                               PhaseGrid grid = {});

// Out (in: the attention output, w.cols values) or Down (in: gate|up values,
// 2 w.cols, and h = silu(gate) * up): x = x + W in, x of w.rows values.
void decode_residual_product(DecodePhase phase, const kernels::PackedMatrix& w, const float* in, float* x,
                             PhaseGrid grid = {});

// Attention of one token at position pos from its q|k|v values
// ([q_dim + 2 kv_dim]): RoPE of q and k, k and v written to row pos of the
// caches ([rope.max_pos][kv_dim], updated), out = the attention row [q_dim].
void decode_attention(const kernels::AttentionShape& shape, const float* qkv, int64_t pos,
                      const kernels::RopeTable& rope, float* k_cache, float* v_cache, float* out, PhaseGrid grid = {});

}  // namespace ree::cuda::host
