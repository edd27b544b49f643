#pragma once
// Prefill attention over blocks of up to 16 query tokens (included by
// kernels_impl.h, after the per-token attention it falls back to; same V and
// same internal linkage).
//
// Why: the per-token path makes each SIMD lane a key position and has to
// gather every key element by stride; teacher-forced replay and long prefills
// spent a quarter of their time there. Here a lane is a *query token* of the
// block: the key element k_j[d] is one broadcast, q is transposed once per
// block, and each loaded value vector serves four tokens. Every value is still
// computed alone, in repro-v1's order (the same operations as
// attention_heads, lane for lane):
//   scores  s_j = D(q, k_j, hd) * scale     lane = token, chain over d
//   max     m = s_0; m = s_j > m ? s_j : m  in j order, lane = token
//   weights e_j = exp(s_j - m); S = chunked sum over j (chunks of 256
//           absolute positions), lane = token
//   output  o[d] = chunked sum of fma(e_j, v_j[d], acc); out = o / S,
//           lane = d, four tokens at once
// A token attends to fewer positions than the block's last token. Its missing
// scores are set to -inf before the max (an ordered compare never picks
// them) and its missing weights to +0 before S (acc + 0 is acc: the partial
// sums of weights are never -0), and the value sums skip those positions
// outright (fma(0, v, acc) would not be neutral for an infinite v or a -0
// acc).

namespace ree::kernels {
namespace {

inline constexpr int kBlockTokens = kLanes;  // query tokens per block (one lane each)
inline constexpr int kMinBlockTokens = 8;    // smaller blocks run the per-token path

// Tokens t0 .. t0+nt-1 of one call; token l sits at absolute position first + l
// and attends to positions 0 .. first + l.
struct TokenBlock {
  int64_t t0;
  int nt;
  int64_t first;
  int64_t npos(int l) const { return first + l + 1; }
  int64_t npos_max() const { return first + nt; }
};

// s[(j + b) * 16 + l] = D(q_l, k_{j+b}, hd) * scale for b < JB; qt is q
// transposed ([d][16 tokens]).
template <class V, int JB>
inline void block_scores(const float* qt, const float* kj, int64_t stride, int hd, float scale, float* s) {
  V res[JB];
  for (int b = 0; b < JB; ++b) res[b] = V::zero();  // (overwritten by chunk 0; keeps -Wmaybe-uninitialized quiet)
  for (int c0 = 0; c0 < hd; c0 += kChunk) {
    const int c1 = int(min64(hd, c0 + kChunk));
    V acc[JB];
    for (int b = 0; b < JB; ++b) acc[b] = V::zero();
    for (int d = c0; d < c1; ++d) {
      const V q = V::load(qt + d * kLanes);
      for (int b = 0; b < JB; ++b) acc[b] = vfma(q, V::bcast(kj[b * stride + d]), acc[b]);
    }
    for (int b = 0; b < JB; ++b) res[b] = (c0 == 0) ? acc[b] : vadd(res[b], acc[b]);
  }
  for (int b = 0; b < JB; ++b) vmul(res[b], V::bcast(scale)).store(s + b * kLanes);
}

// Scores, max, weights in place and the totals S of every token of the block.
template <class V>
inline void block_weights(const TokenBlock& tb, const float* qt, const float* kb, int64_t stride, int hd,
                          float* s, float* total) {
  const float scale = 1.0f / __builtin_sqrtf(float(hd));
  const int64_t n = tb.npos_max();
  int64_t j = 0;
  for (; j + 8 <= n; j += 8) block_scores<V, 8>(qt, kb + j * stride, stride, hd, scale, s + j * kLanes);
  for (; j < n; ++j) block_scores<V, 1>(qt, kb + j * stride, stride, hd, scale, s + j * kLanes);
  // positions first+1 .. n-1 are missing for the block's earlier tokens
  for (j = tb.first + 1; j < n; ++j)
    for (int l = 0; l < int(j - tb.first); ++l) s[j * kLanes + l] = -__builtin_inff();
  V m = V::load(s);  // position 0: every token attends to it
  for (j = 1; j < n; ++j) m = vpick_greater(V::load(s + j * kLanes), m);
  for (j = 0; j < n; ++j) vexp(vsub(V::load(s + j * kLanes), m)).store(s + j * kLanes);
  for (j = tb.first + 1; j < n; ++j)
    for (int l = 0; l < int(j - tb.first); ++l) s[j * kLanes + l] = 0.0f;
  V sum = V::zero();
  for (int64_t c0 = 0; c0 < n; c0 += kChunk) {
    const int64_t c1 = min64(n, c0 + kChunk);
    V acc = V::zero();
    for (j = c0; j < c1; ++j) acc = vadd(acc, V::load(s + j * kLanes));
    sum = (c0 == 0) ? acc : vadd(sum, acc);
  }
  sum.store(total);
}

// out_l[d0 .. d0+16*NB) for the TB tokens l0 .. l0+TB-1; e is [position][16].
template <class V, int TB, int NB>
inline void block_output(const TokenBlock& tb, int l0, const float* e, const float* vb, int64_t stride,
                         const float* total, float* const* out, int d0) {
  const int64_t n_all = tb.npos(l0);          // positions every one of the TB tokens attends to
  const int64_t n_last = tb.npos(l0 + TB - 1);
  V res[TB][NB];
  for (int i = 0; i < TB; ++i)
    for (int b = 0; b < NB; ++b) res[i][b] = V::zero();  // (overwritten by chunk 0, which every token has)
  for (int64_t c0 = 0; c0 < n_last; c0 += kChunk) {
    const int64_t c1 = min64(n_last, c0 + kChunk);
    V acc[TB][NB];
    for (int i = 0; i < TB; ++i)
      for (int b = 0; b < NB; ++b) acc[i][b] = V::zero();
    for (int64_t j = c0; j < min64(c1, n_all); ++j) {
      const float* vrow = vb + j * stride + d0;
      V vv[NB];
      for (int b = 0; b < NB; ++b) vv[b] = V::load(vrow + b * kLanes);
      for (int i = 0; i < TB; ++i) {
        const V ej = V::bcast(e[j * kLanes + l0 + i]);
        for (int b = 0; b < NB; ++b) acc[i][b] = vfma(ej, vv[b], acc[i][b]);
      }
    }
    // the last positions of the chunk, which only the later tokens attend to
    for (int i = 1; i < TB; ++i) {
      for (int64_t j = c0 > n_all ? c0 : n_all; j < min64(c1, tb.npos(l0 + i)); ++j) {
        const V ej = V::bcast(e[j * kLanes + l0 + i]);
        for (int b = 0; b < NB; ++b) acc[i][b] = vfma(ej, V::load(vb + j * stride + d0 + b * kLanes), acc[i][b]);
      }
    }
    for (int i = 0; i < TB; ++i) {
      if (tb.npos(l0 + i) <= c0) continue;  // this chunk does not exist for that token
      for (int b = 0; b < NB; ++b) res[i][b] = (c0 == 0) ? acc[i][b] : vadd(res[i][b], acc[i][b]);
    }
  }
  for (int i = 0; i < TB; ++i)
    for (int b = 0; b < NB; ++b) vdiv(res[i][b], V::bcast(total[l0 + i])).store(out[l0 + i] + d0 + b * kLanes);
}

// One output element of token l at dimension d, serially (head sizes that are
// not a multiple of 16).
inline float block_output_scalar(const TokenBlock& tb, int l, const float* e, const float* vb, int64_t stride, int d,
                                 float total) {
  const int64_t n = tb.npos(l);
  float r = 0.0f;
  for (int64_t c0 = 0; c0 < n; c0 += kChunk) {
    const int64_t c1 = min64(n, c0 + kChunk);
    float acc = 0.0f;
    for (int64_t j = c0; j < c1; ++j) acc = contract_fmaf(e[j * kLanes + l], vb[j * stride + d], acc);
    r = (c0 == 0) ? acc : r + acc;
  }
  return r / total;
}

template <class V, int TB>
inline void block_output_tokens(const TokenBlock& tb, int l0, const float* e, const float* vb, int64_t stride, int hd,
                                const float* total, float* const* out) {
  int d = 0;
  for (; d + 2 * kLanes <= hd; d += 2 * kLanes) block_output<V, TB, 2>(tb, l0, e, vb, stride, total, out, d);
  for (; d + kLanes <= hd; d += kLanes) block_output<V, TB, 1>(tb, l0, e, vb, stride, total, out, d);
  for (; d < hd; ++d)
    for (int i = 0; i < TB; ++i) out[l0 + i][d] = block_output_scalar(tb, l0 + i, e, vb, stride, d, total[l0 + i]);
}

// Query head h for the tokens of the block. scratch: 16 * (hd + npos_max) floats.
template <class V>
inline void block_head(const AttentionArgs& a, const TokenBlock& tb, int h, float* scratch) {
  const AttentionShape& sh = a.shape;
  const int hd = sh.head_dim;
  const int64_t row = int64_t(sh.n_heads) * hd;
  const int64_t kv_off = int64_t(h / (sh.n_heads / sh.n_kv_heads)) * hd;
  float* qt = scratch;
  float* s = scratch + int64_t(hd) * kLanes;
  float total[kLanes];
  float* out[kLanes];
  for (int d = 0; d < hd; ++d)
    for (int l = 0; l < kLanes; ++l) qt[d * kLanes + l] = l < tb.nt ? a.q[(tb.t0 + l) * row + int64_t(h) * hd + d] : 0.0f;
  for (int l = 0; l < tb.nt; ++l) out[l] = a.out + (tb.t0 + l) * row + int64_t(h) * hd;
  block_weights<V>(tb, qt, a.k_cache + kv_off, sh.kv_stride, hd, s, total);
  int l = 0;
  for (; l + 4 <= tb.nt; l += 4) block_output_tokens<V, 4>(tb, l, s, a.v_cache + kv_off, sh.kv_stride, hd, total, out);
  for (; l < tb.nt; ++l) block_output_tokens<V, 1>(tb, l, s, a.v_cache + kv_off, sh.kv_stride, hd, total, out);
}

// Items [i0, i1) of blocks * n_kv_heads (item = block * n_kv_heads + kv head).
template <class V>
void attention_block_items(const AttentionArgs& a, int64_t i0, int64_t i1, float* scratch) {
  const AttentionShape& sh = a.shape;
  const int heads_per_kv = sh.n_heads / sh.n_kv_heads;
  for (int64_t item = i0; item < i1; ++item) {
    const int64_t block = item / sh.n_kv_heads;
    const int kvh = int(item % sh.n_kv_heads);
    TokenBlock tb;
    tb.t0 = block * kBlockTokens;
    tb.nt = int(min64(kBlockTokens, a.t_count - tb.t0));
    tb.first = a.pos0 + tb.t0;
    if (tb.nt < kMinBlockTokens) {
      // a short last block: per token (its item order is (token, kv head))
      for (int64_t t = tb.t0; t < tb.t0 + tb.nt; ++t) {
        const int64_t per_token_item = t * sh.n_kv_heads + kvh;
        attention_items<V>(a, per_token_item, per_token_item + 1, scratch);
      }
      continue;
    }
    for (int h = kvh * heads_per_kv; h < (kvh + 1) * heads_per_kv; ++h) block_head<V>(a, tb, h, scratch);
  }
}

}  // namespace
}  // namespace ree::kernels
