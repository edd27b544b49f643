// Fast mode for bf16 weights on CPUs with AVX512-BF16: vdpbf16ps multiplies
// bf16 pairs and adds both products into an f32 lane. The activations are
// rounded to bf16 first and the pair sum rounds differently from two fmas, so
// this is NOT repro-v1 (the contract forbids it); it is only reached in
// Mode::Fast. Compiled with -mavx512f/bw/vl/bf16.
#include <immintrin.h>
#include <stdint.h>

#include "kernels/half.h"
#include "kernels/kernel_table.h"
#include "kernels/pack_layout.h"

namespace ree::kernels {

namespace {

inline int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }

// Interleaves rows k (u16 0..15) and k+1 (u16 16..31) of a group into
// 16 pairs: lane i = (w[k][i], w[k+1][i]), the layout vdpbf16ps wants.
inline __m512i pair_index() {
  alignas(64) static constexpr uint16_t kIndex[32] = {0, 16, 1, 17, 2,  18, 3,  19, 4,  20, 5,  21, 6,  22, 7,  23,
                                                      8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31};
  return _mm512_load_si512(kIndex);
}

template <int GB, int TB>
void bf16_tile(const MatmulArgs& a, int64_t g, int64_t t, __m512i index) {
  const size_t gbytes = group_bytes(DType::BF16, a.cols);
  const int64_t pairs_per_row = (a.cols + 1) / 2;
  const uint8_t* gp[GB];
  for (int i = 0; i < GB; ++i) gp[i] = a.packed + size_t(g + i) * gbytes;
  const uint32_t* xr[TB];
  for (int j = 0; j < TB; ++j) xr[j] = a.x_bf16 + (t + j) * pairs_per_row;
  __m512 acc[GB][TB];
  for (int i = 0; i < GB; ++i)
    for (int j = 0; j < TB; ++j) acc[i][j] = _mm512_setzero_ps();
  for (int64_t k = a.k_begin; k < a.k_end; k += 2) {
    __m512i w[GB];
    const bool both = k + 1 < a.cols;  // an odd K leaves row k alone at the end
    for (int i = 0; i < GB; ++i) {
      const __m512i raw = both ? _mm512_loadu_si512(gp[i] + k * 32) : _mm512_maskz_loadu_epi16(0xffffu, gp[i] + k * 32);
      w[i] = _mm512_permutexvar_epi16(index, raw);
    }
    for (int j = 0; j < TB; ++j) {
      const __m512i xb = _mm512_set1_epi32(int32_t(xr[j][k / 2]));
      for (int i = 0; i < GB; ++i) acc[i][j] = _mm512_dpbf16_ps(acc[i][j], (__m512bh)w[i], (__m512bh)xb);
    }
  }
  for (int j = 0; j < TB; ++j) {
    float* yrow = a.y + (t + j) * a.ldy;
    for (int i = 0; i < GB; ++i) {
      const int64_t n0 = (g + i) * kLanes;
      const int64_t valid = min64(kLanes, a.rows - n0);
      alignas(64) float tmp[kLanes];
      _mm512_store_ps(tmp, acc[i][j]);
      for (int64_t l = 0; l < valid; ++l) yrow[n0 + l] = tmp[l];
    }
  }
}

}  // namespace

void f32_to_bf16_pairs_avx512(const float* x, int64_t t, int64_t cols, uint32_t* pairs) {
  // Row r starts at pairs + r * ceil(K/2): as bytes, x_k's bf16 sits at 2k, so
  // a row is just its bf16 values in order (plus one zero when K is odd).
  const int64_t per_row = (cols + 1) / 2;
  for (int64_t r = 0; r < t; ++r) {
    const float* xr = x + r * cols;
    auto* out = reinterpret_cast<uint16_t*>(pairs + r * per_row);
    int64_t k = 0;
    for (; k + 32 <= cols; k += 32) {
      const __m512bh v = _mm512_cvtne2ps_pbh(_mm512_loadu_ps(xr + k + 16), _mm512_loadu_ps(xr + k));
      _mm512_storeu_si512(out + k, (__m512i)v);
    }
    for (; k < cols; ++k) out[k] = f32_to_bf16_rne(xr[k]);
    if (cols % 2 != 0) out[cols] = 0;
  }
}

void matmul_fast_bf16_avx512(const MatmulArgs& a, int64_t g0, int64_t g1, int64_t t0, int64_t t1) {
  const __m512i index = pair_index();
  int64_t t = t0;
  for (; t + 4 <= t1; t += 4) {
    int64_t g = g0;
    for (; g + 4 <= g1; g += 4) bf16_tile<4, 4>(a, g, t, index);  // 16 chains; each permute serves 4 tokens
    for (; g < g1; ++g) bf16_tile<1, 4>(a, g, t, index);
  }
  for (; t < t1; ++t) {
    int64_t g = g0;
    for (; g + 4 <= g1; g += 4) bf16_tile<4, 1>(a, g, t, index);
    for (; g < g1; ++g) bf16_tile<1, 1>(a, g, t, index);
  }
}

}  // namespace ree::kernels
