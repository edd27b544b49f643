#pragma once
// repro-v1 scalar f32 math shared by every backend: the one `exp` that softmax,
// SiLU and the sampler use, made only of + - * fma and bit operations.
// The same text compiles as host C++ and under nvcc (REE_HD); the CUDA backend
// includes this header verbatim, so CPU and GPU evaluate identical operations.
//
// Functions are `static inline` on purpose: each translation unit gets its own
// copy, so a copy compiled with -mavx512f (src/kernels/kernels_avx512.cpp) can
// never be picked by the linker for a caller on a CPU without AVX-512.
#include <stdint.h>

#if defined(__CUDACC__)
#define REE_HD __host__ __device__
#else
#define REE_HD
#endif

namespace ree::kernels {

// A true fused multiply-add (one rounding) on host and device. On a host CPU
// without FMA the builtin calls libm's fmaf, which is correctly rounded too.
REE_HD static inline float contract_fmaf(float a, float b, float c) {
#if defined(__CUDA_ARCH__)
  return __fmaf_rn(a, b, c);
#else
  return __builtin_fmaf(a, b, c);
#endif
}

REE_HD static inline uint32_t f32_to_bits(float x) {
#if defined(__CUDA_ARCH__)
  return __float_as_uint(x);
#else
  uint32_t u;
  __builtin_memcpy(&u, &x, sizeof u);
  return u;
#endif
}

REE_HD static inline float f32_from_bits(uint32_t u) {
#if defined(__CUDA_ARCH__)
  return __uint_as_float(u);
#else
  float x;
  __builtin_memcpy(&x, &u, sizeof x);
  return x;
#endif
}

// Constants of contract_expf. Vector versions (vec16_*.h) use the same values.
struct ExpConstants {
  // Above this exp overflows (ln(FLT_MAX) = 88.7228...; the margin up to 88.8
  // is handled by the scaling, which overflows to inf by itself).
  static constexpr float kOverflow = 88.8f;
  // Below this exp rounds to +0 (exp(-104) < 2^-150, half the least subnormal).
  static constexpr float kUnderflow = -104.0f;
  static constexpr float kLog2e = 0x1.715476p+0f;
  // 1.5 * 2^23: adding it rounds a float of magnitude < 2^22 to an integer
  // (ties to even) and subtracting it gives that integer back exactly.
  static constexpr float kShifter = 0x1.8p+23f;
  // ln 2 = kLn2Hi + kLn2Lo. kLn2Hi has trailing zero bits so that
  // x - k*kLn2Hi is exact for every k this function uses (|k| <= 150).
  static constexpr float kLn2Hi = 0x1.62e400p-1f;
  static constexpr float kLn2Lo = 0x1.7f7d1cp-20f;
  // Taylor coefficients 1/n!, n = 2..7 (the degree-7 remainder on
  // |r| <= ln2/2 is < 6e-9 relative, a tenth of an ulp).
  static constexpr float kC2 = 0x1p-1f;
  static constexpr float kC3 = 0x1.555556p-3f;
  static constexpr float kC4 = 0x1.555556p-5f;
  static constexpr float kC5 = 0x1.111112p-7f;
  static constexpr float kC6 = 0x1.6c16c2p-10f;
  static constexpr float kC7 = 0x1.a01a02p-13f;
};

// e^r for |r| <= ln2/2 (+ a little): Horner with explicit fma, degree 7.
REE_HD static inline float contract_exp_poly(float r) {
  typedef ExpConstants C;
  float p = C::kC7;
  p = contract_fmaf(p, r, C::kC6);
  p = contract_fmaf(p, r, C::kC5);
  p = contract_fmaf(p, r, C::kC4);
  p = contract_fmaf(p, r, C::kC3);
  p = contract_fmaf(p, r, C::kC2);
  p = contract_fmaf(p, r, 1.0f);
  p = contract_fmaf(p, r, 1.0f);
  return p;
}

// repro-v1 exp for f32, the whole range: NaN -> NaN (quiet), +inf -> +inf,
// -inf -> +0, overflow -> +inf, results below the normal range go through the
// subnormals with one rounding, then to +0. Measured error: docs/determinism.md.
//
// x = k*ln2 + r, e^x = 2^k * e^r. k is at most 128 and at least -150, so 2^k is
// applied as 2^k1 * 2^k2 with k1 = floor(k/2): the first product is exact and
// the second rounds once, also into the subnormal range.
REE_HD static inline float contract_expf(float x) {
  typedef ExpConstants C;
  if (!(x == x)) return x + x;
  if (x > C::kOverflow) return f32_from_bits(0x7f800000u);
  if (x < C::kUnderflow) return 0.0f;
  const float kf = contract_fmaf(x, C::kLog2e, C::kShifter) - C::kShifter;
  const int32_t k = (int32_t)kf;
  float r = contract_fmaf(kf, -C::kLn2Hi, x);
  r = contract_fmaf(kf, -C::kLn2Lo, r);
  const float p = contract_exp_poly(r);
  const int32_t k1 = k >> 1;  // arithmetic shift: floor(k / 2)
  const int32_t k2 = k - k1;
  const float s1 = f32_from_bits((uint32_t)(k1 + 127) << 23);
  const float s2 = f32_from_bits((uint32_t)(k2 + 127) << 23);
  return (p * s1) * s2;
}

// repro-v1 SiLU: x / (1 + exp(-x)).
REE_HD static inline float contract_silu(float x) { return x / (1.0f + contract_expf(-x)); }

}  // namespace ree::kernels
