// Double-precision contract math for the RoPE tables (contract_math_f64.h).
// Polynomials are Taylor series carried far enough that their remainder is
// below 1e-17 on the reduced interval: simple to check, and the result is
// rounded to f32 anyway.
#include "kernels/contract_math_f64.h"

#include <cstdint>
#include <cstring>

namespace ree::kernels {

namespace {

uint64_t bits(double x) {
  uint64_t u;
  std::memcpy(&u, &x, 8);
  return u;
}
double from_bits(uint64_t u) {
  double x;
  std::memcpy(&x, &u, 8);
  return x;
}
double fma64(double a, double b, double c) { return __builtin_fma(a, b, c); }
double pow2i(int k) { return from_bits(uint64_t(k + 1023) << 52); }  // -1022 <= k <= 1023

constexpr double kInf = __builtin_huge_val();
constexpr double kShifter = 0x1.8p52;  // rounds |v| < 2^51 to an integer, ties to even

// ln 2 = kLn2Hi + kLn2Lo (fdlibm's split: kLn2Hi has 21 trailing zero bits, so
// k * kLn2Hi is exact for |k| < 2^21).
constexpr double kLn2Hi = 6.93147180369123816490e-01;
constexpr double kLn2Lo = 1.90821492927058770002e-10;
constexpr double kLog2e = 1.44269504088896338700e+00;

// pi/2 in three 33-bit parts plus a tail (fdlibm's pio2_1, pio2_2, pio2_3,
// pio2_3t): n * part is exact for |n| < 2^20.
constexpr double kPio2_1 = 1.57079632673412561417e+00;
constexpr double kPio2_2 = 6.07710050630396597660e-11;
constexpr double kPio2_3 = 2.02226624871116645580e-21;
constexpr double kPio2_3t = 8.47842766036889956997e-32;
constexpr double kTwoOverPi = 6.36619772367581382433e-01;

// e^r for |r| <= ln2/2: Taylor to degree 13 (remainder < 4e-18 relative).
double exp_poly(double r) {
  double p = 1.0 / 6227020800.0;  // 1/13!
  const double inv_fact[] = {1.0 / 479001600.0, 1.0 / 39916800.0, 1.0 / 3628800.0, 1.0 / 362880.0, 1.0 / 40320.0,
                             1.0 / 5040.0,      1.0 / 720.0,      1.0 / 120.0,     1.0 / 24.0,     1.0 / 6.0,
                             0.5,               1.0,              1.0};
  for (double c : inv_fact) p = fma64(p, r, c);
  return p;
}

// sin(y), cos(y) for |y| <= pi/4 (+ a little): Taylor to degree 19 / 20.
double sin_poly(double y) {
  const double y2 = y * y;
  double p = -1.0 / 121645100408832000.0;  // -1/19!
  const double c[] = {1.0 / 355687428096000.0, -1.0 / 1307674368000.0, 1.0 / 6227020800.0, -1.0 / 39916800.0,
                      1.0 / 362880.0,          -1.0 / 5040.0,          1.0 / 120.0,        -1.0 / 6.0};
  for (double ci : c) p = fma64(p, y2, ci);
  return fma64(p * y2, y, y);  // y + y^3 * (-1/6 + ...)
}
double cos_poly(double y) {
  const double y2 = y * y;
  double p = 1.0 / 2432902008176640000.0;  // 1/20!
  const double c[] = {-1.0 / 6402373705728000.0, 1.0 / 20922789888000.0, -1.0 / 87178291200.0, 1.0 / 479001600.0,
                      -1.0 / 3628800.0,          1.0 / 40320.0,          -1.0 / 720.0,         1.0 / 24.0,
                      -0.5};
  for (double ci : c) p = fma64(p, y2, ci);
  return fma64(p, y2, 1.0);
}

// x = n * pi/2 + y, |y| <= pi/4 (about); returns n mod 4.
int reduce_pio2(double x, double* y) {
  const double n = (fma64(x, kTwoOverPi, kShifter) - kShifter);
  double r = fma64(-n, kPio2_1, x);
  r = fma64(-n, kPio2_2, r);
  r = fma64(-n, kPio2_3, r);
  *y = fma64(-n, kPio2_3t, r);
  const int64_t ni = int64_t(n);
  return int(ni & 3);
}

}  // namespace

double contract_exp(double x) {
  if (!(x == x)) return x + x;
  if (x > 709.8) return kInf;
  if (x < -745.2) return 0.0;
  const double kf = fma64(x, kLog2e, kShifter) - kShifter;
  double r = fma64(kf, -kLn2Hi, x);
  r = fma64(kf, -kLn2Lo, r);
  const int k = int(kf);  // -1075 <= k <= 1025
  const int k1 = k >> 1, k2 = k - k1;
  return (exp_poly(r) * pow2i(k1)) * pow2i(k2);
}

double contract_log(double x) {
  if (!(x == x) || x < 0.0) return from_bits(0x7ff8000000000000ull);
  if (x == 0.0) return -kInf;
  if (x == kInf) return kInf;
  int e = 0;
  if (x < 0x1p-1022) {  // subnormal: make it normal first
    x *= 0x1p54;
    e = -54;
  }
  const uint64_t u = bits(x);
  e += int((u >> 52) & 0x7ff) - 1023;
  double m = from_bits((u & 0x000fffffffffffffull) | 0x3ff0000000000000ull);  // [1, 2)
  if (m > 1.4142135623730951) {
    m *= 0.5;
    ++e;
  }
  // log m = 2 atanh(f), f = (m - 1) / (m + 1), |f| <= 0.1716: series to f^25.
  const double f = (m - 1.0) / (m + 1.0);
  const double s = f * f;
  double p = 1.0 / 25.0;
  for (int k = 23; k >= 1; k -= 2) p = fma64(p, s, 1.0 / double(k));
  const double log_m = 2.0 * f * p;
  const double de = double(e);
  return fma64(de, kLn2Hi, fma64(de, kLn2Lo, log_m));
}

double contract_pow(double base, double y) {
  if (!(base > 0.0)) return from_bits(0x7ff8000000000000ull);
  return contract_exp(y * contract_log(base));
}

double contract_sin(double x) {
  if (!(x - x == 0.0)) return from_bits(0x7ff8000000000000ull);  // inf, NaN
  double y;
  switch (reduce_pio2(x, &y)) {
    case 0: return sin_poly(y);
    case 1: return cos_poly(y);
    case 2: return -sin_poly(y);
    default: return -cos_poly(y);
  }
}

double contract_cos(double x) {
  if (!(x - x == 0.0)) return from_bits(0x7ff8000000000000ull);
  double y;
  switch (reduce_pio2(x, &y)) {
    case 0: return cos_poly(y);
    case 1: return -sin_poly(y);
    case 2: return -cos_poly(y);
    default: return sin_poly(y);
  }
}

}  // namespace ree::kernels
