// Error bounds of the contract math against long double / double references,
// special values, and bit identity of the vector exp on every SIMD path.
#include <doctest/doctest.h>

#include <cfloat>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "kernel_test_util.h"
#include "kernels/contract_math.h"
#include "kernels/contract_math_f64.h"
#include "kernels/kernel_table.h"

using namespace ree::kernels;
using namespace ree::kernels::test;

namespace {

// |y - ref| in units of the f32 ulp at ref (subnormal spacing below 2^-126).
double ulp_error_f32(float y, long double ref) {
  const long double mag = fabsl(ref);
  long double ulp;
  if (mag < 0x1p-126L) {
    ulp = 0x1p-149L;
  } else {
    int e;
    frexpl(mag, &e);  // mag = m * 2^e, m in [0.5, 1)
    ulp = ldexpl(1.0L, e - 24);
  }
  if (std::isinf(y)) {
    // inf is right when ref rounds above FLT_MAX (>= FLT_MAX + half an ulp)
    const long double limit = (long double)FLT_MAX + ldexpl(1.0L, 127 - 24);
    return (y > 0 && ref >= limit) ? 0.0 : 1e30;
  }
  return double(fabsl((long double)y - ref) / ulp);
}

// The same contract_expf inlined with the fma instruction (bits identical to
// the fmaf-calling copy; only faster, so the sweep takes seconds).
__attribute__((target("fma"))) float expf_with_fma(float x) { return contract_expf(x); }
float expf_any(float x) {
  static const bool fma = __builtin_cpu_supports("fma");
  return fma ? expf_with_fma(x) : contract_expf(x);
}

// ulp_error_f32 for a double reference with bit operations only (the sweep's
// hot loop; x87 long double arithmetic would dominate its time).
double ulp_error_f32_fast(float y, double ref) {
  if (std::isinf(y)) return ulp_error_f32(y, (long double)ref);
  uint64_t u;
  std::memcpy(&u, &ref, 8);
  const int e = int((u >> 52) & 0x7ff) - 1023;  // ref = m * 2^e, m in [1, 2)
  const int ulp_exp = e < -126 ? -149 : e - 23;
  const uint64_t ulp_bits = uint64_t(ulp_exp + 1023) << 52;
  double ulp;
  std::memcpy(&ulp, &ulp_bits, 8);
  return std::fabs(double(y) - ref) / ulp;
}

struct ExpSweep {
  double max_ulp_normal = 0, max_ulp_subnormal = 0;
  uint64_t checked = 0;
  float worst_x = 0;
};

// Every `stride`-th bit pattern in [-104, 88.8] (where exp is not a constant).
template <class Ref, class Err>
ExpSweep sweep_exp(uint64_t stride, Ref ref, Err ulp_error) {
  ExpSweep s;
  for (uint64_t u = 0; u < (1ull << 32); u += stride) {
    const float x = float_of(uint32_t(u));
    if (!(x >= -104.0f && x <= 88.8f)) continue;
    const auto r = ref(x);
    const double err = ulp_error(expf_any(x), r);
    ++s.checked;
    if (std::fabs(double(r)) < 0x1p-126) {
      s.max_ulp_subnormal = std::max(s.max_ulp_subnormal, err);
    } else if (err > s.max_ulp_normal) {
      s.max_ulp_normal = err;
      s.worst_x = x;
    }
  }
  return s;
}

uint64_t env_stride(const char* name, uint64_t fallback) {
  const char* v = std::getenv(name);
  return v ? std::strtoull(v, nullptr, 10) : fallback;
}

}  // namespace

TEST_CASE("contract exp: error over a strided sweep of all floats") {
  // Every 7th pattern against double exp (29 bits beyond f32, so its own
  // error is invisible here), and every 1009th against long double expl.
  // REE_EXP_STRIDE=1 makes the first sweep exhaustive (about 30 s).
  const uint64_t stride = env_stride("REE_EXP_STRIDE", 7);
  const ExpSweep dbl = sweep_exp(stride, [](float x) { return std::exp(double(x)); }, ulp_error_f32_fast);
  const ExpSweep ld = sweep_exp(1009, [](float x) { return expl((long double)x); }, ulp_error_f32);
  std::printf("contract_expf: stride %llu, %llu values: max %.4f ulp (normal results, worst x = %a), "
              "%.4f ulp of 2^-149 (subnormal results); long double check (stride 1009): %.4f / %.4f\n",
              (unsigned long long)stride, (unsigned long long)dbl.checked, dbl.max_ulp_normal, double(dbl.worst_x),
              dbl.max_ulp_subnormal, ld.max_ulp_normal, ld.max_ulp_subnormal);
  CHECK(dbl.checked > 1000000);
  CHECK(dbl.max_ulp_normal < 1.5);
  CHECK(dbl.max_ulp_subnormal <= 1.0);
  CHECK(ld.max_ulp_normal < 1.5);
  CHECK(ld.max_ulp_subnormal <= 1.0);
}

TEST_CASE("contract exp: special values and range ends") {
  CHECK(std::isnan(contract_expf(NAN)));
  CHECK(std::isnan(contract_expf(-NAN)));
  CHECK(contract_expf(INFINITY) == INFINITY);
  CHECK(bits_of(contract_expf(-INFINITY)) == 0u);
  CHECK(contract_expf(0.0f) == 1.0f);
  CHECK(contract_expf(-0.0f) == 1.0f);
  CHECK(contract_expf(88.72283f) < INFINITY);   // just below ln(FLT_MAX)
  CHECK(contract_expf(88.72284f) == INFINITY);  // just above
  CHECK(contract_expf(89.0f) == INFINITY);
  CHECK(contract_expf(FLT_MAX) == INFINITY);
  CHECK(bits_of(contract_expf(-FLT_MAX)) == 0u);
  CHECK(contract_expf(-103.0f) > 0.0f);         // subnormal, not flushed
  CHECK(contract_expf(-103.0f) < FLT_MIN);
  CHECK(bits_of(contract_expf(-104.5f)) == 0u);
  // the least subnormal 2^-149 = exp(-103.2789...)
  CHECK(contract_expf(-103.27f) == 0x1p-149f);
  CHECK(contract_silu(0.0f) == 0.0f);
  CHECK(std::isnan(contract_silu(-INFINITY)));  // -inf / (1 + exp(inf)) = -inf / inf
  CHECK(contract_silu(INFINITY) == INFINITY);
  CHECK(contract_silu(-200.0f) == -0.0f);
}

TEST_CASE("contract exp: the vector exp of every SIMD path equals the scalar one") {
  std::vector<float> x;
  for (uint64_t u = 0; u < (1ull << 32); u += 4099) x.push_back(float_of(uint32_t(u)));
  for (float e : edge_values()) x.push_back(e);
  for (float v : {88.72283f, 88.72284f, 88.8f, 88.80001f, -104.0f, -104.00001f, -103.27f, -87.0f})
    x.push_back(v);
  std::vector<float> want(x.size());
  for (size_t i = 0; i < x.size(); ++i) want[i] = contract_expf(x[i]);
  for (SimdPath p : supported_paths()) {
    CAPTURE(simd_name(p));
    std::vector<float> got(x.size());
    kernel_table(p).exp_n(x.data(), int64_t(x.size()), got.data());
    CHECK(same_bits(got, want));
  }
}

TEST_CASE("contract math f64: exp, log, pow against long double") {
  double max_rel_exp = 0, max_abs_log = 0, max_rel_pow = 0;
  Rng rng(11);
  for (int i = 0; i < 200000; ++i) {
    const double x = (rng.uniform() * 2 - 1) * 700.0;
    const long double r = expl((long double)x);
    max_rel_exp = std::max(max_rel_exp, double(fabsl(contract_exp(x) - r) / r));
    const double y = std::ldexp(1.0 + rng.uniform(), int(rng.uniform() * 200) - 100);
    const long double ly = logl((long double)y);
    max_abs_log = std::max(max_abs_log, double(fabsl(contract_log(y) - ly) / std::max(1.0L, fabsl(ly))));
    const double theta = 1000.0 + rng.uniform() * 1e7, e = -rng.uniform();
    const long double pr = powl((long double)theta, (long double)e);
    max_rel_pow = std::max(max_rel_pow, double(fabsl(contract_pow(theta, e) - pr) / pr));
  }
  std::printf("contract f64: exp max rel err %.3g, log max err %.3g (relative above 1, absolute below), pow (theta 1e3..1e7, y in [-1,0]) "
              "max rel err %.3g\n", max_rel_exp, max_abs_log, max_rel_pow);
  CHECK(max_rel_exp < 4e-16);
  CHECK(max_abs_log < 1e-15);
  CHECK(max_rel_pow < 4e-15);
  CHECK(contract_log(1.0) == 0.0);
  CHECK(contract_exp(0.0) == 1.0);
  CHECK(std::isnan(contract_log(-1.0)));
  CHECK(contract_log(0.0) == -INFINITY);
  CHECK(contract_exp(1000.0) == INFINITY);
  CHECK(contract_exp(-1000.0) == 0.0);
  const double least_subnormal = 0x1p-1074;
  CHECK(fabsl(contract_log(least_subnormal) - logl((long double)least_subnormal)) < 1e-12);
}

TEST_CASE("contract math f64: sin and cos up to 1e6 rad against long double") {
  double max_abs = 0;
  Rng rng(12);
  for (int i = 0; i < 200000; ++i) {
    const double mag = std::pow(10.0, rng.uniform() * 12 - 6);  // 1e-6 .. 1e6
    const double x = rng.uniform() < 0.5 ? -mag : mag;
    max_abs = std::max(max_abs, double(fabsl(contract_sin(x) - sinl((long double)x))));
    max_abs = std::max(max_abs, double(fabsl(contract_cos(x) - cosl((long double)x))));
  }
  // angles of RoPE tables: integer positions times frequencies
  for (int pos = 0; pos < 200000; pos += 7) {
    const double x = double(pos) * 0.8659643233600653;  // 10000^(-1/64)
    max_abs = std::max(max_abs, double(fabsl(contract_sin(x) - sinl((long double)x))));
  }
  std::printf("contract f64: sin/cos |x| <= 1e6 max abs err %.3g\n", max_abs);
  CHECK(max_abs < 5e-16);
  CHECK(std::isnan(contract_sin(INFINITY)));
  CHECK(contract_sin(0.0) == 0.0);
  CHECK(contract_cos(0.0) == 1.0);
}

TEST_CASE("rope table: f32 rounding of long double cos/sin of pos * theta^(-2i/d)") {
  const RopeTable t = make_rope_table(64, 4096, 10000.0);
  REQUIRE(t.cos.size() == size_t(4096 * 32));
  int off_by_more_than_half_ulp = 0;
  for (int64_t pos = 0; pos < 4096; pos += 3) {
    for (int i = 0; i < 32; ++i) {
      const long double freq = powl(10000.0L, -(long double)(2 * i) / 64.0L);
      const long double angle = (long double)pos * freq;
      const float c = t.cos[size_t(pos) * 32 + i], s = t.sin[size_t(pos) * 32 + i];
      // within one f32 ulp of the true value (the double computation is ~1e-15)
      if (ulp_error_f32(c, cosl(angle)) > 0.5001 || ulp_error_f32(s, sinl(angle)) > 0.5001) ++off_by_more_than_half_ulp;
      CHECK(ulp_error_f32(c, cosl(angle)) <= 1.0);
      CHECK(ulp_error_f32(s, sinl(angle)) <= 1.0);
    }
  }
  CHECK(off_by_more_than_half_ulp == 0);
  CHECK(t.cos[0] == 1.0f);
  CHECK(t.sin[0] == 0.0f);
  CHECK_THROWS(make_rope_table(63, 10, 10000.0));
  CHECK_THROWS(make_rope_table(64, 10, -1.0));
}
