// matmul(): validation, choice of kernel by mode, and the split of work over
// threads. The kernels themselves are in kernels_impl.h (per SIMD path) and
// matmul_fast_bf16.cpp.
//
// Reproducible and Deterministic split only over output elements (row groups x
// token tiles), so thread count never changes a value. Fast may also split K
// over threads for a single token with few rows and add the partials in thread
// order, so its bits can depend on the thread count (docs/determinism.md, "Modes").
#include <string>
#include <vector>

#include "kernels/kernel_table.h"
#include "kernels/pack_layout.h"
#include "kernels/thread_pool.h"
#include "runtime/error.h"

namespace ree::kernels {

namespace {

constexpr int64_t kTokenTile = 16;   // tokens per work item (prefill)
constexpr int64_t kGroupGrain = 4;   // row groups per work item: the AVX-512 decode tile

void check_matmul_args(const PackedMatrix& w, const float* x, int64_t t, const float* y) {
  if (t < 0) throw Error("kernels: matmul: negative token count " + std::to_string(t));
  if (w.rows < 0 || w.cols < 0) throw Error("kernels: matmul: bad matrix shape");
  if (w.rows > 0 && w.cols > 0 && w.data == nullptr) throw Error("kernels: matmul: matrix is not packed");
  if (w.nbytes < group_bytes(w.dtype, w.cols) * size_t(group_count(w.rows)))
    throw Error("kernels: matmul: packed matrix is smaller than its shape");
  if (t > 0 && w.rows > 0 && (y == nullptr || (w.cols > 0 && x == nullptr)))
    throw Error("kernels: matmul: null input or output");
}

// Runs fn over (row group x token tile) items on the pool.
void run_tiles(ThreadPool* pool, const MatmulArgs& a, MatmulFn fn, int64_t t) {
  const int64_t groups = group_count(a.rows);
  const int64_t gblocks = (groups + kGroupGrain - 1) / kGroupGrain;
  const int64_t ttiles = (t + kTokenTile - 1) / kTokenTile;
  parallel_for(pool, gblocks * ttiles, 1, [&](int64_t i0, int64_t i1, int) {
    for (int64_t i = i0; i < i1; ++i) {
      const int64_t gb = i / ttiles, tt = i % ttiles;
      const int64_t g0 = gb * kGroupGrain, g1 = g0 + kGroupGrain < groups ? g0 + kGroupGrain : groups;
      const int64_t t0 = tt * kTokenTile, t1 = t0 + kTokenTile < t ? t0 + kTokenTile : t;
      fn(a, g0, g1, t0, t1);
    }
  });
}

// Fast, one token, several threads: thread i computes every row over its own
// slice of K into partial[i]; the partials are then added in thread order.
void run_split_k(ThreadPool* pool, const MatmulArgs& a, MatmulFn fn) {
  const int parts = pool->size();
  const int64_t groups = group_count(a.rows);
  std::vector<float> partial(size_t(parts) * size_t(a.rows));
  pool->parallel_for(parts, 1, [&](int64_t p0, int64_t p1, int) {
    for (int64_t p = p0; p < p1; ++p) {
      MatmulArgs part = a;
      // slice boundaries on multiples of 32 (Q8_0 blocks, bf16 pairs)
      part.k_begin = (a.cols * p / parts) / kQ8Block * kQ8Block;
      part.k_end = p + 1 == parts ? a.cols : (a.cols * (p + 1) / parts) / kQ8Block * kQ8Block;
      part.y = partial.data() + p * a.rows;
      fn(part, 0, groups, 0, 1);
    }
  });
  for (int64_t n = 0; n < a.rows; ++n) {
    float s = partial[size_t(n)];
    for (int p = 1; p < parts; ++p) s = s + partial[size_t(p) * size_t(a.rows) + size_t(n)];
    a.y[n] = s;
  }
}

}  // namespace

void matmul(const Exec& ex, const PackedMatrix& w, const float* x, int64_t t, float* y) {
  check_matmul_args(w, x, t, y);
  const KernelTable& kt = kernel_table(ex.simd);
  if (t == 0 || w.rows == 0) return;
  MatmulArgs a;
  a.dtype = w.dtype;
  a.rows = w.rows;
  a.cols = w.cols;
  a.packed = w.data.get();
  a.x = x;
  a.y = y;
  a.ldy = w.rows;
  a.k_begin = 0;
  a.k_end = w.cols;
  if (ex.mode == Mode::Reproducible) return run_tiles(ex.pool, a, kt.matmul_reproducible, t);
  if (ex.mode == Mode::Deterministic) return run_tiles(ex.pool, a, kt.matmul_deterministic, t);

  MatmulFn fn = kt.matmul_deterministic;
  std::vector<uint32_t> x_pairs;
  if (w.dtype == DType::BF16 && ex.simd == SimdPath::Avx512 && cpu_has_avx512_bf16()) {
    // activations rounded to bf16, packed as (x_k, x_k+1) pairs per 32 bits
    x_pairs.resize(size_t(t * ((w.cols + 1) / 2)));
    f32_to_bf16_pairs_avx512(x, t, w.cols, x_pairs.data());
    a.x_bf16 = x_pairs.data();
    fn = &matmul_fast_bf16_avx512;
  }
  // Split K only where splitting rows leaves threads idle: a single token and
  // fewer than 4 row groups per thread (measured: with more rows the extra
  // partial sums cost more than they give).
  const int threads = ex.pool != nullptr ? ex.pool->size() : 1;
  const bool split_k = t == 1 && threads > 1 && group_count(w.rows) < 4 * threads && w.cols >= 64 * threads;
  if (split_k) return run_split_k(ex.pool, a, fn);
  run_tiles(ex.pool, a, fn, t);
}

float dot(const float* a, const float* b, int64_t k) {
  // The AVX2 file's copy runs the same scalar chain with the fma instruction
  // inline; the scalar file's copy calls fmaf. Same bits either way.
  static const KernelTable& kt = cpu_has_fma() && simd_supported(SimdPath::Avx2) ? kernel_table_avx2()
                                                                               : kernel_table_scalar();
  return kt.dot(a, b, k);
}

}  // namespace ree::kernels
