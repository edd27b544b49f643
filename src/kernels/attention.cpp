// attention(): validation and the split over (token, kv head) items. Each
// output value is computed by one thread alone, from absolute positions, so prefill of
// T rows and T single-row decode calls give the same bits (kernels_impl.h).
#include <string>
#include <vector>

#include "kernels/kernel_table.h"
#include "kernels/thread_pool.h"
#include "runtime/error.h"

namespace ree::kernels {

namespace {

void check_attention_args(const AttentionShape& s, int64_t t, int64_t pos0) {
  const std::string where = "kernels: attention: ";
  if (s.n_heads <= 0 || s.n_kv_heads <= 0 || s.head_dim <= 0 || s.n_heads % s.n_kv_heads != 0)
    throw Error(where + "bad head counts (" + std::to_string(s.n_heads) + " heads, " + std::to_string(s.n_kv_heads) +
                " kv heads, head_dim " + std::to_string(s.head_dim) + ")");
  if (s.kv_stride < int64_t(s.n_kv_heads) * s.head_dim)
    throw Error(where + "kv_stride " + std::to_string(s.kv_stride) + " is shorter than a cache row");
  // positions are gathered with 32-bit offsets, 16 rows at a time
  if (s.kv_stride > (int64_t(1) << 26)) throw Error(where + "kv_stride " + std::to_string(s.kv_stride) + " is too large");
  if (t < 0 || pos0 < 0) throw Error(where + "negative token count or position");
}

}  // namespace

void attention(const Exec& ex, const AttentionShape& shape, const float* q, int64_t t, int64_t pos0,
               const float* k_cache, const float* v_cache, float* out) {
  check_attention_args(shape, t, pos0);
  const KernelTable& kt = kernel_table(ex.simd);
  AttentionArgs a;
  a.shape = shape;
  a.q = q;
  a.pos0 = pos0;
  a.k_cache = k_cache;
  a.v_cache = v_cache;
  a.out = out;
  // items are (token, kv head); heads sharing a kv head are computed together
  const int64_t items = t * shape.n_kv_heads;
  parallel_for(ex.pool, items, 1, [&](int64_t i0, int64_t i1, int) {
    std::vector<float> scratch(4 * size_t(pos0 + t));  // scores, then weights, of up to 4 heads
    kt.attention(a, i0, i1, scratch.data());
  });
}

}  // namespace ree::kernels
