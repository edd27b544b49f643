// Exact conversion of stored weights: f16 and bf16 (all 65,536 inputs), Q8_0,
// packing, and the dequantisation of every SIMD path's matmul.
#include <doctest/doctest.h>
#include <immintrin.h>

#include <cmath>

#include "kernel_test_util.h"
#include "kernels/half.h"
#include "kernels/pack_layout.h"

using namespace ree::kernels;
using namespace ree::kernels::test;

namespace {

// binary16 value from its definition, in long double.
long double f16_value(uint16_t h) {
  const int sign = h >> 15, exp = (h >> 10) & 31, mant = h & 1023;
  long double v;
  if (exp == 0) v = ldexpl((long double)mant, -24);
  else if (exp == 31) v = mant ? NAN : INFINITY;
  else v = ldexpl(1024.0L + mant, exp - 25);
  return sign ? -v : v;
}

__attribute__((target("f16c"))) float f16c_convert(uint16_t h) { return _cvtsh_ss(h); }

bool cpu_has_f16c() { return __builtin_cpu_supports("f16c"); }

// ggml Q8_0 row of n (multiple of 32) from scales d and quants q.
std::vector<uint8_t> q8_row(const std::vector<uint16_t>& d, const std::vector<int8_t>& q) {
  std::vector<uint8_t> out(d.size() * 34);
  for (size_t b = 0; b < d.size(); ++b) {
    std::memcpy(&out[b * 34], &d[b], 2);
    std::memcpy(&out[b * 34 + 2], &q[b * 32], 32);
  }
  return out;
}

}  // namespace

TEST_CASE("f16 -> f32 is exact for all 65,536 inputs and matches F16C") {
  const bool f16c = cpu_has_f16c();
  for (uint32_t h = 0; h < 65536; ++h) {
    const float got = f16_to_f32(uint16_t(h));
    const long double want = f16_value(uint16_t(h));
    if (std::isnan(want)) {
      REQUIRE(std::isnan(got));
    } else {
      REQUIRE((long double)got == want);
      REQUIRE(std::signbit(got) == bool(h >> 15));
    }
    if (f16c) REQUIRE(bits_of(got) == bits_of(f16c_convert(uint16_t(h))));  // incl. NaN payload/quieting
  }
}

TEST_CASE("bf16 -> f32 is the top half of the f32 bits") {
  for (uint32_t h = 0; h < 65536; ++h) REQUIRE(bits_of(bf16_to_f32(uint16_t(h))) == h << 16);
  CHECK(f32_to_bf16_rne(1.0f) == 0x3f80);
  CHECK(f32_to_bf16_rne(float_of(0x3f808000u)) == 0x3f80);  // tie to even
  CHECK(f32_to_bf16_rne(float_of(0x3f818000u)) == 0x3f82);
  CHECK(std::isnan(bf16_to_f32(f32_to_bf16_rne(NAN))));
}

TEST_CASE("dtype names, row sizes, row_to_f32") {
  for (DType t : {DType::F32, DType::F16, DType::BF16, DType::Q8_0}) CHECK(parse_dtype(dtype_name(t)) == t);
  CHECK_FALSE(parse_dtype("q4_0").has_value());
  CHECK(dtype_row_bytes(DType::Q8_0, 64) == 68);
  CHECK(dtype_row_bytes(DType::BF16, 3) == 6);
  CHECK_THROWS_AS(dtype_row_bytes(DType::Q8_0, 33), ree::Error);
  float sink[1];
  CHECK_THROWS_AS(row_to_f32(DType::F32, sink, -1, sink), ree::Error);
  CHECK_THROWS_AS(row_to_f32(DType::Q8_0, sink, 31, sink), ree::Error);
  for (SimdPath p : {SimdPath::Scalar, SimdPath::Avx2, SimdPath::Avx512}) CHECK(parse_simd(simd_name(p)) == p);
  for (Mode m : {Mode::Reproducible, Mode::Deterministic, Mode::Fast}) CHECK(parse_mode(mode_name(m)) == m);
  CHECK(simd_supported(detect_simd()));

  Rng rng(3);
  std::vector<uint16_t> d = {0x3c00, 0x0001, 0xfbff, 0x2e66};  // 1, least subnormal, -65504, ~0.1
  std::vector<int8_t> q(128);
  for (auto& v : q) v = int8_t(int(rng.uniform() * 256) - 128);
  q[0] = -128;
  q[1] = 127;
  const auto row = q8_row(d, q);
  std::vector<float> out(128);
  row_to_f32(DType::Q8_0, row.data(), 128, out.data());
  for (int i = 0; i < 128; ++i) CHECK((long double)out[i] == (long double)q[i] * f16_value(d[i / 32]));
}

TEST_CASE("matmul dequantises exactly on every path (one-hot inputs read weights back)") {
  // y[n] = D(W[n,:], e_k) = fma(W[n][k], 1, +0) (+ fma(W, 0, acc) terms that add
  // zeros) = W[n][k] for every finite nonzero weight.
  const int64_t rows = 19, cols = 64;
  Rng rng(4);
  std::vector<uint16_t> h16(rows * cols);
  for (auto& v : h16) {
    do v = uint16_t(rng.engine());
    while (((v >> 10) & 31) == 31 || (v & 0x7fff) == 0);  // finite, nonzero
  }
  std::vector<uint16_t> b16(rows * cols);
  for (auto& v : b16) {
    do v = uint16_t(rng.engine());
    while (((v >> 7) & 0xff) == 0xff || (v & 0x7fff) == 0);  // finite, nonzero
  }
  std::vector<uint16_t> scales(rows * cols / 32);
  for (auto& v : scales) {
    do v = uint16_t(rng.engine());
    while (((v >> 10) & 31) == 31 || (v & 0x7fff) == 0);
  }
  std::vector<int8_t> quants(rows * cols);
  for (auto& v : quants) {
    do v = int8_t(rng.engine());
    while (v == 0);
  }
  std::vector<uint8_t> q8(rows * cols / 32 * 34);
  for (int64_t r = 0; r < rows; ++r) {
    std::vector<uint16_t> d(scales.begin() + r * 2, scales.begin() + r * 2 + 2);
    std::vector<int8_t> q(quants.begin() + r * cols, quants.begin() + (r + 1) * cols);
    const auto row = q8_row(d, q);
    std::memcpy(&q8[r * 68], row.data(), 68);
  }
  for (DType t : {DType::F16, DType::BF16, DType::Q8_0}) {
    const void* src = t == DType::Q8_0 ? static_cast<const void*>(q8.data())
                      : t == DType::F16  ? static_cast<const void*>(h16.data())
                                         : static_cast<const void*>(b16.data());
    const PackedMatrix m = pack_matrix(t, src, rows, cols);
    for (SimdPath p : supported_paths()) {
      CAPTURE(dtype_name(t));
      CAPTURE(simd_name(p));
      for (int64_t k = 0; k < cols; k += 7) {
        std::vector<float> x(cols, 0.0f), y(rows);
        x[k] = 1.0f;
        matmul(Exec{p, Mode::Reproducible, nullptr}, m, x.data(), 1, y.data());
        for (int64_t n = 0; n < rows; ++n) {
          long double want;
          if (t == DType::Q8_0) want = (long double)quants[n * cols + k] * f16_value(scales[n * 2 + k / 32]);
          else if (t == DType::F16) want = f16_value(h16[n * cols + k]);
          else want = (long double)float_of(uint32_t(b16[n * cols + k]) << 16);
          REQUIRE((long double)y[n] == want);
        }
      }
    }
  }
}

TEST_CASE("pack_matrix: layout, row order, padding, bad input") {
  const int64_t rows = 18, cols = 3;
  std::vector<float> w(rows * cols);
  for (size_t i = 0; i < w.size(); ++i) w[i] = float(i + 1);
  std::vector<int32_t> order(rows);
  for (int64_t n = 0; n < rows; ++n) order[n] = int32_t(rows - 1 - n);
  const PackedMatrix m = pack_matrix(DType::F32, w.data(), rows, cols, order.data());
  REQUIRE(m.nbytes == group_bytes(DType::F32, cols) * 2);
  const float* p = reinterpret_cast<const float*>(m.data.get());
  // group 0, k = 1, lane 2 is packed row 2 = source row 15
  CHECK(p[1 * 16 + 2] == w[15 * cols + 1]);
  // group 1 holds rows 16, 17 (source rows 1, 0) and 14 zero lanes
  const float* g1 = p + 3 * 16;
  CHECK(g1[0 * 16 + 1] == w[0 * cols + 0]);
  CHECK(g1[2 * 16 + 5] == 0.0f);
  order[3] = int32_t(rows);
  CHECK_THROWS_AS(pack_matrix(DType::F32, w.data(), rows, cols, order.data()), ree::Error);
  CHECK_THROWS_AS(pack_matrix(DType::Q8_0, w.data(), 1, 40), ree::Error);
  CHECK_THROWS_AS(pack_matrix(DType::F32, w.data(), -1, 3), ree::Error);
}
