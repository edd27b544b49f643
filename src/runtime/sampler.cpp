#include "runtime/sampler.h"

#include <algorithm>
#include <cmath>

#include "kernels/contract_math.h"
#include "runtime/error.h"

namespace ree {

namespace {
inline void mulhilo(uint32_t a, uint32_t b, uint32_t* hi, uint32_t* lo) {
  const uint64_t p = uint64_t(a) * uint64_t(b);
  *hi = uint32_t(p >> 32);
  *lo = uint32_t(p);
}
}  // namespace

std::array<uint32_t, 4> philox4x32_10(std::array<uint32_t, 4> c, std::array<uint32_t, 2> k) {
  // Constants from Random123 (philox.h): multipliers and Weyl key increments.
  constexpr uint32_t M0 = 0xD2511F53u, M1 = 0xCD9E8D57u;
  constexpr uint32_t W0 = 0x9E3779B9u, W1 = 0xBB67AE85u;
  for (int round = 0; round < 10; ++round) {
    if (round > 0) {
      k[0] += W0;
      k[1] += W1;
    }
    uint32_t hi0, lo0, hi1, lo1;
    mulhilo(M0, c[0], &hi0, &lo0);
    mulhilo(M1, c[2], &hi1, &lo1);
    c = {hi1 ^ c[1] ^ k[0], lo1, hi0 ^ c[3] ^ k[1], lo0};
  }
  return c;
}

float sampling_uniform(uint64_t seed, uint32_t turn, uint32_t step) {
  const auto r = philox4x32_10({turn, step, 0u, 0u}, {uint32_t(seed), uint32_t(seed >> 32)});
  return float(r[0] >> 8) * 0x1.0p-24f;  // exact: a 24-bit integer times a power of two
}

std::vector<TopEntry> sorted_candidates(const float* logits, int64_t vocab) {
  std::vector<TopEntry> all(static_cast<size_t>(vocab));
  for (int64_t i = 0; i < vocab; ++i) all[size_t(i)] = {int32_t(i), logits[i]};
  for (const TopEntry& e : all)
    if (std::isnan(e.logit)) throw Error("NaN logit for token " + std::to_string(e.id));
  std::sort(all.begin(), all.end(), [](const TopEntry& a, const TopEntry& b) {
    return a.logit != b.logit ? a.logit > b.logit : a.id < b.id;
  });
  return all;
}

int32_t choose_token(const SamplingParams& params, std::span<const TopEntry> candidates,
                     uint32_t turn, uint32_t step) {
  if (candidates.empty()) throw Error("no candidate tokens");
  for (const TopEntry& e : candidates)
    if (std::isnan(e.logit)) throw Error("NaN logit for token " + std::to_string(e.id));
  if (params.greedy()) return candidates[0].id;

  // top-k, then weights w_i = exp((l_i - l_max) / T) in candidate order.
  size_t n = candidates.size();
  if (params.top_k > 0) n = std::min(n, size_t(params.top_k));
  const float l_max = candidates[0].logit;
  std::vector<float> w(n);
  for (size_t i = 0; i < n; ++i)
    w[i] = kernels::contract_expf((candidates[i].logit - l_max) / params.temperature);

  // top-p: the shortest prefix whose cumulative weight reaches p * total.
  if (params.top_p < 1.0f) {
    float total = 0.0f;
    for (size_t i = 0; i < n; ++i) total = total + w[i];
    const float target = params.top_p * total;
    float cum = 0.0f;
    for (size_t i = 0; i < n; ++i) {
      cum = cum + w[i];
      if (cum >= target) {
        n = i + 1;
        break;
      }
    }
  }
  float total = 0.0f;
  for (size_t i = 0; i < n; ++i) total = total + w[i];
  const float threshold = sampling_uniform(params.seed, turn, step) * total;
  float cum = 0.0f;
  for (size_t i = 0; i < n; ++i) {
    cum = cum + w[i];
    if (cum > threshold) return candidates[i].id;
  }
  return candidates[n - 1].id;  // u*total rounded up to total: the last kept candidate
}

}  // namespace ree
