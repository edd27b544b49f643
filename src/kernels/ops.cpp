// Element-wise and per-row operators of repro-v1: rmsnorm, rope, swiglu,
// add_inplace. Threads split rows (or element ranges); no value depends on it.
#include <string>

#include "kernels/kernel_table.h"
#include "kernels/thread_pool.h"
#include "runtime/error.h"

namespace ree::kernels {

namespace {
constexpr int64_t kElementGrain = 4096;  // swiglu elements per work item (a multiple of 16)
}

void rmsnorm(const Exec& ex, const float* x, const float* w, int64_t t, int64_t n, float eps, float* y) {
  if (t < 0 || n <= 0) throw Error("kernels: rmsnorm: bad shape " + std::to_string(t) + "x" + std::to_string(n));
  const KernelTable& kt = kernel_table(ex.simd);
  parallel_for(ex.pool, t, 1, [&](int64_t r0, int64_t r1, int) {
    for (int64_t r = r0; r < r1; ++r) {
      const float* xr = x + r * n;
      // ss = D(x, x, n); mean = ss / n; inv = 1 / sqrt(mean + eps); y = (x * inv) * w
      const float ss = kt.dot(xr, xr, n);
      const float mean = ss / float(n);
      const float inv = 1.0f / __builtin_sqrtf(mean + eps);
      kt.scale_mul(xr, inv, w, n, y + r * n);
    }
  });
}

void rope(const Exec& ex, const RopeTable& table, float* x, int64_t t, int64_t pos0, int n_heads) {
  const int hd = table.head_dim;
  if (hd <= 0 || hd % 2 != 0 || n_heads <= 0 || t < 0)
    throw Error("kernels: rope: bad shape (head_dim " + std::to_string(hd) + ", heads " + std::to_string(n_heads) + ")");
  const int64_t half = hd / 2;
  if (pos0 < 0 || pos0 + t > table.max_pos || table.cos.size() < size_t(table.max_pos * half) ||
      table.sin.size() < size_t(table.max_pos * half))
    throw Error("kernels: rope: positions " + std::to_string(pos0) + ".." + std::to_string(pos0 + t - 1) +
                " are outside the table (max_pos " + std::to_string(table.max_pos) + ")");
  const KernelTable& kt = kernel_table(ex.simd);
  const int64_t row = int64_t(n_heads) * hd;
  parallel_for(ex.pool, t, 1, [&](int64_t r0, int64_t r1, int) {
    for (int64_t r = r0; r < r1; ++r) {
      const int64_t pos = pos0 + r;
      kt.rope_row(x + r * row, table.cos.data() + pos * half, table.sin.data() + pos * half, hd, n_heads);
    }
  });
}

void swiglu(const Exec& ex, const float* g, const float* u, int64_t n, float* h) {
  if (n < 0) throw Error("kernels: swiglu: negative length");
  const KernelTable& kt = kernel_table(ex.simd);
  parallel_for(ex.pool, n, kElementGrain, [&](int64_t i0, int64_t i1, int) { kt.swiglu(g + i0, u + i0, i1 - i0, h + i0); });
}

void add_inplace(float* x, const float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) x[i] = x[i] + y[i];
}

}  // namespace ree::kernels
