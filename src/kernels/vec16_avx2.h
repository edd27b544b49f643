#pragma once
// Vec16 for the AVX2 path: two ymm registers (lanes 0-7 and 8-15). Each
// operation is the lane-wise IEEE operation of VecScalar (vec16_scalar.h), so
// results are bit-identical. Included only by kernels_avx2.cpp (compiled with
// -mavx2 -mfma -mf16c).
#include <immintrin.h>
#include <stdint.h>

#include "kernels/contract_math.h"

namespace ree::kernels {
namespace {

struct VecAvx2 {
  __m256 lo, hi;

  static VecAvx2 zero() { return {_mm256_setzero_ps(), _mm256_setzero_ps()}; }
  static VecAvx2 bcast(float x) {
    const __m256 b = _mm256_set1_ps(x);
    return {b, b};
  }
  static VecAvx2 load(const float* p) { return {_mm256_loadu_ps(p), _mm256_loadu_ps(p + 8)}; }
  static __m256 bf16x8(const uint16_t* p) {
    const __m256i w = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
    return _mm256_castsi256_ps(_mm256_slli_epi32(w, 16));
  }
  static VecAvx2 load_bf16(const uint16_t* p) { return {bf16x8(p), bf16x8(p + 8)}; }
  static VecAvx2 load_f16(const uint16_t* p) {
    return {_mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))),
            _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 8)))};
  }
  static __m256 q8x8(const int8_t* q) {
    return _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(q))));
  }
  static VecAvx2 load_q8(const int8_t* q, const VecAvx2& d) {
    return {_mm256_mul_ps(q8x8(q), d.lo), _mm256_mul_ps(q8x8(q + 8), d.hi)};
  }
  static VecAvx2 gather(const float* base, int64_t stride) {
    const __m256i idx =
        _mm256_mullo_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), _mm256_set1_epi32((int32_t)stride));
    return {_mm256_i32gather_ps(base, idx, 4), _mm256_i32gather_ps(base + 8 * stride, idx, 4)};
  }
  void store(float* p) const {
    _mm256_storeu_ps(p, lo);
    _mm256_storeu_ps(p + 8, hi);
  }
};

inline VecAvx2 vfma(VecAvx2 a, VecAvx2 b, VecAvx2 c) {
  return {_mm256_fmadd_ps(a.lo, b.lo, c.lo), _mm256_fmadd_ps(a.hi, b.hi, c.hi)};
}
inline VecAvx2 vadd(VecAvx2 a, VecAvx2 b) { return {_mm256_add_ps(a.lo, b.lo), _mm256_add_ps(a.hi, b.hi)}; }
inline VecAvx2 vsub(VecAvx2 a, VecAvx2 b) { return {_mm256_sub_ps(a.lo, b.lo), _mm256_sub_ps(a.hi, b.hi)}; }
inline VecAvx2 vmul(VecAvx2 a, VecAvx2 b) { return {_mm256_mul_ps(a.lo, b.lo), _mm256_mul_ps(a.hi, b.hi)}; }
inline VecAvx2 vdiv(VecAvx2 a, VecAvx2 b) { return {_mm256_div_ps(a.lo, b.lo), _mm256_div_ps(a.hi, b.hi)}; }
inline __m256 pick_greater8(__m256 a, __m256 b) { return _mm256_blendv_ps(b, a, _mm256_cmp_ps(a, b, _CMP_GT_OQ)); }
// a > b ? a : b per lane (ordered compare), as VecScalar
inline VecAvx2 vpick_greater(VecAvx2 a, VecAvx2 b) { return {pick_greater8(a.lo, b.lo), pick_greater8(a.hi, b.hi)}; }
inline __m256 neg8(__m256 x) {
  return _mm256_castsi256_ps(_mm256_xor_si256(_mm256_castps_si256(x), _mm256_set1_epi32(int32_t(0x80000000u))));
}
inline VecAvx2 vneg(VecAvx2 x) { return {neg8(x.lo), neg8(x.hi)}; }

// contract_expf (contract_math.h) on 8 lanes, special cases blended in last.
inline __m256 exp8(__m256 x) {
  typedef ExpConstants C;
  const __m256 kf = _mm256_sub_ps(_mm256_fmadd_ps(x, _mm256_set1_ps(C::kLog2e), _mm256_set1_ps(C::kShifter)),
                                  _mm256_set1_ps(C::kShifter));
  __m256 r = _mm256_fmadd_ps(kf, _mm256_set1_ps(-C::kLn2Hi), x);
  r = _mm256_fmadd_ps(kf, _mm256_set1_ps(-C::kLn2Lo), r);
  __m256 p = _mm256_set1_ps(C::kC7);
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(C::kC6));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(C::kC5));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(C::kC4));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(C::kC3));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(C::kC2));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
  const __m256i k = _mm256_cvttps_epi32(kf);
  const __m256i k1 = _mm256_srai_epi32(k, 1);
  const __m256i k2 = _mm256_sub_epi32(k, k1);
  const __m256i bias = _mm256_set1_epi32(127);
  const __m256 s1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(k1, bias), 23));
  const __m256 s2 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(k2, bias), 23));
  __m256 y = _mm256_mul_ps(_mm256_mul_ps(p, s1), s2);
  const __m256 over = _mm256_cmp_ps(x, _mm256_set1_ps(C::kOverflow), _CMP_GT_OQ);
  const __m256 under = _mm256_cmp_ps(x, _mm256_set1_ps(C::kUnderflow), _CMP_LT_OQ);
  const __m256 nan = _mm256_cmp_ps(x, x, _CMP_UNORD_Q);
  y = _mm256_blendv_ps(y, _mm256_castsi256_ps(_mm256_set1_epi32(0x7f800000)), over);
  y = _mm256_blendv_ps(y, _mm256_setzero_ps(), under);
  y = _mm256_blendv_ps(y, _mm256_add_ps(x, x), nan);
  return y;
}
inline VecAvx2 vexp(VecAvx2 x) { return {exp8(x.lo), exp8(x.hi)}; }

}  // namespace
}  // namespace ree::kernels
