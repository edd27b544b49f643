// Hashes of f32 vectors (XXH3-64 of canonical little-endian bytes) and greedy argmax.
#define XXH_STATIC_LINKING_ONLY  // XXH3_state_t on the stack
#include <xxhash.h>

#include <cstring>

#include "kernels/contract_math.h"
#include "kernels/kernels.h"

namespace ree::kernels {

namespace {

constexpr int64_t kHashBlock = 1024;  // floats canonicalised per XXH3 update

// NaN -> 0x7fc00000 and -0.0 -> +0.0, so that values equal as the contract
// sees them hash equal whatever NaN payload or zero sign a backend produced.
uint32_t canonical_bits(float v) {
  const uint32_t u = f32_to_bits(v);
  if ((u & 0x7fffffffu) > 0x7f800000u) return 0x7fc00000u;
  if (u == 0x80000000u) return 0u;
  return u;
}

}  // namespace

uint64_t f32_hash(const float* x, int64_t n, uint64_t seed) {
  XXH3_state_t state;
  XXH3_INITSTATE(&state);
  XXH3_64bits_reset_withSeed(&state, seed);
  uint8_t block[kHashBlock * 4];
  for (int64_t i0 = 0; i0 < n; i0 += kHashBlock) {
    const int64_t m = n - i0 < kHashBlock ? n - i0 : kHashBlock;
    for (int64_t i = 0; i < m; ++i) {
      const uint32_t u = canonical_bits(x[i0 + i]);
      // little-endian bytes regardless of the host's order
      block[4 * i + 0] = uint8_t(u);
      block[4 * i + 1] = uint8_t(u >> 8);
      block[4 * i + 2] = uint8_t(u >> 16);
      block[4 * i + 3] = uint8_t(u >> 24);
    }
    XXH3_64bits_update(&state, block, size_t(m) * 4);
  }
  return XXH3_64bits_digest(&state);
}

uint64_t logits_hash(const float* logits, int64_t n) { return f32_hash(logits, n, 0); }

int32_t argmax(const float* logits, int64_t n) {
  int32_t best = -1;
  float best_value = 0.0f;
  for (int64_t i = 0; i < n; ++i) {
    const float v = logits[i];
    if (v != v) return -1;
    if (best < 0 || v > best_value) {  // strict: ties keep the smaller id
      best = int32_t(i);
      best_value = v;
    }
  }
  return best;
}

}  // namespace ree::kernels
