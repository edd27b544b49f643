#pragma once
// Vec16 for the scalar path: 16 floats and plain loops. Every operation is the
// lane-wise IEEE operation, so this type defines the bits the SIMD types match.
// Included only by kernels_scalar.cpp.
#include <stdint.h>

#include "kernels/contract_math.h"
#include "kernels/half.h"

namespace ree::kernels {
namespace {

struct VecScalar {
  float v[16];

  static VecScalar zero() { return bcast(0.0f); }
  static VecScalar bcast(float x) {
    VecScalar r;
    for (int i = 0; i < 16; ++i) r.v[i] = x;
    return r;
  }
  static VecScalar load(const float* p) {
    VecScalar r;
    for (int i = 0; i < 16; ++i) r.v[i] = p[i];
    return r;
  }
  static VecScalar load_bf16(const uint16_t* p) {
    VecScalar r;
    for (int i = 0; i < 16; ++i) r.v[i] = bf16_to_f32(p[i]);
    return r;
  }
  static VecScalar load_f16(const uint16_t* p) {
    VecScalar r;
    for (int i = 0; i < 16; ++i) r.v[i] = f16_to_f32(p[i]);
    return r;
  }
  // float(q) * d, exact
  static VecScalar load_q8(const int8_t* q, const VecScalar& d) {
    VecScalar r;
    for (int i = 0; i < 16; ++i) r.v[i] = (float)q[i] * d.v[i];
    return r;
  }
  // base[i * stride] for i < 16
  static VecScalar gather(const float* base, int64_t stride) {
    VecScalar r;
    for (int i = 0; i < 16; ++i) r.v[i] = base[i * stride];
    return r;
  }
  void store(float* p) const {
    for (int i = 0; i < 16; ++i) p[i] = v[i];
  }
};

inline VecScalar vfma(const VecScalar& a, const VecScalar& b, const VecScalar& c) {
  VecScalar r;
  for (int i = 0; i < 16; ++i) r.v[i] = contract_fmaf(a.v[i], b.v[i], c.v[i]);
  return r;
}
inline VecScalar vadd(const VecScalar& a, const VecScalar& b) {
  VecScalar r;
  for (int i = 0; i < 16; ++i) r.v[i] = a.v[i] + b.v[i];
  return r;
}
inline VecScalar vsub(const VecScalar& a, const VecScalar& b) {
  VecScalar r;
  for (int i = 0; i < 16; ++i) r.v[i] = a.v[i] - b.v[i];
  return r;
}
inline VecScalar vmul(const VecScalar& a, const VecScalar& b) {
  VecScalar r;
  for (int i = 0; i < 16; ++i) r.v[i] = a.v[i] * b.v[i];
  return r;
}
inline VecScalar vdiv(const VecScalar& a, const VecScalar& b) {
  VecScalar r;
  for (int i = 0; i < 16; ++i) r.v[i] = a.v[i] / b.v[i];
  return r;
}
// a > b ? a : b per lane (an ordered compare: a NaN a never wins, a NaN b stays)
inline VecScalar vpick_greater(const VecScalar& a, const VecScalar& b) {
  VecScalar r;
  for (int i = 0; i < 16; ++i) r.v[i] = a.v[i] > b.v[i] ? a.v[i] : b.v[i];
  return r;
}
inline VecScalar vexp(const VecScalar& x) {
  VecScalar r;
  for (int i = 0; i < 16; ++i) r.v[i] = contract_expf(x.v[i]);
  return r;
}
inline VecScalar vneg(const VecScalar& x) {
  VecScalar r;
  for (int i = 0; i < 16; ++i) r.v[i] = f32_from_bits(f32_to_bits(x.v[i]) ^ 0x80000000u);
  return r;
}

}  // namespace
}  // namespace ree::kernels
