// The contract's sampler: Philox4x32-10 against Random123's published known
// answers, the uniform draw, and choose_token's greedy/tie/NaN rules.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>

#include "runtime/error.h"
#include "runtime/sampler.h"

using namespace ree;

TEST_CASE("philox4x32-10 matches Random123 kat_vectors") {
  // Random123 tests/kat_vectors, the three "philox4x32 10" lines.
  CHECK(philox4x32_10({0, 0, 0, 0}, {0, 0}) ==
        std::array<uint32_t, 4>{0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8});
  CHECK(philox4x32_10({0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff}, {0xffffffff, 0xffffffff}) ==
        std::array<uint32_t, 4>{0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd});
  CHECK(philox4x32_10({0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344}, {0xa4093822, 0x299f31d0}) ==
        std::array<uint32_t, 4>{0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1});
}

TEST_CASE("sampling_uniform is the top 24 bits of the first word, in [0, 1)") {
  const auto r = philox4x32_10({3, 17, 0, 0}, {0x89abcdefu, 0x01234567u});
  CHECK(sampling_uniform(0x0123456789abcdefull, 3, 17) == float(r[0] >> 8) / 16777216.0f);
  for (uint32_t s = 0; s < 1000; ++s) {
    const float u = sampling_uniform(42, 1, s);
    CHECK(u >= 0.0f);
    CHECK(u < 1.0f);
  }
  CHECK(sampling_uniform(42, 1, 5) != sampling_uniform(43, 1, 5));
  CHECK(sampling_uniform(42, 1, 5) != sampling_uniform(42, 2, 5));
}

TEST_CASE("greedy takes the largest logit, ties to the smallest id, NaN is an error") {
  const float logits[5] = {1.0f, 3.0f, -2.0f, 3.0f, 0.5f};
  const auto sorted = sorted_candidates(logits, 5);
  CHECK(sorted[0].id == 1);
  CHECK(sorted[1].id == 3);
  CHECK(sorted[4].id == 2);
  CHECK(choose_token(SamplingParams{}, sorted, 0, 0) == 1);
  const float bad[3] = {0.0f, std::numeric_limits<float>::quiet_NaN(), 1.0f};
  CHECK_THROWS_AS(sorted_candidates(bad, 3), Error);
}

TEST_CASE("top-k 1 and tiny top-p reduce sampling to greedy") {
  const float logits[4] = {0.1f, 2.0f, 1.9f, -1.0f};
  const auto sorted = sorted_candidates(logits, 4);
  SamplingParams p;
  p.temperature = 1.0f;
  p.seed = 7;
  p.top_k = 1;
  for (uint32_t s = 0; s < 50; ++s) CHECK(choose_token(p, sorted, 0, s) == 1);
  p.top_k = 0;
  p.top_p = 1e-6f;
  for (uint32_t s = 0; s < 50; ++s) CHECK(choose_token(p, sorted, 0, s) == 1);
}

TEST_CASE("the sampled token is the first whose cumulative weight exceeds u * total") {
  // Recompute the contract's rule independently for many counters: with
  // two equal logits the weights are exactly 1 and 1, so the token is
  // candidate 0 iff u * 2 < 1, i.e. u < 0.5.
  const float logits[2] = {0.25f, 0.25f};
  const auto sorted = sorted_candidates(logits, 2);
  SamplingParams p;
  p.temperature = 0.7f;
  p.seed = 99;
  int zeros = 0;
  for (uint32_t s = 0; s < 2000; ++s) {
    const float u = sampling_uniform(p.seed, 4, s);
    const int32_t expected = (u * 2.0f < 1.0f) ? 0 : 1;
    const int32_t got = choose_token(p, sorted, 4, s);
    CHECK(got == expected);
    zeros += got == 0;
  }
  CHECK(zeros > 900);
  CHECK(zeros < 1100);
}
