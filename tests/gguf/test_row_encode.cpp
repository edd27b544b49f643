// f32 -> F16/BF16/Q8_0 encoders, checked against references derived
// independently: the nearest representable value found by search over every
// finite f16/bf16 value (ties to even), exact round trips of every stored
// bit pattern, and a Q8_0 block worked out by hand.
#include <doctest/doctest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <vector>

#include "kernels/kernels.h"
#include "runtime/loader/row_encode.h"

using namespace ree;

namespace {

double f16_value(uint32_t bits) {  // non-negative finite f16 bits -> exact value
  const uint32_t exponent = bits >> 10, mantissa = bits & 0x3ff;
  if (exponent == 0) return std::ldexp(static_cast<double>(mantissa), -24);
  return std::ldexp(1.0 + mantissa / 1024.0, static_cast<int>(exponent) - 15);
}

// Nearest of the sorted non-negative finite values `table`, ties to the even
// index (= even last mantissa bit); `overflow_at`: smallest magnitude that
// rounds to infinity; `inf_bits`.
uint32_t nearest(const std::vector<double>& table, double a, double overflow_at, uint32_t inf_bits) {
  if (a >= overflow_at) return inf_bits;
  const size_t hi = static_cast<size_t>(std::upper_bound(table.begin(), table.end(), a) - table.begin());
  if (hi == 0) return 0;
  const size_t lo = hi - 1;
  if (hi == table.size() || table[lo] == a) return static_cast<uint32_t>(lo);
  const double below = a - table[lo], above = table[hi] - a;
  if (below < above) return static_cast<uint32_t>(lo);
  if (above < below) return static_cast<uint32_t>(hi);
  return static_cast<uint32_t>(lo % 2 == 0 ? lo : hi);
}

// A sample of every region of the f32 range: a stride through all bit
// patterns plus the neighbourhoods of powers of two and of half-ulp ties.
std::vector<uint32_t> sample_f32_bits() {
  std::vector<uint32_t> out;
  for (uint64_t b = 0; b <= 0xffffffffull; b += 4099) out.push_back(static_cast<uint32_t>(b));
  for (uint32_t e = 0; e < 255; ++e) {
    for (uint32_t m : {0u, 1u, 0x1000u, 0x0fffu, 0x1001u, 0x2000u, 0x3000u, 0x7fffu, 0x8000u, 0x8001u, 0x18000u,
                       0x7fffffu}) {
      out.push_back((e << 23) | m);
      out.push_back(0x80000000u | (e << 23) | m);
    }
  }
  return out;
}

}  // namespace

TEST_CASE("f32 -> f16 rounds to nearest even, overflows to inf, keeps subnormals") {
  std::vector<double> table;
  for (uint32_t b = 0; b < 0x7c00; ++b) table.push_back(f16_value(b));
  const double overflow_at = 65520.0;  // halfway between 65504 and 2^16
  int checked = 0;
  for (const uint32_t bits : sample_f32_bits()) {
    const float x = std::bit_cast<float>(bits);
    const uint16_t got = f32_to_f16_bits(x);
    if (std::isnan(x)) {
      CHECK(((got & 0x7c00) == 0x7c00 && (got & 0x3ff) != 0));
      continue;
    }
    const uint32_t sign = std::signbit(x) ? 0x8000u : 0u;
    const uint32_t expected = sign | nearest(table, std::fabs(static_cast<double>(x)), overflow_at, 0x7c00);
    if (got != expected) {
      INFO("x bits " << std::hex << bits << " got " << got << " expected " << expected);
      CHECK(got == expected);
    }
    ++checked;
  }
  CHECK(checked > 1000000);
}

TEST_CASE("f32 -> bf16 rounds to nearest even") {
  std::vector<double> table;
  for (uint32_t b = 0; b < 0x7f80; ++b) table.push_back(static_cast<double>(std::bit_cast<float>(b << 16)));
  const double max_bf16 = table.back();
  const double overflow_at = (max_bf16 + std::ldexp(1.0, 128)) / 2;
  for (const uint32_t bits : sample_f32_bits()) {
    const float x = std::bit_cast<float>(bits);
    const uint16_t got = f32_to_bf16_bits(x);
    if (std::isnan(x)) {
      CHECK(((got & 0x7f80) == 0x7f80 && (got & 0x7f) != 0));
      continue;
    }
    const uint32_t sign = std::signbit(x) ? 0x8000u : 0u;
    const uint32_t expected = sign | nearest(table, std::fabs(static_cast<double>(x)), overflow_at, 0x7f80);
    if (got != expected) {
      INFO("x bits " << std::hex << bits << " got " << got << " expected " << expected);
      CHECK(got == expected);
    }
  }
}

TEST_CASE("every f16 and bf16 bit pattern survives decode (kernels) + encode") {
  for (uint32_t b = 0; b < 0x10000; ++b) {
    const uint16_t h = static_cast<uint16_t>(b);
    float f16_as_f32, bf16_as_f32;
    kernels::row_to_f32(kernels::DType::F16, &h, 1, &f16_as_f32);
    kernels::row_to_f32(kernels::DType::BF16, &h, 1, &bf16_as_f32);
    const bool f16_nan = (b & 0x7c00) == 0x7c00 && (b & 0x3ff) != 0;
    const bool bf16_nan = (b & 0x7f80) == 0x7f80 && (b & 0x7f) != 0;
    if (!f16_nan && f32_to_f16_bits(f16_as_f32) != h) {
      INFO("f16 " << std::hex << b);
      CHECK(f32_to_f16_bits(f16_as_f32) == h);
    }
    if (!bf16_nan && f32_to_bf16_bits(bf16_as_f32) != h) {
      INFO("bf16 " << std::hex << b);
      CHECK(f32_to_bf16_bits(bf16_as_f32) == h);
    }
  }
}

TEST_CASE("Q8_0: a block worked out by hand") {
  // x_j = j - 8 for j < 32: amax = 23, d = 23/127, so q_j = round((j - 8) * 127 / 23).
  float x[32];
  for (int j = 0; j < 32; ++j) x[j] = static_cast<float>(j - 8);
  uint8_t block[34];
  encode_row(kernels::DType::Q8_0, x, 32, block);
  const uint16_t d_bits = static_cast<uint16_t>(block[0] | (block[1] << 8));
  CHECK(d_bits == f32_to_f16_bits(23.0f / 127.0f));
  // By hand: (j-8)*127/23 = (j-8)*5.5217...; no value lies within 0.01 of a
  // half, so the f32 and exact products round alike.
  for (int j = 0; j < 32; ++j) {
    const double exact = (j - 8) * 127.0 / 23.0;
    const int expected = static_cast<int>(std::lround(exact));
    CHECK(static_cast<int8_t>(block[2 + j]) == expected);
  }
  CHECK(static_cast<int8_t>(block[2 + 31]) == 127);
  CHECK(static_cast<int8_t>(block[2 + 0]) == -44);  // -8 * 5.5217 = -44.17
}

TEST_CASE("Q8_0: all-zero block has d = 0 and q = 0; dequantised error is at most d/2 per element") {
  float zeros[32] = {};
  uint8_t block[34];
  encode_row(kernels::DType::Q8_0, zeros, 32, block);
  for (uint8_t b : block) CHECK(b == 0);

  std::vector<float> x(64);
  for (int i = 0; i < 64; ++i) x[static_cast<size_t>(i)] = std::sin(0.37f * static_cast<float>(i)) * 3.0f;
  std::vector<uint8_t> q(68);
  encode_row(kernels::DType::Q8_0, x.data(), 64, q.data());
  std::vector<float> back(64);
  kernels::row_to_f32(kernels::DType::Q8_0, q.data(), 64, back.data());
  for (int b = 0; b < 2; ++b) {
    float amax = 0;
    for (int j = 0; j < 32; ++j) amax = std::max(amax, std::fabs(x[static_cast<size_t>(32 * b + j)]));
    const float d = amax / 127.0f;
    for (int j = 0; j < 32; ++j) {
      const size_t i = static_cast<size_t>(32 * b + j);
      // d is stored as f16 (relative error 2^-11), so allow a little over d/2.
      CHECK(std::fabs(back[i] - x[i]) <= d * 0.5f + amax * 0.001f);
    }
  }
}
