// f32 -> F16/BF16/Q8_0 encoders (row_encode.h).
#include "runtime/loader/row_encode.h"

#include <bit>
#include <cmath>
#include <cstring>

namespace ree {

uint16_t f32_to_f16_bits(float value) {
  const uint32_t bits = std::bit_cast<uint32_t>(value);
  const uint16_t sign = static_cast<uint16_t>((bits >> 16) & 0x8000);
  const uint32_t magnitude = bits & 0x7fffffffu;
  constexpr uint32_t kF32Inf = 0x7f800000u;
  constexpr uint32_t kTwoTo16 = (127u + 16u) << 23;  // first value whose f16 is out of range
  constexpr uint32_t kTwoToMinus14 = 113u << 23;      // smallest normal f16
  if (magnitude >= kTwoTo16) {
    return sign | (magnitude > kF32Inf ? 0x7e00 : 0x7c00);  // NaN -> quiet NaN, else inf
  }
  if (magnitude < kTwoToMinus14) {
    // Subnormal or zero: adding 0.5f puts the value's multiples of 2^-24
    // (the f16 subnormal step) in the low mantissa bits, rounded to nearest
    // even by the FPU itself (subnormals are kept under repro-v1).
    constexpr float kHalf = 0.5f;
    const float shifted = std::bit_cast<float>(magnitude) + kHalf;
    return sign | static_cast<uint16_t>(std::bit_cast<uint32_t>(shifted) - std::bit_cast<uint32_t>(kHalf));
  }
  // Normal: rebias the exponent (127 -> 15) and round the 13 dropped
  // mantissa bits to nearest even; a carry correctly bumps the exponent,
  // up to infinity for values in [65520, 65536).
  const uint32_t mantissa_odd = (magnitude >> 13) & 1u;
  const uint32_t rounded = magnitude + (static_cast<uint32_t>(15 - 127) << 23) + 0xfffu + mantissa_odd;
  return sign | static_cast<uint16_t>(rounded >> 13);
}

uint16_t f32_to_bf16_bits(float value) {
  const uint32_t bits = std::bit_cast<uint32_t>(value);
  if ((bits & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((bits >> 16) | 0x0040);  // quiet NaN
  const uint32_t lsb = (bits >> 16) & 1u;
  return static_cast<uint16_t>((bits + 0x7fffu + lsb) >> 16);
}

namespace {

void put_u16(uint8_t* dst, uint16_t v) {
  dst[0] = static_cast<uint8_t>(v & 0xff);
  dst[1] = static_cast<uint8_t>(v >> 8);
}

// One ggml block_q8_0: f16 d, then 32 int8 quants.
void encode_q8_0_block(const float* x, uint8_t* dst) {
  constexpr int kBlock = 32;
  float amax = 0.0f;
  for (int j = 0; j < kBlock; ++j) {
    const float v = std::fabs(x[j]);
    amax = amax > v ? amax : v;  // ggml's MAX(amax, v), NaN behaviour included
  }
  const float d = amax / 127.0f;
  const float id = d != 0.0f ? 1.0f / d : 0.0f;
  put_u16(dst, f32_to_f16_bits(d));
  for (int j = 0; j < kBlock; ++j) {
    const float q = std::round(x[j] * id);  // roundf: halves away from zero, as ggml
    dst[2 + j] = static_cast<uint8_t>(static_cast<int8_t>(q));
  }
}

}  // namespace

uint64_t encoded_row_bytes(kernels::DType dtype, int64_t n) {
  const uint64_t count = static_cast<uint64_t>(n);
  switch (dtype) {
    case kernels::DType::F32: return count * 4;
    case kernels::DType::F16: case kernels::DType::BF16: return count * 2;
    case kernels::DType::Q8_0: return count / 32 * 34;
  }
  return 0;
}

void encode_row(kernels::DType dtype, const float* src, int64_t n, uint8_t* dst) {
  switch (dtype) {
    case kernels::DType::F32:
      std::memcpy(dst, src, static_cast<size_t>(n) * 4);
      return;
    case kernels::DType::F16:
      for (int64_t i = 0; i < n; ++i) put_u16(dst + 2 * i, f32_to_f16_bits(src[i]));
      return;
    case kernels::DType::BF16:
      for (int64_t i = 0; i < n; ++i) put_u16(dst + 2 * i, f32_to_bf16_bits(src[i]));
      return;
    case kernels::DType::Q8_0:
      for (int64_t b = 0; b < n / 32; ++b) encode_q8_0_block(src + 32 * b, dst + 34 * b);
      return;
  }
}

}  // namespace ree
