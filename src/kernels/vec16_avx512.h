#pragma once
// Vec16 for the AVX-512 path: one zmm register. Each operation is the lane-wise
// IEEE operation of VecScalar (vec16_scalar.h), so results are bit-identical.
// Included only by kernels_avx512.cpp (compiled with -mavx512f/bw/vl/dq).
#include <immintrin.h>
#include <stdint.h>

#include "kernels/contract_math.h"

namespace ree::kernels {
namespace {

struct VecAvx512 {
  __m512 v;

  static VecAvx512 zero() { return {_mm512_setzero_ps()}; }
  static VecAvx512 bcast(float x) { return {_mm512_set1_ps(x)}; }
  static VecAvx512 load(const float* p) { return {_mm512_loadu_ps(p)}; }
  static VecAvx512 load_bf16(const uint16_t* p) {
    const __m512i w = _mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
    return {_mm512_castsi512_ps(_mm512_slli_epi32(w, 16))};
  }
  static VecAvx512 load_f16(const uint16_t* p) {
    return {_mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)))};
  }
  static VecAvx512 load_q8(const int8_t* q, const VecAvx512& d) {
    const __m512i w = _mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(q)));
    return {_mm512_mul_ps(_mm512_cvtepi32_ps(w), d.v)};
  }
  static VecAvx512 gather(const float* base, int64_t stride) {
    const __m512i idx = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                           _mm512_set1_epi32((int32_t)stride));
    return {_mm512_i32gather_ps(idx, base, 4)};
  }
  void store(float* p) const { _mm512_storeu_ps(p, v); }
};

inline VecAvx512 vfma(VecAvx512 a, VecAvx512 b, VecAvx512 c) { return {_mm512_fmadd_ps(a.v, b.v, c.v)}; }
inline VecAvx512 vadd(VecAvx512 a, VecAvx512 b) { return {_mm512_add_ps(a.v, b.v)}; }
inline VecAvx512 vsub(VecAvx512 a, VecAvx512 b) { return {_mm512_sub_ps(a.v, b.v)}; }
inline VecAvx512 vmul(VecAvx512 a, VecAvx512 b) { return {_mm512_mul_ps(a.v, b.v)}; }
inline VecAvx512 vdiv(VecAvx512 a, VecAvx512 b) { return {_mm512_div_ps(a.v, b.v)}; }
// a > b ? a : b per lane (ordered compare), as VecScalar
inline VecAvx512 vpick_greater(VecAvx512 a, VecAvx512 b) {
  return {_mm512_mask_blend_ps(_mm512_cmp_ps_mask(a.v, b.v, _CMP_GT_OQ), b.v, a.v)};
}
inline VecAvx512 vneg(VecAvx512 x) {
  return {_mm512_castsi512_ps(_mm512_xor_si512(_mm512_castps_si512(x.v), _mm512_set1_epi32(int32_t(0x80000000u))))};
}

// contract_expf (contract_math.h), the same operations lane by lane; the special
// cases are blended in at the end instead of branching.
inline VecAvx512 vexp(VecAvx512 xv) {
  typedef ExpConstants C;
  const __m512 x = xv.v;
  const __m512 kf = _mm512_sub_ps(_mm512_fmadd_ps(x, _mm512_set1_ps(C::kLog2e), _mm512_set1_ps(C::kShifter)),
                                  _mm512_set1_ps(C::kShifter));
  __m512 r = _mm512_fmadd_ps(kf, _mm512_set1_ps(-C::kLn2Hi), x);
  r = _mm512_fmadd_ps(kf, _mm512_set1_ps(-C::kLn2Lo), r);
  __m512 p = _mm512_set1_ps(C::kC7);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(C::kC6));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(C::kC5));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(C::kC4));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(C::kC3));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(C::kC2));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
  // kf is integral here (or garbage in lanes replaced below); truncation is exact.
  const __m512i k = _mm512_cvttps_epi32(kf);
  const __m512i k1 = _mm512_srai_epi32(k, 1);
  const __m512i k2 = _mm512_sub_epi32(k, k1);
  const __m512i bias = _mm512_set1_epi32(127);
  const __m512 s1 = _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_add_epi32(k1, bias), 23));
  const __m512 s2 = _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_add_epi32(k2, bias), 23));
  __m512 y = _mm512_mul_ps(_mm512_mul_ps(p, s1), s2);
  const __mmask16 over = _mm512_cmp_ps_mask(x, _mm512_set1_ps(C::kOverflow), _CMP_GT_OQ);
  const __mmask16 under = _mm512_cmp_ps_mask(x, _mm512_set1_ps(C::kUnderflow), _CMP_LT_OQ);
  const __mmask16 nan = _mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q);
  y = _mm512_mask_blend_ps(over, y, _mm512_castsi512_ps(_mm512_set1_epi32(0x7f800000)));
  y = _mm512_mask_blend_ps(under, y, _mm512_setzero_ps());
  y = _mm512_mask_blend_ps(nan, y, _mm512_add_ps(x, x));
  return {y};
}

}  // namespace
}  // namespace ree::kernels
