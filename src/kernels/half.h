#pragma once
// Exact conversions of stored 16-bit floats to f32 (repro-v1: weights are
// converted exactly before any arithmetic). Host and nvcc (REE_HD).
// The vector paths (F16C / AVX-512 vcvtph2ps) give the same bits; the test
// tests/kernels/test_convert.cpp checks all 65,536 inputs.
#include <stdint.h>

#include "kernels/contract_math.h"

namespace ree::kernels {

// bf16 is the top half of an f32: a shift, exact for every input, NaN payload kept.
REE_HD static inline float bf16_to_f32(uint16_t h) { return f32_from_bits((uint32_t)h << 16); }

// IEEE binary16 -> binary32. Subnormal halves m * 2^-24 become normal floats
// (exact: m has at most 10 bits). A signalling NaN comes out quiet, payload
// kept, which is what vcvtph2ps does.
REE_HD static inline float f16_to_f32(uint16_t h) {
  const uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
  const uint32_t exp = (h >> 10) & 0x1fu;
  const uint32_t mant = h & 0x3ffu;
  if (exp == 0x1fu) {  // inf or NaN
    const uint32_t quiet = mant != 0 ? 0x00400000u : 0u;
    return f32_from_bits(sign | 0x7f800000u | quiet | (mant << 13));
  }
  if (exp != 0) return f32_from_bits(sign | ((exp + 112u) << 23) | (mant << 13));
  // zero or subnormal: mant * 2^-24, a product that is exact in f32
  const float magnitude = (float)mant * 0x1p-24f;
  return f32_from_bits(sign | f32_to_bits(magnitude));
}

// f32 -> bf16 rounding to nearest even (Fast mode's dot-product input only;
// never on the reproducible path). NaN stays NaN (quiet).
REE_HD static inline uint16_t f32_to_bf16_rne(float x) {
  const uint32_t u = f32_to_bits(x);
  if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x0040u);
  const uint32_t rounding = 0x7fffu + ((u >> 16) & 1u);
  return (uint16_t)((u + rounding) >> 16);
}

}  // namespace ree::kernels
