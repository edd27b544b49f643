#pragma once
// Double-precision exp, log, pow, sin, cos made only of + - * / fma and bit
// operations (no libm), for the RoPE tables, which are computed once on the
// host and rounded to f32 (make_rope_table). Host only; every backend uses the
// same f32 tables, so these never run on a GPU. Error bounds: docs/determinism.md.
namespace ree::kernels {

double contract_exp(double x);          // whole range; NaN -> NaN
double contract_log(double x);          // x > 0; log(0) = -inf, x < 0 -> NaN
double contract_pow(double base, double y);  // base > 0 (exp(y * log(base))); otherwise NaN
// sin, cos with Cody-Waite reduction by pi/2 in three parts (accurate to about
// 1e-16 absolute for |x| up to ~1e6 and beyond; the RoPE angles stay below that).
double contract_sin(double x);
double contract_cos(double x);

}  // namespace ree::kernels
