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

// From this many query rows on, prefill runs the block items: a lane per query
// row beats a lane per key position (which gathers keys by stride) once a
// block holds about eight rows. Either gives the same bits.
constexpr int64_t kAttentionBlockMinTokens = 8;

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
  a.t_count = t;
  const size_t scratch_floats = size_t(attention_block_scratch(shape.head_dim, pos0, t));
  if (t >= kAttentionBlockMinTokens) {
    // prefill: items are (block of 16 query rows, kv head), a lane per query row
    const int64_t items = (t + 15) / 16 * shape.n_kv_heads;
    parallel_for(ex.pool, items, 1, [&](int64_t i0, int64_t i1, int) {
      std::vector<float> scratch(scratch_floats);
      kt.attention_blocks(a, i0, i1, scratch.data());
    });
    return;
  }
  // items are (token, kv head); heads sharing a kv head are computed together
  const int64_t items = t * shape.n_kv_heads;
  parallel_for(ex.pool, items, 1, [&](int64_t i0, int64_t i1, int) {
    std::vector<float> scratch(scratch_floats);  // scores, then weights, of up to 4 heads
    kt.attention(a, i0, i1, scratch.data());
  });
}

}  // namespace ree::kernels
