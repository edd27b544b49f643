// attention: every SIMD path and thread count gives the bits of the contract's
// attention (written out below); prefill equals decode one position at a time,
// also across the 256-position chunk boundary.
#include <doctest/doctest.h>

#include <cmath>

#include "kernel_test_util.h"
#include "kernels/contract_math.h"

using namespace ree::kernels;
using namespace ree::kernels::test;

namespace {

struct Case {
  AttentionShape shape;
  int64_t positions;  // cache length
  std::vector<float> q, k, v;
};

Case make_case(int heads, int kv_heads, int hd, int64_t positions, int64_t t, float q_scale, Rng& rng) {
  Case c;
  c.shape = AttentionShape{heads, kv_heads, hd, int64_t(kv_heads) * hd + 3};  // padded rows
  c.positions = positions;
  c.q = rng.vec(size_t(t * heads * hd), q_scale);
  c.k = rng.vec(size_t(positions * c.shape.kv_stride));
  c.v = rng.vec(size_t(positions * c.shape.kv_stride));
  return c;
}

// repro-v1 attention for query row t at position pos0 + t, from the contract text.
std::vector<float> reference(const Case& c, const float* q_rows, int64_t t_count, int64_t pos0) {
  const auto& s = c.shape;
  const int hd = s.head_dim;
  const float scale = 1.0f / std::sqrt(float(hd));
  std::vector<float> out(size_t(t_count * s.n_heads * hd));
  for (int64_t t = 0; t < t_count; ++t) {
    const int64_t p = pos0 + t;
    for (int h = 0; h < s.n_heads; ++h) {
      const int kvh = h / (s.n_heads / s.n_kv_heads);
      const float* q = q_rows + (t * s.n_heads + h) * hd;
      std::vector<float> sc(size_t(p + 1));
      for (int64_t j = 0; j <= p; ++j) sc[size_t(j)] = contract_dot(q, c.k.data() + j * s.kv_stride + kvh * hd, hd) * scale;
      float m = -INFINITY;
      for (float x : sc) m = x > m ? x : m;
      for (float& x : sc) x = contract_expf(x - m);
      float total = 0.0f;
      for (int64_t c0 = 0; c0 <= p; c0 += 256) {
        float acc = 0.0f;
        for (int64_t j = c0; j <= p && j < c0 + 256; ++j) acc = acc + sc[size_t(j)];
        total = c0 == 0 ? acc : total + acc;
      }
      for (int d = 0; d < hd; ++d) {
        float o = 0.0f;
        for (int64_t c0 = 0; c0 <= p; c0 += 256) {
          float acc = 0.0f;
          for (int64_t j = c0; j <= p && j < c0 + 256; ++j)
            acc = std::fma(sc[size_t(j)], c.v[size_t(j * s.kv_stride + kvh * hd + d)], acc);
          o = c0 == 0 ? acc : o + acc;
        }
        out[size_t((t * s.n_heads + h) * hd + d)] = o / total;
      }
    }
  }
  return out;
}

std::vector<float> run(const Exec& ex, const Case& c, const float* q_rows, int64_t t, int64_t pos0) {
  std::vector<float> out(size_t(t * c.shape.n_heads * c.shape.head_dim), -7.0f);
  attention(ex, c.shape, q_rows, t, pos0, c.k.data(), c.v.data(), out.data());
  return out;
}

}  // namespace

TEST_CASE("attention: all paths and thread counts equal the contract, bit for bit") {
  Pools pools;
  Rng rng(40);
  struct Shape {
    int heads, kv_heads, hd;
  };
  for (Shape sh : {Shape{4, 2, 16}, Shape{6, 3, 20}, Shape{2, 1, 64}, Shape{2, 2, 72}, Shape{1, 1, 288}}) {
    for (float q_scale : {1.0f, 40.0f}) {  // 40: peaked softmax, most weights underflow
      for (int64_t pos0 : {0, 5, 40}) {
        const int64_t t = 7;
        const Case c = make_case(sh.heads, sh.kv_heads, sh.hd, pos0 + t, t, q_scale, rng);
        const auto want = reference(c, c.q.data(), t, pos0);
        for (SimdPath p : supported_paths())
          for (ThreadPool* pool : pools.all()) {
            CAPTURE(sh.hd);
            CAPTURE(pos0);
            CAPTURE(q_scale);
            CAPTURE(simd_name(p));
            REQUIRE(same_bits(run(Exec{p, Mode::Reproducible, pool}, c, c.q.data(), t, pos0), want));
          }
      }
    }
  }
}

TEST_CASE("attention: prefill in blocks of query rows equals the contract, bit for bit") {
  // From 8 query rows on, prefill makes each lane a query row of a 16-row
  // block (attention_blocks_impl.h); short last blocks fall back to the
  // per-row path. Row counts straddle both, positions straddle 256-chunks,
  // and edge values sit in the rows that only later tokens of a block see.
  Pools pools;
  Rng rng(44);
  struct Shape {
    int heads, kv_heads, hd;
  };
  for (Shape sh : {Shape{4, 2, 16}, Shape{6, 3, 20}, Shape{2, 1, 64}, Shape{1, 1, 288}}) {
    for (int64_t t : {8, 16, 23, 37}) {
      for (int64_t pos0 : {0, 5, 245}) {
        Case c = make_case(sh.heads, sh.kv_heads, sh.hd, pos0 + t, t, 3.0f, rng);
        const int64_t stride = c.shape.kv_stride;
        c.v[size_t((pos0 + 3) * stride + 1)] = INFINITY;  // seen by rows 3.. only
        c.v[size_t((pos0 + 2) * stride + 2)] = -0.0f;
        c.k[size_t((pos0 + 5) * stride)] = 1e-40f;
        const auto want = reference(c, c.q.data(), t, pos0);
        for (SimdPath p : supported_paths())
          for (ThreadPool* pool : {static_cast<ThreadPool*>(nullptr), &pools.two, &pools.three}) {
            CAPTURE(sh.hd);
            CAPTURE(t);
            CAPTURE(pos0);
            CAPTURE(simd_name(p));
            REQUIRE(same_bits(run(Exec{p, Mode::Reproducible, pool}, c, c.q.data(), t, pos0), want));
          }
      }
    }
  }
  // a softmax where every score of a row is -inf or one position dominates
  Case c = make_case(2, 2, 32, 40, 20, 1.0f, rng);
  for (int d = 0; d < 32; ++d) c.q[size_t(d)] = 1e30f;  // row 0, head 0: scores overflow to +-inf
  const auto want = reference(c, c.q.data(), 20, 20);
  for (SimdPath p : supported_paths())
    CHECK(same_bits(run(Exec{p, Mode::Reproducible, &pools.two}, c, c.q.data(), 20, 20), want));
}

TEST_CASE("attention: 600-position prefill equals decode one by one, across the 256 chunk boundary") {
  Pools pools;
  Rng rng(41);
  const int64_t t = 600;
  const Case c = make_case(4, 2, 64, t, t, 2.0f, rng);
  const int64_t row = 4 * 64;
  const auto prefill = run(Exec{detect_simd(), Mode::Reproducible, &pools.two}, c, c.q.data(), t, 0);
  for (int64_t pos : {int64_t(0), int64_t(1), int64_t(37), int64_t(254), int64_t(255), int64_t(256),
                      int64_t(257), int64_t(300), int64_t(511), int64_t(512), int64_t(513), int64_t(599)}) {
    const float* q = c.q.data() + pos * row;
    const auto want = reference(c, q, 1, pos);
    REQUIRE(same_bits(prefill.data() + pos * row, want.data(), size_t(row)));
    for (SimdPath p : supported_paths()) {
      CAPTURE(pos);
      CAPTURE(simd_name(p));
      REQUIRE(same_bits(run(Exec{p, Mode::Reproducible, nullptr}, c, q, 1, pos), want));
    }
  }
  // a prefill chunk in the middle (rows 250..269 at positions 250..269)
  const auto middle = run(Exec{SimdPath::Scalar, Mode::Reproducible, &pools.three}, c, c.q.data() + 250 * row, 20, 250);
  CHECK(same_bits(middle.data(), prefill.data() + 250 * row, size_t(20 * row)));
}

TEST_CASE("attention: edge values in the cache propagate as the contract says") {
  Rng rng(42);
  Case c = make_case(2, 1, 32, 40, 1, 1.0f, rng);
  c.v[size_t(3 * c.shape.kv_stride + 5)] = INFINITY;  // one v element inf: out[5] = inf (weights > 0)
  c.k[size_t(7 * c.shape.kv_stride + 1)] = 1e-40f;     // subnormal key element
  c.v[size_t(8 * c.shape.kv_stride + 6)] = -0.0f;
  const auto want = reference(c, c.q.data(), 1, 39);
  for (SimdPath p : supported_paths()) {
    const auto got = run(Exec{p}, c, c.q.data(), 1, 39);
    CHECK(same_bits(got, want));
    CHECK(got[5] == INFINITY);
  }
}

TEST_CASE("attention: bad shapes are errors") {
  std::vector<float> buf(64, 0.0f);
  CHECK_THROWS_AS(attention(Exec{}, AttentionShape{3, 2, 8, 16}, buf.data(), 1, 0, buf.data(), buf.data(), buf.data()),
                  ree::Error);
  CHECK_THROWS_AS(attention(Exec{}, AttentionShape{2, 2, 8, 8}, buf.data(), 1, 0, buf.data(), buf.data(), buf.data()),
                  ree::Error);
  CHECK_THROWS_AS(attention(Exec{}, AttentionShape{2, 2, 0, 8}, buf.data(), 1, 0, buf.data(), buf.data(), buf.data()),
                  ree::Error);
}

TEST_CASE("attention: reproducible stays within a rounding-error bound of a long double softmax") {
  // Each output is a weighted mean of v values with weights e_j / S. Error
  // sources: the score dot (hd fmas, amplified by exp into a relative error of
  // about |s| * hd * u), exp (< 1 ulp), and the chunked sums of at most
  // 256 + ceil(npos/256) roundings for S and for o. With |s| <= ~4 here the
  // total stays below (4 * hd + 2 * 260 + 4) * u of max|v|.
  Rng rng(43);
  const int hd = 64;
  const int64_t positions = 600;
  const Case c = make_case(2, 1, hd, positions, 1, 2.0f, rng);
  const auto got = run(Exec{detect_simd()}, c, c.q.data(), 1, positions - 1);
  const double u = 0x1p-24, bound = (4.0 * hd + 2 * 260 + 4) * u;
  double worst = 0;
  for (int h = 0; h < 2; ++h) {
    const float* q = c.q.data() + h * hd;
    std::vector<long double> s(static_cast<size_t>(positions));
    long double m = -INFINITY;
    for (int64_t j = 0; j < positions; ++j) {
      long double d = 0;
      for (int i = 0; i < hd; ++i) d += (long double)q[i] * c.k[size_t(j * c.shape.kv_stride + i)];
      s[size_t(j)] = d / sqrtl((long double)hd);
      m = std::max(m, s[size_t(j)]);
    }
    long double total = 0;
    for (auto& x : s) total += (x = expl(x - m));
    for (int d = 0; d < hd; ++d) {
      long double o = 0;
      for (int64_t j = 0; j < positions; ++j) o += s[size_t(j)] * c.v[size_t(j * c.shape.kv_stride + d)];
      worst = std::max(worst, double(fabsl(got[size_t(h * hd + d)] - o / total)));  // |v| <= 1
    }
  }
  MESSAGE("attention 600 positions: max |out - long double| = " << worst << " (bound " << bound << ")");
  CHECK(worst <= bound);
}
