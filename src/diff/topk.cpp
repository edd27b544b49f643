// Top-k presentation helpers: softmax, entropy, pairing of two lists.
#include "diff/topk.h"

#include <algorithm>
#include <cmath>

namespace ree::diff {

std::vector<float> softmax(std::span<const float> logits) {
  std::vector<float> probabilities(logits.size(), 0.0f);
  double max_logit = -INFINITY;
  for (float logit : logits)
    if (std::isfinite(logit)) max_logit = std::max(max_logit, static_cast<double>(logit));
  if (!std::isfinite(max_logit)) return probabilities;
  double total = 0.0;
  std::vector<double> weights(logits.size(), 0.0);
  for (size_t i = 0; i < logits.size(); ++i) {
    if (!std::isfinite(logits[i])) continue;
    weights[i] = std::exp(static_cast<double>(logits[i]) - max_logit);
    total += weights[i];
  }
  for (size_t i = 0; i < logits.size(); ++i) probabilities[i] = static_cast<float>(weights[i] / total);
  return probabilities;
}

float entropy(std::span<const float> logits) {
  // H = log Z - sum_i p_i (l_i - max) with w_i = exp(l_i - max), Z = sum w_i:
  // one exp per candidate and no allocation (the viewer computes this for
  // every step of a session when it opens it).
  double max_logit = -INFINITY;
  for (float logit : logits)
    if (std::isfinite(logit)) max_logit = std::max(max_logit, static_cast<double>(logit));
  if (!std::isfinite(max_logit)) return 0.0f;
  double total = 0.0;
  double weighted = 0.0;
  for (float logit : logits) {
    if (!std::isfinite(logit)) continue;
    const double shifted = static_cast<double>(logit) - max_logit;
    const double w = std::exp(shifted);
    total += w;
    weighted += w * shifted;
  }
  return static_cast<float>(std::log(total) - weighted / total);
}

TopKList make_topk_list(std::span<const int32_t> ids, std::span<const float> logits, int32_t chosen,
                        float margin, float near_tie_margin) {
  TopKList list;
  list.chosen = chosen;
  list.margin = margin;
  // A NaN margin is not a near tie we can vouch for; a negative one (bad
  // file) is, since the recorded order then contradicts the logits.
  list.near_tie = margin < near_tie_margin;
  const size_t n = std::min(ids.size(), logits.size());
  const std::vector<float> probabilities = softmax(logits.first(n));
  list.entries.reserve(n);
  for (size_t i = 0; i < n; ++i) list.entries.push_back({ids[i], logits[i], probabilities[i], {}});
  return list;
}

std::vector<TopKRow> side_by_side(const TopKList& a, const TopKList& b) {
  const size_t n = std::max(a.entries.size(), b.entries.size());
  std::vector<TopKRow> rows(n);
  for (size_t i = 0; i < n; ++i) {
    if (i < a.entries.size()) rows[i].a = a.entries[i];
    if (i < b.entries.size()) rows[i].b = b.entries[i];
    rows[i].same_id = rows[i].a && rows[i].b && rows[i].a->id == rows[i].b->id;
  }
  return rows;
}

int rank_of(const TopKList& list, int32_t id) {
  for (size_t i = 0; i < list.entries.size(); ++i)
    if (list.entries[i].id == id) return static_cast<int>(i);
  return -1;
}

}  // namespace ree::diff
