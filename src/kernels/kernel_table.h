#pragma once
// The per-SIMD-path kernels behind the public functions of kernels.h.
// kernels_scalar.cpp, kernels_avx2.cpp and kernels_avx512.cpp each compile the
// same templates (kernels_impl.h) for their vector type and export one table.
// The public functions (matmul.cpp, attention.cpp, ops.cpp) validate, pick the
// table for Exec::simd, split work over threads, and call in here with plain
// pointers: the SIMD files use no standard-library templates, so no code
// compiled for AVX-512 is shared (through the linker's choice of one inline
// copy) with callers on other CPUs.
#include <stdint.h>

#include "kernels/kernels.h"

namespace ree::kernels {

struct MatmulArgs {
  DType dtype = DType::F32;
  int64_t rows = 0;          // N
  int64_t cols = 0;          // K
  const uint8_t* packed = nullptr;
  const float* x = nullptr;  // [T][K]
  float* y = nullptr;        // [T][ldy]
  int64_t ldy = 0;           // row stride of y (N, or N for each split-K partial)
  int64_t k_begin = 0;       // columns [k_begin, k_end) (Fast split-K only;
  int64_t k_end = 0;         //  multiples of 32 except k_end == K)
  const uint32_t* x_bf16 = nullptr;  // Fast bf16: [T][ceil(K/2)] pairs (lo = x_k, hi = x_k+1)
};

// Computes y for row groups [g0, g1) and tokens [t0, t1).
using MatmulFn = void (*)(const MatmulArgs&, int64_t g0, int64_t g1, int64_t t0, int64_t t1);

struct AttentionArgs {
  AttentionShape shape;
  const float* q = nullptr;
  int64_t pos0 = 0;
  const float* k_cache = nullptr;
  const float* v_cache = nullptr;
  float* out = nullptr;
  int64_t t_count = 0;  // query rows of the call (the block items need it)
};

// Items [i0, i1) of T*n_kv_heads (item = t*n_kv_heads + kv head: the query
// heads sharing that kv head); scratch holds at least 4 * (pos0 + T) floats.
using AttentionFn = void (*)(const AttentionArgs&, int64_t i0, int64_t i1, float* scratch);
// Prefill: items [i0, i1) of ceil(T/16)*n_kv_heads (item = token block * n_kv_heads + kv head;
// blocks of 16 query rows); scratch holds at least attention_block_scratch(...) floats.
using AttentionBlockFn = AttentionFn;
inline int64_t attention_block_scratch(int head_dim, int64_t pos0, int64_t t) {
  const int64_t per_token = 4 * (pos0 + t), per_block = 16 * (int64_t(head_dim) + pos0 + t);
  return per_token > per_block ? per_token : per_block;
}

struct KernelTable {
  SimdPath path = SimdPath::Scalar;
  MatmulFn matmul_reproducible = nullptr;
  MatmulFn matmul_deterministic = nullptr;
  MatmulFn matmul_fast = nullptr;  // nullptr: Fast uses matmul_deterministic
  AttentionFn attention = nullptr;
  AttentionBlockFn attention_blocks = nullptr;
  float (*dot)(const float* a, const float* b, int64_t n) = nullptr;
  // y[i] = (x[i] * inv) * w[i]
  void (*scale_mul)(const float* x, float inv, const float* w, int64_t n, float* y) = nullptr;
  // one row of n_heads heads at one position; cs/sn are the table's row
  void (*rope_row)(float* x, const float* cs, const float* sn, int head_dim, int n_heads) = nullptr;
  void (*swiglu)(const float* g, const float* u, int64_t n, float* h) = nullptr;
  void (*exp_n)(const float* x, int64_t n, float* y) = nullptr;  // y = contract exp(x)
};

const KernelTable& kernel_table_scalar();
const KernelTable& kernel_table_avx2();
const KernelTable& kernel_table_avx512();
// The AVX-512 BF16 (vdpbf16ps) Fast matmul; only call when cpu_has_avx512_bf16().
void matmul_fast_bf16_avx512(const MatmulArgs&, int64_t g0, int64_t g1, int64_t t0, int64_t t1);
// x [T][K] -> MatmulArgs::x_bf16 pairs, bf16 round-to-nearest-even (vcvtne2ps2bf16).
void f32_to_bf16_pairs_avx512(const float* x, int64_t t, int64_t cols, uint32_t* pairs);

// The table for a path; throws ree::Error when this CPU lacks it.
const KernelTable& kernel_table(SimdPath);

// CPU features beyond the three paths (cpu_features.cpp).
bool cpu_has_fma();
bool cpu_has_avx512_bf16();

}  // namespace ree::kernels
