// RoPE angle tables: freq_i = theta^(-2i/head_dim), angle = pos * freq_i, in
// double with the project's own pow/sin/cos, each entry rounded to f32 once.
#include <string>

#include "kernels/contract_math_f64.h"
#include "kernels/kernels.h"
#include "runtime/error.h"

namespace ree::kernels {

RopeTable make_rope_table(int head_dim, int64_t max_pos, double theta) {
  if (head_dim <= 0 || head_dim % 2 != 0)
    throw Error("kernels: rope table: head_dim " + std::to_string(head_dim) + " is not a positive even number");
  if (max_pos < 0) throw Error("kernels: rope table: negative max_pos");
  if (!(theta > 0.0) || theta - theta != 0.0)
    throw Error("kernels: rope table: theta " + std::to_string(theta) + " is not a positive finite number");
  const int half = head_dim / 2;
  RopeTable t;
  t.head_dim = head_dim;
  t.max_pos = max_pos;
  t.cos.resize(size_t(max_pos) * half);
  t.sin.resize(size_t(max_pos) * half);
  for (int i = 0; i < half; ++i) {
    const double freq = contract_pow(theta, -double(2 * i) / double(head_dim));
    for (int64_t pos = 0; pos < max_pos; ++pos) {
      const double angle = double(pos) * freq;
      t.cos[size_t(pos) * half + i] = float(contract_cos(angle));
      t.sin[size_t(pos) * half + i] = float(contract_sin(angle));
    }
  }
  return t;
}

}  // namespace ree::kernels
