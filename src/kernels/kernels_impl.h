#pragma once
// The kernels of one SIMD path, written once over a 16-lane vector type V
// (vec16_scalar.h, vec16_avx2.h, vec16_avx512.h). Each of kernels_scalar.cpp,
// kernels_avx2.cpp, kernels_avx512.cpp defines its V and includes this file, so
// the three paths run the same operations in the same order, lane for lane:
// that is why their bits are identical. Everything here has internal linkage
// (see kernel_table.h for why).
//
// The reduction orders are repro-v1's (docs/determinism.md):
//   D(a, b, K): chunks of 256; acc = +0, acc = fma(a[k], b[k], acc) for k
//   ascending within a chunk; r = p0, r = r + p_c across chunks.
// Lanes are always *output elements* (matmul rows, attention positions or
// head dimensions), each running that chain for itself.
#include <stdint.h>

#include "kernels/contract_math.h"
#include "kernels/kernel_table.h"
#include "kernels/pack_layout.h"

namespace ree::kernels {
namespace {

inline int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }

// repro-v1 D(a, b, n) as one serial chain: the definition itself.
inline float dot_contract(const float* a, const float* b, int64_t n) {
  float r = 0.0f;
  for (int64_t c0 = 0; c0 < n; c0 += kChunk) {
    const int64_t c1 = min64(n, c0 + kChunk);
    float acc = 0.0f;
    for (int64_t k = c0; k < c1; ++k) acc = contract_fmaf(a[k], b[k], acc);
    r = (c0 == 0) ? acc : r + acc;  // r = p0, then r + p_c (p0 may be -0: not 0 + p0)
  }
  return r;
}

// ---------------------------------------------------------------- matmul ----

enum class Order { Reproducible, Deterministic };

// 16 rows of the group at column k (non-Q8 types).
template <class V, DType DT>
inline V load_weights(const uint8_t* group, int64_t k) {
  if constexpr (DT == DType::F32) return V::load(reinterpret_cast<const float*>(group + k * 64));
  if constexpr (DT == DType::F16) return V::load_f16(reinterpret_cast<const uint16_t*>(group + k * 32));
  if constexpr (DT == DType::BF16) return V::load_bf16(reinterpret_cast<const uint16_t*>(group + k * 32));
  return V::zero();
}

template <class V, int GB, int TB>
inline void fma_column(V (&acc)[GB][TB], const V (&w)[GB], const float* const (&xr)[TB], int64_t k) {
  for (int j = 0; j < TB; ++j) {
    const V xb = V::bcast(xr[j][k]);
    for (int i = 0; i < GB; ++i) acc[i][j] = vfma(w[i], xb, acc[i][j]);
  }
}

// Adds columns [k0, k1) into NACC interleaved accumulator sets: column k0 + m
// goes to set m % NACC (NACC = 1 is the contract's single chain). For Q8_0,
// k0 and k1 are multiples of 32.
template <class V, DType DT, int GB, int TB, int NACC>
inline void accumulate(const uint8_t* const (&gp)[GB], const float* const (&xr)[TB], int64_t k0, int64_t k1,
                       V (&acc)[NACC][GB][TB]) {
  if constexpr (DT == DType::Q8_0) {
    for (int64_t b0 = k0; b0 < k1; b0 += kQ8Block) {
      const int64_t off = (b0 / kQ8Block) * kQ8BlockBytes;
      V d[GB];
      for (int i = 0; i < GB; ++i) d[i] = V::load_f16(reinterpret_cast<const uint16_t*>(gp[i] + off));
      for (int kk = 0; kk < kQ8Block; kk += NACC) {
        for (int s = 0; s < NACC; ++s) {
          V w[GB];
          for (int i = 0; i < GB; ++i)
            w[i] = V::load_q8(reinterpret_cast<const int8_t*>(gp[i] + off + kQ8ScaleBytes + (kk + s) * kLanes), d[i]);
          fma_column(acc[s], w, xr, b0 + kk + s);
        }
      }
    }
  } else {
    int64_t k = k0;
    for (; k + NACC <= k1; k += NACC) {
      for (int s = 0; s < NACC; ++s) {
        V w[GB];
        for (int i = 0; i < GB; ++i) w[i] = load_weights<V, DT>(gp[i], k + s);
        fma_column(acc[s], w, xr, k + s);
      }
    }
    for (; k < k1; ++k) {
      V w[GB];
      for (int i = 0; i < GB; ++i) w[i] = load_weights<V, DT>(gp[i], k);
      fma_column(acc[0], w, xr, k);
    }
  }
}

template <class V, int GB, int TB>
inline void zero_tile(V (&a)[GB][TB]) {
  for (int i = 0; i < GB; ++i)
    for (int j = 0; j < TB; ++j) a[i][j] = V::zero();
}

// Writes the tile's rows to y, dropping the padding rows of a last partial group.
template <class V, int GB, int TB>
inline void store_tile(const MatmulArgs& a, const V (&res)[GB][TB], int64_t g, int64_t t) {
  for (int j = 0; j < TB; ++j) {
    float* yrow = a.y + (t + j) * a.ldy;
    for (int i = 0; i < GB; ++i) {
      const int64_t n0 = (g + i) * kLanes;
      const int64_t valid = min64(kLanes, a.rows - n0);
      if (valid == kLanes) {
        res[i][j].store(yrow + n0);
      } else {
        float tmp[kLanes];
        res[i][j].store(tmp);
        for (int64_t l = 0; l < valid; ++l) yrow[n0 + l] = tmp[l];
      }
    }
  }
}

// GB row groups x TB tokens starting at group g, token t.
template <class V, DType DT, Order ORDER, int GB, int TB>
inline void matmul_tile(const MatmulArgs& a, int64_t g, int64_t t) {
  const size_t gbytes = group_bytes(DT, a.cols);
  const uint8_t* gp[GB];
  for (int i = 0; i < GB; ++i) gp[i] = a.packed + size_t(g + i) * gbytes;
  const float* xr[TB];
  for (int j = 0; j < TB; ++j) xr[j] = a.x + (t + j) * a.cols;
  V res[GB][TB];
  zero_tile(res);
  if constexpr (ORDER == Order::Reproducible && GB * TB > 8) {
    // Large tiles: the chunk sums r = p0, r = r + p_c live in memory (once per
    // 256 columns), so all registers go to the GB x TB running chains.
    alignas(64) float partial[GB][TB][kLanes];
    for (int64_t c0 = 0; c0 < a.cols; c0 += kChunk) {
      V acc[1][GB][TB];
      zero_tile(acc[0]);
      accumulate<V, DT, GB, TB, 1>(gp, xr, c0, min64(a.cols, c0 + kChunk), acc);
      for (int i = 0; i < GB; ++i)
        for (int j = 0; j < TB; ++j)
          (c0 == 0 ? acc[0][i][j] : vadd(V::load(partial[i][j]), acc[0][i][j])).store(partial[i][j]);
    }
    for (int i = 0; i < GB; ++i)
      for (int j = 0; j < TB; ++j) res[i][j] = V::load(partial[i][j]);
  } else if constexpr (ORDER == Order::Reproducible) {
    for (int64_t c0 = 0; c0 < a.cols; c0 += kChunk) {
      V acc[1][GB][TB];
      zero_tile(acc[0]);
      accumulate<V, DT, GB, TB, 1>(gp, xr, c0, min64(a.cols, c0 + kChunk), acc);
      for (int i = 0; i < GB; ++i)
        for (int j = 0; j < TB; ++j) res[i][j] = (c0 == 0) ? acc[0][i][j] : vadd(res[i][j], acc[0][i][j]);
    }
  } else {
    // Deterministic: no chunks; a single token gets two interleaved chains per
    // lane (more fma latency hidden), combined once at the end.
    constexpr int NACC = TB == 1 ? 2 : 1;
    V acc[NACC][GB][TB];
    for (int s = 0; s < NACC; ++s) zero_tile(acc[s]);
    accumulate<V, DT, GB, TB, NACC>(gp, xr, a.k_begin, a.k_end, acc);
    for (int i = 0; i < GB; ++i)
      for (int j = 0; j < TB; ++j) res[i][j] = NACC == 2 ? vadd(acc[0][i][j], acc[NACC - 1][i][j]) : acc[0][i][j];
  }
  store_tile(a, res, g, t);
}

// Tile shapes of one path: decode runs GB_ONE groups of one token; prefill
// blocks TB_MANY tokens over GB_MANY groups so each loaded weight serves
// several tokens. Shapes change speed only, never values.
template <int GB_ONE, int GB_MANY, int TB_MANY>
struct Tiles {
  static constexpr int kGroupsOne = GB_ONE;
  static constexpr int kGroupsMany = GB_MANY;
  static constexpr int kTokensMany = TB_MANY;
};

template <class V, DType DT, Order ORDER, class TILES>
void matmul_range_typed(const MatmulArgs& a, int64_t g0, int64_t g1, int64_t t0, int64_t t1) {
  constexpr int GBM = TILES::kGroupsMany, TBM = TILES::kTokensMany, GB1 = TILES::kGroupsOne;
  const int64_t t_blocked = t0 + (t1 - t0) / TBM * TBM;
  if (t_blocked > t0) {
    for (int64_t g = g0; g < g1; g += GBM) {
      const bool full = g + GBM <= g1;
      for (int64_t t = t0; t < t_blocked; t += TBM) {
        if (full) {
          matmul_tile<V, DT, ORDER, GBM, TBM>(a, g, t);
        } else {
          for (int64_t gi = g; gi < g1; ++gi) matmul_tile<V, DT, ORDER, 1, TBM>(a, gi, t);
        }
      }
    }
  }
  for (int64_t t = t_blocked; t < t1; ++t) {
    int64_t g = g0;
    for (; g + GB1 <= g1; g += GB1) matmul_tile<V, DT, ORDER, GB1, 1>(a, g, t);
    for (; g < g1; ++g) matmul_tile<V, DT, ORDER, 1, 1>(a, g, t);
  }
}

template <class V, Order ORDER, class TILES>
void matmul_range(const MatmulArgs& a, int64_t g0, int64_t g1, int64_t t0, int64_t t1) {
  switch (a.dtype) {
    case DType::F32: return matmul_range_typed<V, DType::F32, ORDER, TILES>(a, g0, g1, t0, t1);
    case DType::F16: return matmul_range_typed<V, DType::F16, ORDER, TILES>(a, g0, g1, t0, t1);
    case DType::BF16: return matmul_range_typed<V, DType::BF16, ORDER, TILES>(a, g0, g1, t0, t1);
    case DType::Q8_0: return matmul_range_typed<V, DType::Q8_0, ORDER, TILES>(a, g0, g1, t0, t1);
  }
}

// ------------------------------------------------------------- attention ----
//
// One work item is (token t, kv head): the query heads that share that kv head
// are computed together so that each gathered key vector and each loaded value
// vector serves several heads, and their independent fma chains overlap.
// Every (t, head) value is still computed alone, in the contract's order.

// s_h[j..j+15] = D(q_h, k_j, hd) * scale for HB heads; lane = position, each
// lane the contract's chain over d (k_j gathered by stride).
template <class V, int HB>
inline void attention_score_block(const float* const* q, const float* k0, int64_t stride, int hd, float scale,
                                  float* const* s, int64_t j) {
  V res[HB];
  for (int h = 0; h < HB; ++h) res[h] = V::zero();
  for (int c0 = 0; c0 < hd; c0 += kChunk) {
    const int c1 = int(min64(hd, c0 + kChunk));
    V acc[HB];
    for (int h = 0; h < HB; ++h) acc[h] = V::zero();
    for (int d = c0; d < c1; ++d) {
      const V kv = V::gather(k0 + d, stride);
      for (int h = 0; h < HB; ++h) acc[h] = vfma(V::bcast(q[h][d]), kv, acc[h]);
    }
    for (int h = 0; h < HB; ++h) res[h] = (c0 == 0) ? acc[h] : vadd(res[h], acc[h]);
  }
  for (int h = 0; h < HB; ++h) vmul(res[h], V::bcast(scale)).store(s[h] + j);
}

template <class V, int HB>
inline void attention_scores(const float* const* q, const float* kb, int64_t stride, int hd, int64_t npos, float scale,
                             float* const* s) {
  int64_t j = 0;
  for (; j + kLanes <= npos; j += kLanes) attention_score_block<V, HB>(q, kb + j * stride, stride, hd, scale, s, j);
  for (; j < npos; ++j)
    for (int h = 0; h < HB; ++h) s[h][j] = dot_contract(q[h], kb + j * stride, hd) * scale;
}

// e[j] = exp(s[j] - m) in place; returns S, the chunked sum of e over
// absolute positions (chunks of 256 starting at position 0).
template <class V>
inline float attention_weights(float* s, int64_t npos) {
  float m = s[0];
  for (int64_t j = 1; j < npos; ++j) m = s[j] > m ? s[j] : m;
  int64_t j = 0;
  for (; j + kLanes <= npos; j += kLanes) vexp(vsub(V::load(s + j), V::bcast(m))).store(s + j);
  for (; j < npos; ++j) s[j] = contract_expf(s[j] - m);
  float total = 0.0f;
  for (int64_t c0 = 0; c0 < npos; c0 += kChunk) {
    const int64_t c1 = min64(npos, c0 + kChunk);
    float acc = 0.0f;
    for (int64_t i = c0; i < c1; ++i) acc = acc + s[i];
    total = (c0 == 0) ? acc : total + acc;
  }
  return total;
}

// out_h[d] = o_h[d] / S_h, o_h[d] = chunked sum of fma(e_h[j], v_j[d], acc);
// lane = d; NB vectors of d for HB heads (each v_j vector loaded once).
template <class V, int HB, int NB>
inline void attention_output_block(const float* const* e, const float* vb, int64_t stride, int64_t npos,
                                   const float* total, float* const* out, int d0) {
  V res[HB][NB];
  for (int h = 0; h < HB; ++h)
    for (int b = 0; b < NB; ++b) res[h][b] = V::zero();
  for (int64_t c0 = 0; c0 < npos; c0 += kChunk) {
    const int64_t c1 = min64(npos, c0 + kChunk);
    V acc[HB][NB];
    for (int h = 0; h < HB; ++h)
      for (int b = 0; b < NB; ++b) acc[h][b] = V::zero();
    for (int64_t j = c0; j < c1; ++j) {
      const float* vrow = vb + j * stride + d0;
      V vv[NB];
      for (int b = 0; b < NB; ++b) vv[b] = V::load(vrow + b * kLanes);
      for (int h = 0; h < HB; ++h) {
        const V ej = V::bcast(e[h][j]);
        for (int b = 0; b < NB; ++b) acc[h][b] = vfma(ej, vv[b], acc[h][b]);
      }
    }
    for (int h = 0; h < HB; ++h)
      for (int b = 0; b < NB; ++b) res[h][b] = (c0 == 0) ? acc[h][b] : vadd(res[h][b], acc[h][b]);
  }
  for (int h = 0; h < HB; ++h)
    for (int b = 0; b < NB; ++b) vdiv(res[h][b], V::bcast(total[h])).store(out[h] + d0 + b * kLanes);
}

template <class V, int HB>
inline void attention_output(const float* const* e, const float* vb, int64_t stride, int hd, int64_t npos,
                             const float* total, float* const* out) {
  int d = 0;
  for (; d + 4 * kLanes <= hd; d += 4 * kLanes) attention_output_block<V, HB, 4>(e, vb, stride, npos, total, out, d);
  for (; d + kLanes <= hd; d += kLanes) attention_output_block<V, HB, 1>(e, vb, stride, npos, total, out, d);
  for (; d < hd; ++d) {
    for (int h = 0; h < HB; ++h) {
      float r = 0.0f;
      for (int64_t c0 = 0; c0 < npos; c0 += kChunk) {
        const int64_t c1 = min64(npos, c0 + kChunk);
        float acc = 0.0f;
        for (int64_t j = c0; j < c1; ++j) acc = contract_fmaf(e[h][j], vb[j * stride + d], acc);
        r = (c0 == 0) ? acc : r + acc;
      }
      out[h][d] = r / total[h];
    }
  }
}

// HB query heads h0..h0+HB-1 of token t, all attending to the same kv head.
template <class V, int HB>
inline void attention_heads(const AttentionArgs& a, int64_t t, int h0, float* scratch) {
  const AttentionShape& sh = a.shape;
  const int hd = sh.head_dim;
  const int64_t row = int64_t(sh.n_heads) * hd;
  const int64_t npos = a.pos0 + t + 1;
  const int64_t kv_off = int64_t(h0 / (sh.n_heads / sh.n_kv_heads)) * hd;
  const float scale = 1.0f / __builtin_sqrtf(float(hd));
  const float* q[HB];
  float* s[HB];
  float* out[HB];
  float total[HB];
  for (int h = 0; h < HB; ++h) {
    q[h] = a.q + t * row + int64_t(h0 + h) * hd;
    s[h] = scratch + h * npos;
    out[h] = a.out + t * row + int64_t(h0 + h) * hd;
  }
  attention_scores<V, HB>(q, a.k_cache + kv_off, sh.kv_stride, hd, npos, scale, s);
  for (int h = 0; h < HB; ++h) total[h] = attention_weights<V>(s[h], npos);
  attention_output<V, HB>(s, a.v_cache + kv_off, sh.kv_stride, hd, npos, total, out);
}

template <class V>
void attention_items(const AttentionArgs& a, int64_t i0, int64_t i1, float* scratch) {
  const AttentionShape& sh = a.shape;
  const int heads_per_kv = sh.n_heads / sh.n_kv_heads;
  for (int64_t item = i0; item < i1; ++item) {
    const int64_t t = item / sh.n_kv_heads;
    const int h_first = int(item % sh.n_kv_heads) * heads_per_kv;
    int h = 0;
    for (; h + 4 <= heads_per_kv; h += 4) attention_heads<V, 4>(a, t, h_first + h, scratch);
    for (; h + 2 <= heads_per_kv; h += 2) attention_heads<V, 2>(a, t, h_first + h, scratch);
    for (; h < heads_per_kv; ++h) attention_heads<V, 1>(a, t, h_first + h, scratch);
  }
}

}  // namespace
}  // namespace ree::kernels

#include "kernels/attention_blocks_impl.h"

namespace ree::kernels {
namespace {

// ------------------------------------------------------------ element ops ----

template <class V>
void scale_mul(const float* x, float inv, const float* w, int64_t n, float* y) {
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) vmul(vmul(V::load(x + i), V::bcast(inv)), V::load(w + i)).store(y + i);
  for (; i < n; ++i) y[i] = (x[i] * inv) * w[i];
}

// x0' = x0*c - x1*s, x1' = x0*s + x1*c, each product rounded (no fma).
template <class V>
void rope_row(float* x, const float* cs, const float* sn, int head_dim, int n_heads) {
  const int half = head_dim / 2;
  for (int h = 0; h < n_heads; ++h) {
    float* x0p = x + int64_t(h) * head_dim;
    float* x1p = x0p + half;
    int i = 0;
    for (; i + kLanes <= half; i += kLanes) {
      const V x0 = V::load(x0p + i), x1 = V::load(x1p + i), c = V::load(cs + i), s = V::load(sn + i);
      const V n0 = vsub(vmul(x0, c), vmul(x1, s));
      const V n1 = vadd(vmul(x0, s), vmul(x1, c));
      n0.store(x0p + i);
      n1.store(x1p + i);
    }
    for (; i < half; ++i) {
      const float x0 = x0p[i], x1 = x1p[i];
      x0p[i] = x0 * cs[i] - x1 * sn[i];
      x1p[i] = x0 * sn[i] + x1 * cs[i];
    }
  }
}

template <class V>
void swiglu(const float* g, const float* u, int64_t n, float* h) {
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    const V gv = V::load(g + i);
    const V silu = vdiv(gv, vadd(V::bcast(1.0f), vexp(vneg(gv))));
    vmul(silu, V::load(u + i)).store(h + i);
  }
  for (; i < n; ++i) h[i] = contract_silu(g[i]) * u[i];
}

template <class V>
void exp_n(const float* x, int64_t n, float* y) {
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) vexp(V::load(x + i)).store(y + i);
  for (; i < n; ++i) y[i] = contract_expf(x[i]);
}

template <class V, class TILES>
constexpr KernelTable make_kernel_table(SimdPath path) {
  KernelTable t;
  t.path = path;
  t.matmul_reproducible = &matmul_range<V, Order::Reproducible, TILES>;
  t.matmul_deterministic = &matmul_range<V, Order::Deterministic, TILES>;
  t.attention = &attention_items<V>;
  t.attention_blocks = &attention_block_items<V>;
  t.dot = &dot_contract;
  t.scale_mul = &scale_mul<V>;
  t.rope_row = &rope_row<V>;
  t.swiglu = &swiglu<V>;
  t.exp_n = &exp_n<V>;
  return t;
}

}  // namespace
}  // namespace ree::kernels
