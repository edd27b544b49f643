// rmsnorm, rope, swiglu, add_inplace, dot, hashes and argmax: every SIMD path
// and thread count gives the bits of the contract's formula, written out here.
#include <doctest/doctest.h>
#include <xxhash.h>

#include <cmath>

#include "kernel_test_util.h"
#include "kernels/contract_math.h"
#include "kernels/membw.h"

using namespace ree::kernels;
using namespace ree::kernels::test;

namespace {
const std::vector<int64_t> kAwkward = {1, 15, 16, 17, 31, 255, 256, 257, 1000, 2049};
}

TEST_CASE("dot: the contract's chunked fma chain") {
  Rng rng(30);
  for (int64_t k : kAwkward) {
    const auto a = rng.vec(size_t(k)), b = rng.vec(size_t(k));
    const float want = contract_dot(a.data(), b.data(), k);
    CHECK(bits_of(dot(a.data(), b.data(), k)) == bits_of(want));
  }
  CHECK(bits_of(dot(nullptr, nullptr, 0)) == 0u);
  // chunk boundary: 256 ones then 1e8 * 1: chunked = 256 + 1e8, plain fma chain differs
  std::vector<float> a(257, 1.0f), b(257, 1.0f);
  b[256] = 1e8f;
  CHECK(dot(a.data(), b.data(), 257) == 256.0f + 1e8f);
}

TEST_CASE("rmsnorm: paths and threads equal the contract formula") {
  Pools pools;
  Rng rng(31);
  for (int64_t n : kAwkward) {
    const int64_t t = 5;
    auto x = rng.vec(size_t(t * n), 3.0f);
    if (n > 20) {
      x[3] = 1e-40f;  // subnormal
      x[4] = -0.0f;
    }
    const auto w = rng.vec(size_t(n));
    const float eps = 1e-5f;
    std::vector<float> want(x.size());
    for (int64_t r = 0; r < t; ++r) {
      const float* xr = x.data() + r * n;
      const float ss = contract_dot(xr, xr, n);
      const float inv = 1.0f / std::sqrt(ss / float(n) + eps);
      for (int64_t i = 0; i < n; ++i) want[size_t(r * n + i)] = (xr[i] * inv) * w[size_t(i)];
    }
    for (SimdPath p : supported_paths())
      for (ThreadPool* pool : pools.all()) {
        CAPTURE(n);
        CAPTURE(simd_name(p));
        std::vector<float> y(x.size());
        rmsnorm(Exec{p, Mode::Reproducible, pool}, x.data(), w.data(), t, n, eps, y.data());
        CHECK(same_bits(y, want));
      }
  }
}

TEST_CASE("rope: paths, threads and positions equal x0*c - x1*s, x0*s + x1*c without fma") {
  Pools pools;
  Rng rng(32);
  for (int hd : {2, 30, 32, 64, 128}) {
    const RopeTable table = make_rope_table(hd, 600, 10000.0);
    const int heads = 3;
    const int64_t t = 7, pos0 = 590;
    const int64_t row = int64_t(heads) * hd;
    auto x = rng.vec(size_t(t * row), 4.0f);
    x[0] = NAN;
    if (x.size() > 5) x[5] = INFINITY;
    std::vector<float> want = x;
    const int half = hd / 2;
    for (int64_t r = 0; r < t; ++r)
      for (int h = 0; h < heads; ++h)
        for (int i = 0; i < half; ++i) {
          float* v = want.data() + r * row + h * hd;
          const float c = table.cos[size_t((pos0 + r) * half + i)], s = table.sin[size_t((pos0 + r) * half + i)];
          const float x0 = v[i], x1 = v[i + half];
          const float p00 = x0 * c, p11 = x1 * s, p01 = x0 * s, p10 = x1 * c;  // each product rounded
          v[i] = p00 - p11;
          v[i + half] = p01 + p10;
        }
    for (SimdPath p : supported_paths())
      for (ThreadPool* pool : pools.all()) {
        CAPTURE(hd);
        CAPTURE(simd_name(p));
        auto y = x;
        rope(Exec{p, Mode::Reproducible, pool}, table, y.data(), t, pos0, heads);
        CHECK(same_bits(y, want));
        // one position at a time gives the same
        auto z = x;
        for (int64_t r = 0; r < t; ++r) rope(Exec{p}, table, z.data() + r * row, 1, pos0 + r, heads);
        CHECK(same_bits(z, want));
      }
    CHECK_THROWS_AS(rope(Exec{}, table, x.data(), t, 595, heads), ree::Error);  // past max_pos
  }
}

TEST_CASE("swiglu: paths and threads equal silu(g) * u with the contract exp, edge values included") {
  Pools pools;
  Rng rng(33);
  for (int64_t n : {int64_t(1), int64_t(17), int64_t(1000), int64_t(9000)}) {
    auto g = rng.vec(size_t(n), 20.0f), u = rng.vec(size_t(n), 2.0f);
    const auto edges = edge_values();
    for (size_t i = 0; i < edges.size() && i < size_t(n); ++i) g[i * 3 % size_t(n)] = edges[i];
    if (n > 40) {
      g[20] = 88.9f;
      g[21] = -104.5f;
      g[22] = 103.5f;
      u[23] = NAN;
    }
    std::vector<float> want(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) want[size_t(i)] = (g[size_t(i)] / (1.0f + contract_expf(-g[size_t(i)]))) * u[size_t(i)];
    for (SimdPath p : supported_paths())
      for (ThreadPool* pool : pools.all()) {
        CAPTURE(n);
        CAPTURE(simd_name(p));
        std::vector<float> h(static_cast<size_t>(n));
        swiglu(Exec{p, Mode::Reproducible, pool}, g.data(), u.data(), n, h.data());
        CHECK(same_bits(h, want));
      }
  }
}

TEST_CASE("add_inplace") {
  std::vector<float> x = {1.0f, -0.0f, 1e-45f, INFINITY, 1e38f}, y = {2.0f, 0.0f, 1e-45f, -INFINITY, 3e38f};
  add_inplace(x.data(), y.data(), 5);
  CHECK(x[0] == 3.0f);
  CHECK(bits_of(x[1]) == 0u);
  CHECK(x[2] == 0x1p-148f);  // 2^-149 + 2^-149, no flush to zero
  CHECK(std::isnan(x[3]));
  CHECK(x[4] == INFINITY);
}

TEST_CASE("logits_hash / f32_hash: XXH3-64 of canonical little-endian bytes") {
  Rng rng(34);
  auto v = rng.vec(5000);
  // plain values: the hash is XXH3-64 of the bytes themselves (x86 is little endian)
  CHECK(logits_hash(v.data(), 5000) == XXH3_64bits(v.data(), v.size() * 4));
  CHECK(f32_hash(v.data(), 5000, 99) == XXH3_64bits_withSeed(v.data(), v.size() * 4, 99));
  CHECK(f32_hash(v.data(), 5000, 1) != f32_hash(v.data(), 5000, 2));
  // NaN payloads and the sign of zero do not matter
  auto a = v, b = v;
  a[7] = float_of(0x7fc00000u);
  b[7] = float_of(0xffc00123u);
  a[9] = 0.0f;
  b[9] = -0.0f;
  CHECK(logits_hash(a.data(), 5000) == logits_hash(b.data(), 5000));
  auto c = a;
  c[7] = float_of(0x7fc00000u);
  c[9] = 0.0f;
  CHECK(logits_hash(a.data(), 5000) == XXH3_64bits(c.data(), c.size() * 4));
  // any other change does
  b[11] = std::nextafter(b[11], 10.0f);
  CHECK(logits_hash(a.data(), 5000) != logits_hash(b.data(), 5000));
  CHECK(logits_hash(nullptr, 0) == XXH3_64bits(nullptr, 0));
}

TEST_CASE("argmax: largest, ties to the smallest id, NaN -> -1") {
  std::vector<float> v = {1.0f, 3.0f, -2.0f, 3.0f, 0.5f};
  CHECK(argmax(v.data(), 5) == 1);
  v[2] = NAN;
  CHECK(argmax(v.data(), 5) == -1);
  std::vector<float> zeros = {-0.0f, 0.0f};
  CHECK(argmax(zeros.data(), 2) == 0);  // -0 == +0: a tie
  std::vector<float> ninf = {-INFINITY, -INFINITY};
  CHECK(argmax(ninf.data(), 2) == 0);
  CHECK(argmax(v.data(), 0) == -1);
}

TEST_CASE("measure_memory_bandwidth_gbs returns a plausible positive figure") {
  ree::ThreadPool pool(2);
  MemBandwidthOptions small;
  small.buffer_mib = 64;
  small.passes = 2;
  const double gbs = measure_memory_bandwidth_gbs(&pool, small);
  CHECK(gbs > 0.1);     // slower than any machine this runs on
  CHECK(gbs < 10000.0);  // faster than any memory system
  small.buffer_mib = 0;
  CHECK(measure_memory_bandwidth_gbs(nullptr, small) == 0.0);
}
