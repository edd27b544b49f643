// The contract's sampler (src/runtime/sampler.h) draws tokens with the
// softmax probabilities of the (top-k, top-p cut) logits at temperature T.
// Expected probabilities are computed here in double precision with std::exp,
// independently of the sampler's own exp; the draws use a fixed seed over
// many (turn, step) counters, so the test is deterministic. Each statistical
// bound is also shown to reject plausible wrong samplers (temperature
// ignored, cumulative sums off by one), so it is not vacuous.
#include <doctest/doctest.h>

#include <cmath>
#include <map>
#include <vector>

#include "runtime/sampler.h"

using namespace ree;

namespace {

constexpr uint64_t kSeed = 0x5eed5eed12345ull;
constexpr int kDraws = 120000;

// Chi-square of observed counts against expected probabilities, over the
// categories with non-zero expectation.
double chi_square(const std::vector<double>& counts, const std::vector<double>& probs, double n) {
  double x = 0.0;
  for (size_t i = 0; i < probs.size(); ++i) {
    if (probs[i] <= 0.0) continue;
    const double e = probs[i] * n;
    x += (counts[i] - e) * (counts[i] - e) / e;
  }
  return x;
}

// Chi-square critical values at p = 1e-6 (so a correct sampler essentially
// never trips them; with a fixed seed the outcome is fixed anyway), by degrees of freedom.
double critical(int dof) {
  static const std::map<int, double> table = {{1, 23.93}, {2, 27.63}, {3, 30.66}, {4, 33.38}, {5, 35.89},
                                              {6, 38.26}, {7, 40.52}, {63, 126.0}};
  return table.at(dof);
}

std::vector<double> softmax(const std::vector<float>& logits, double temperature, size_t keep) {
  std::vector<double> p(logits.size(), 0.0);
  double total = 0.0;
  for (size_t i = 0; i < keep; ++i) total += p[i] = std::exp((double(logits[i]) - double(logits[0])) / temperature);
  for (double& v : p) v /= total;
  return p;
}

std::vector<TopEntry> candidates_of(const std::vector<float>& logits) {
  std::vector<TopEntry> c;
  for (size_t i = 0; i < logits.size(); ++i) c.push_back({int32_t(100 + i), logits[i]});  // already sorted
  return c;
}

std::vector<double> draw_counts(const SamplingParams& params, const std::vector<TopEntry>& candidates) {
  std::vector<double> counts(candidates.size(), 0.0);
  for (int i = 0; i < kDraws; ++i) {
    // Many counters: turns and steps both vary, as in a real session.
    const uint32_t turn = uint32_t(i % 7), step = uint32_t(i / 7);
    const int32_t id = choose_token(params, candidates, turn, step);
    counts[size_t(id - 100)] += 1.0;
  }
  return counts;
}

const std::vector<float> kLogits = {2.0f, 1.5f, 1.25f, 0.5f, 0.0f, -0.75f, -1.5f, -3.0f};

}  // namespace

TEST_CASE("sampler: empirical distribution matches the softmax at temperature T") {
  for (float temperature : {0.5f, 0.8f, 1.0f, 1.7f}) {
    SamplingParams params;
    params.temperature = temperature;
    params.seed = kSeed;
    const auto counts = draw_counts(params, candidates_of(kLogits));
    const auto expected = softmax(kLogits, temperature, kLogits.size());
    const double x = chi_square(counts, expected, kDraws);
    INFO("T=" << temperature << " chi2=" << x);
    CHECK(x < critical(int(kLogits.size()) - 1));

    // Power: the same counts are far from what wrong samplers would produce.
    const double other_t = temperature == 1.0f ? 0.6 : 1.0;  // "temperature ignored" (or applied when it should not be)
    CHECK(chi_square(counts, softmax(kLogits, other_t, kLogits.size()), kDraws) > 10 * critical(7));
    std::vector<double> shifted(expected.size(), 0.0);  // cumulative sums off by one: mass moves one candidate down
    for (size_t i = 0; i + 1 < expected.size(); ++i) shifted[i + 1] += expected[i];
    shifted[0] += expected.back();
    CHECK(chi_square(counts, shifted, kDraws) > 10 * critical(7));
  }
}

TEST_CASE("sampler: top-k keeps the k best candidates, renormalised") {
  SamplingParams params;
  params.temperature = 0.9f;
  params.top_k = 3;
  params.seed = kSeed;
  const auto counts = draw_counts(params, candidates_of(kLogits));
  for (size_t i = 3; i < counts.size(); ++i) CHECK(counts[i] == 0.0);
  const auto expected = softmax(kLogits, 0.9, 3);
  CHECK(chi_square(counts, expected, kDraws) < critical(2));
  // Without the cut the distribution would differ clearly.
  const auto uncut = softmax(kLogits, 0.9, kLogits.size());
  CHECK(chi_square(counts, uncut, kDraws) > 10 * critical(7));
}

TEST_CASE("sampler: top-p keeps the shortest prefix reaching p of the mass") {
  SamplingParams params;
  params.temperature = 1.0f;
  params.top_p = 0.8f;
  params.seed = kSeed;
  const auto full = softmax(kLogits, 1.0, kLogits.size());
  size_t keep = 0;
  for (double cum = 0.0; keep < full.size() && cum < 0.8; ++keep) cum += full[keep];
  REQUIRE(keep >= 2);
  REQUIRE(keep < kLogits.size());
  const auto counts = draw_counts(params, candidates_of(kLogits));
  for (size_t i = keep; i < counts.size(); ++i) CHECK(counts[i] == 0.0);
  CHECK(chi_square(counts, softmax(kLogits, 1.0, keep), kDraws) < critical(int(keep) - 1));
}

TEST_CASE("sampler: the whole-vocabulary path sorts candidates in the contract's order") {
  // Logits in scrambled id order with a tie: sorted_candidates must put the
  // larger logit first and, on ties, the smaller id.
  const std::vector<float> logits = {0.5f, 2.0f, -1.0f, 2.0f, 1.0f};
  const auto sorted = sorted_candidates(logits.data(), int64_t(logits.size()));
  REQUIRE(sorted.size() == 5);
  CHECK(sorted[0].id == 1);
  CHECK(sorted[1].id == 3);
  CHECK(sorted[2].id == 4);
  CHECK(sorted[3].id == 0);
  CHECK(sorted[4].id == 2);
  SamplingParams params;
  params.temperature = 1.3f;
  params.seed = kSeed;
  std::vector<double> counts(5, 0.0);
  for (int i = 0; i < kDraws; ++i) counts[size_t(choose_token(params, sorted, 0, uint32_t(i)))] += 1.0;
  std::vector<double> expected(5);
  double total = 0.0;
  for (size_t i = 0; i < 5; ++i) total += expected[i] = std::exp((double(logits[i]) - 2.0) / 1.3);
  for (double& e : expected) e /= total;
  CHECK(chi_square(counts, expected, kDraws) < critical(4));
}

TEST_CASE("sampler: the uniform draw is uniform and keyed by seed and counter") {
  std::vector<double> bins(64, 0.0);
  for (int i = 0; i < kDraws; ++i) {
    const float u = sampling_uniform(kSeed, uint32_t(i & 3), uint32_t(i >> 2));
    REQUIRE(u >= 0.0f);
    REQUIRE(u < 1.0f);
    bins[size_t(u * 64.0f)] += 1.0;
  }
  CHECK(chi_square(bins, std::vector<double>(64, 1.0 / 64), kDraws) < critical(63));
  CHECK(sampling_uniform(1, 0, 0) == sampling_uniform(1, 0, 0));
  int same = 0;
  for (uint32_t s = 0; s < 100; ++s) same += sampling_uniform(1, 0, s) == sampling_uniform(2, 0, s);
  CHECK(same < 3);
  CHECK(sampling_uniform(1, 0, 1) != sampling_uniform(1, 1, 0));
}
