#pragma once
// Choosing the next token exactly as repro-v1 specifies ("Choosing the next
// token"): greedy, or seeded sampling with Philox4x32-10 keyed by the
// session seed and counted by (turn, step).
#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "runtime/engine.h"

namespace ree {

struct SamplingParams {
  float temperature = 0.0f;  // 0: greedy
  int top_k = 0;             // 0: no top-k cut
  float top_p = 1.0f;        // 1: no top-p cut
  uint64_t seed = 0;
  bool greedy() const { return temperature <= 0.0f; }
};

// Philox4x32-10 (Salmon et al., SC'11): key = (seed low 32, seed high 32).
std::array<uint32_t, 4> philox4x32_10(std::array<uint32_t, 4> counter, std::array<uint32_t, 2> key);

// The uniform draw for (turn, step): counter = (turn, step, 0, 0); the top
// 24 bits of the first output word times 2^-24, so u is in [0, 1).
float sampling_uniform(uint64_t seed, uint32_t turn, uint32_t step);

// All candidates of a logits row in the contract's order (logit desc, id asc).
std::vector<TopEntry> sorted_candidates(const float* logits, int64_t vocab);

// Picks a token from candidates already in the contract's order (the whole
// vocabulary, or at least the first top_k of it). Greedy returns the first.
// Throws ree::Error on a NaN logit.
int32_t choose_token(const SamplingParams& params, std::span<const TopEntry> candidates,
                     uint32_t turn, uint32_t step);

}  // namespace ree
