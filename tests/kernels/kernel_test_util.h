#pragma once
// Helpers shared by the kernel tests: seeded inputs, the SIMD paths to force,
// bit comparison, and the contract's dot product written out from its text
// (independent of src/kernels).
#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>
#include <random>
#include <vector>

#include "kernels/kernels.h"
#include "kernels/thread_pool.h"
#include "runtime/error.h"

namespace ree::kernels::test {

using ree::ThreadPool;

// Every path this CPU can run (tests force each one).
inline std::vector<SimdPath> supported_paths() {
  std::vector<SimdPath> paths;
  for (SimdPath p : {SimdPath::Scalar, SimdPath::Avx2, SimdPath::Avx512})
    if (simd_supported(p)) paths.push_back(p);
  return paths;
}

inline uint32_t bits_of(float x) {
  uint32_t u;
  std::memcpy(&u, &x, 4);
  return u;
}
inline float float_of(uint32_t u) {
  float x;
  std::memcpy(&x, &u, 4);
  return x;
}

// Seeded values; `scale` sets the magnitude. Uses only the engine's raw
// output, so the values are the same with every standard library.
struct Rng {
  std::mt19937_64 engine;
  explicit Rng(uint64_t seed) : engine(seed) {}
  double uniform() { return double(engine() >> 11) * 0x1p-53; }  // [0, 1)
  float symmetric(float scale = 1.0f) { return float((uniform() * 2.0 - 1.0) * scale); }
  std::vector<float> vec(size_t n, float scale = 1.0f) {
    std::vector<float> v(n);
    for (auto& x : v) x = symmetric(scale);
    return v;
  }
};

// The values that break careless kernels: zeros of both signs, subnormals,
// NaN, infinities, huge and tiny numbers.
inline std::vector<float> edge_values() {
  return {0.0f, -0.0f, 1e-45f, -1e-45f, 1.1754942e-38f, -3e-39f, 3e38f, -3e38f, 1e-30f, -1e-20f,
          INFINITY, -INFINITY, NAN, 1.0f, -1.0f, 0.5f, 65504.0f, 6e-8f};
}

// Bits equal, treating every NaN as one value (payloads are not promised;
// hashes canonicalise them, docs/determinism.md).
inline bool same_bits(const float* a, const float* b, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    const bool na = std::isnan(a[i]), nb = std::isnan(b[i]);
    if (na || nb) {
      if (na != nb) return false;
      continue;
    }
    if (bits_of(a[i]) != bits_of(b[i])) return false;
  }
  return true;
}
inline bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && same_bits(a.data(), b.data(), a.size());
}

// repro-v1 D(a, b, K), straight from the contract's text, with libm's fmaf.
inline float contract_dot(const float* a, const float* b, int64_t k, int64_t stride_b = 1) {
  float r = 0.0f;
  for (int64_t c0 = 0; c0 < k; c0 += 256) {
    float acc = 0.0f;
    for (int64_t i = c0; i < k && i < c0 + 256; ++i) acc = std::fma(a[i], b[i * stride_b], acc);
    r = c0 == 0 ? acc : r + acc;
  }
  return r;
}

// Thread pools of 1, 2 and 3 threads (3 on a 2-core machine still splits work).
struct Pools {
  ThreadPool one{1}, two{2}, three{3};
  std::vector<ThreadPool*> all() { return {nullptr, &one, &two, &three}; }
};

}  // namespace ree::kernels::test
