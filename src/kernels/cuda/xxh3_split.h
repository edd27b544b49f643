#pragma once
// XXH3-64 (seed 0, default secret) of a canonicalised f32 vector longer than
// 60 floats (240 bytes), written so that its work can be split: within each
// 1 KiB block the 16 stripes' contributions to the 8 accumulator lanes are
// plain 64-bit sums (order-free), so threads compute them in parallel; only
// the per-lane "scramble" after each block is sequential. The result is
// XXH3_64bits() of the canonical bytes, i.e. kernels::f32_hash(x, n, 0) and
// kernels::logits_hash() (tests/cuda/test_cuda_layout.cpp checks this on
// the host against libxxhash; logits.cu runs it on the GPU).
//
// Transcribed from xxhash.h 0.8.1 (XXH3_hashLong_64b_internal with the scalar
// accumulate/scramble), which is the specification of these values.
#include <stdint.h>

#include "kernels/contract_math.h"

namespace ree::cuda::xxh3 {

// XXH3_kSecret, the default secret (xxhash.h).
#define REE_XXH3_SECRET_BYTES \
  0xb8, 0xfe, 0x6c, 0x39, 0x23, 0xa4, 0x4b, 0xbe, 0x7c, 0x01, 0x81, 0x2c, 0xf7, 0x21, 0xad, 0x1c, \
  0xde, 0xd4, 0x6d, 0xe9, 0x83, 0x90, 0x97, 0xdb, 0x72, 0x40, 0xa4, 0xa4, 0xb7, 0xb3, 0x67, 0x1f, \
  0xcb, 0x79, 0xe6, 0x4e, 0xcc, 0xc0, 0xe5, 0x78, 0x82, 0x5a, 0xd0, 0x7d, 0xcc, 0xff, 0x72, 0x21, \
  0xb8, 0x08, 0x46, 0x74, 0xf7, 0x43, 0x24, 0x8e, 0xe0, 0x35, 0x90, 0xe6, 0x81, 0x3a, 0x26, 0x4c, \
  0x3c, 0x28, 0x52, 0xbb, 0x91, 0xc3, 0x00, 0xcb, 0x88, 0xd0, 0x65, 0x8b, 0x1b, 0x53, 0x2e, 0xa3, \
  0x71, 0x64, 0x48, 0x97, 0xa2, 0x0d, 0xf9, 0x4e, 0x38, 0x19, 0xef, 0x46, 0xa9, 0xde, 0xac, 0xd8, \
  0xa8, 0xfa, 0x76, 0x3f, 0xe3, 0x9c, 0x34, 0x3f, 0xf9, 0xdc, 0xbb, 0xc7, 0xc7, 0x0b, 0x4f, 0x1d, \
  0x8a, 0x51, 0xe0, 0x4b, 0xcd, 0xb4, 0x59, 0x31, 0xc8, 0x9f, 0x7e, 0xc9, 0xd9, 0x78, 0x73, 0x64, \
  0xea, 0xc5, 0xac, 0x83, 0x34, 0xd3, 0xeb, 0xc3, 0xc5, 0x81, 0xa0, 0xff, 0xfa, 0x13, 0x63, 0xeb, \
  0x17, 0x0d, 0xdd, 0x51, 0xb7, 0xf0, 0xda, 0x49, 0xd3, 0x16, 0x55, 0x26, 0x29, 0xd4, 0x68, 0x9e, \
  0x2b, 0x16, 0xbe, 0x58, 0x7d, 0x47, 0xa1, 0xfc, 0x8f, 0xf8, 0xb8, 0xd1, 0x7a, 0xd0, 0x31, 0xce, \
  0x45, 0xcb, 0x3a, 0x8f, 0x95, 0x16, 0x04, 0x28, 0xaf, 0xd7, 0xfb, 0xca, 0xbb, 0x4b, 0x40, 0x7e,

inline constexpr int kSecretSize = 192;
inline constexpr int kStripeFloats = 16;   // 64-byte stripe
inline constexpr int kBlockFloats = 256;   // 16 stripes = 1 KiB
inline constexpr int kStripesPerBlock = 16;
inline constexpr int kLastAccStart = 7;
inline constexpr int kMergeAccsStart = 11;

// NaN -> 0x7fc00000, -0.0 -> +0.0 (kernels/hash.cpp canonical_bits).
REE_HD static inline uint32_t canonical_bits(float v) {
  const uint32_t u = kernels::f32_to_bits(v);
  if ((u & 0x7fffffffu) > 0x7f800000u) return 0x7fc00000u;
  if (u == 0x80000000u) return 0u;
  return u;
}

REE_HD static inline uint64_t read_le64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= uint64_t(p[i]) << (8 * i);
  return v;
}

// The little-endian 64-bit word at float index f (floats f and f + 1).
REE_HD static inline uint64_t canonical_word(const float* x, int64_t f) {
  return uint64_t(canonical_bits(x[f])) | (uint64_t(canonical_bits(x[f + 1])) << 32);
}

// What accumulate_512 adds to acc[lane] for the stripe starting at float f,
// with `secret` already advanced to that stripe's key.
REE_HD static inline uint64_t lane_contribution(const float* x, int64_t f, const uint8_t* secret, int lane) {
  const uint64_t value = canonical_word(x, f + 2 * lane);
  const uint64_t swapped = canonical_word(x, f + 2 * (lane ^ 1));  // acc[i ^ 1] += data_val[i]
  const uint64_t key = value ^ read_le64(secret + 8 * lane);
  return swapped + (key & 0xffffffffull) * (key >> 32);
}

// Sum over the 16 stripes of block b (floats 256b .. 256b + 255) for one lane.
REE_HD static inline uint64_t block_contribution(const float* x, int64_t b, const uint8_t* secret, int lane) {
  uint64_t sum = 0;
  for (int s = 0; s < kStripesPerBlock; ++s)
    sum += lane_contribution(x, b * kBlockFloats + s * kStripeFloats, secret + 8 * s, lane);
  return sum;
}

REE_HD static inline uint64_t initial_acc(int lane) {
  const uint64_t init[8] = {0xC2B2AE3Dull,          0x9E3779B185EBCA87ull, 0xC2B2AE3D27D4EB4Full,
                            0x165667B19E3779F9ull, 0x85EBCA77C2B2AE63ull, 0x85EBCA77ull,
                            0x27D4EB2F165667C5ull, 0x9E3779B1ull};
  return init[lane];
}

REE_HD static inline uint64_t scramble(uint64_t acc, const uint8_t* secret, int lane) {
  const uint64_t key = read_le64(secret + kSecretSize - 64 + 8 * lane);
  acc ^= acc >> 47;
  acc ^= key;
  return acc * 0x9E3779B1ull;
}

// Blocks, the stripes of the last partial block, and the length, of n floats.
struct Split {
  int64_t len = 0;             // bytes
  int64_t full_blocks = 0;
  int64_t tail_stripes = 0;
};
REE_HD static inline Split split_of(int64_t n) {
  Split s;
  s.len = 4 * n;
  s.full_blocks = (s.len - 1) / (kBlockFloats * 4);
  s.tail_stripes = ((s.len - 1) - s.full_blocks * kBlockFloats * 4) / 64;
  return s;
}

// The partial block's stripes plus the final stripe, for one lane.
REE_HD static inline uint64_t tail_contribution(const float* x, const Split& s, const uint8_t* secret, int lane) {
  uint64_t sum = 0;
  for (int64_t k = 0; k < s.tail_stripes; ++k)
    sum += lane_contribution(x, s.full_blocks * kBlockFloats + k * kStripeFloats, secret + 8 * k, lane);
  // the last stripe: bytes len-64 .. len-1, i.e. floats n-16 .. n-1
  sum += lane_contribution(x, s.len / 4 - kStripeFloats, secret + kSecretSize - 64 - kLastAccStart, lane);
  return sum;
}

REE_HD static inline uint64_t mul128_fold64(uint64_t a, uint64_t b) {
#if defined(__CUDA_ARCH__)
  return (a * b) ^ __umul64hi(a, b);
#else
  const unsigned __int128 p = (unsigned __int128)a * b;
  return uint64_t(p) ^ uint64_t(p >> 64);
#endif
}

REE_HD static inline uint64_t merge(const uint64_t (&acc)[8], const uint8_t* secret, int64_t len) {
  uint64_t r = uint64_t(len) * 0x9E3779B185EBCA87ull;
  for (int i = 0; i < 4; ++i) {
    const uint8_t* s = secret + kMergeAccsStart + 16 * i;
    r += mul128_fold64(acc[2 * i] ^ read_le64(s), acc[2 * i + 1] ^ read_le64(s + 8));
  }
  r ^= r >> 37;
  r *= 0x165667919E3779F9ull;
  r ^= r >> 32;
  return r;
}

// The whole hash, sequentially (host reference of the split; n > 60).
REE_HD static inline uint64_t hash_sequential(const float* x, int64_t n, const uint8_t* secret) {
  const Split s = split_of(n);
  uint64_t acc[8];
  for (int lane = 0; lane < 8; ++lane) {
    uint64_t a = initial_acc(lane);
    for (int64_t b = 0; b < s.full_blocks; ++b) a = scramble(a + block_contribution(x, b, secret, lane), secret, lane);
    acc[lane] = a + tail_contribution(x, s, secret, lane);
  }
  return merge(acc, secret, s.len);
}

inline constexpr int64_t kMinFloats = 61;  // XXH3's long path starts above 240 bytes

}  // namespace ree::cuda::xxh3
