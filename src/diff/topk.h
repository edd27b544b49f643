#pragma once
// The recorded top-k of one step, as the diff and the viewer present it:
// candidates with their logits and probabilities, the top1-top2 margin, and
// whether that margin is a near tie.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace ree::diff {

// A top1-top2 logit margin below this is a near tie: the two candidates may
// swap when the arithmetic changes (fast mode, another thread count or
// device). Chosen from measurement: between reproducible and fast mode (2-4
// threads) on the sample model, the top1-top2 margin of the same step moved
// by 0.008 (median), 0.028 (p90), 0.071 (p99), 0.145 (max) over 930 steps,
// and the two divergences seen happened at margins 0.010 and 0.002
// (docs/diff.md, "Near ties"). Symptom of a value too small: divergences not
// flagged as near ties; too large: most steps flagged. Override with
// `ree diff --near-tie`.
constexpr float kNearTieMargin = 0.1f;

struct TopKEntry {
  int32_t id = 0;
  float logit = 0.0f;
  // Softmax over the recorded candidates only (the full logits are not in
  // the session), so these sum to 1 over the list and overstate each
  // candidate's share of the whole vocabulary.
  float probability = 0.0f;
  std::string piece;  // the token's text when some step of either session produced it
};

struct TopKList {
  std::vector<TopKEntry> entries;  // recorded order: logit descending, id ascending
  int32_t chosen = 0;              // the token the step produced
  float margin = 0.0f;             // recorded top1 - top2 margin
  bool near_tie = false;           // margin < threshold
};

// One rank of two lists side by side.
struct TopKRow {
  std::optional<TopKEntry> a;
  std::optional<TopKEntry> b;
  bool same_id = false;  // both present with the same id
};

// Softmax of `logits` (any order), computed in double from the largest value
// so that it cannot overflow; non-finite logits get probability 0.
std::vector<float> softmax(std::span<const float> logits);
// Shannon entropy in nats of the softmax of `logits` (0 for an empty list).
float entropy(std::span<const float> logits);

// A list from a step's recorded fields (pieces left empty).
TopKList make_topk_list(std::span<const int32_t> ids, std::span<const float> logits, int32_t chosen,
                        float margin, float near_tie_margin);

// Rank-by-rank pairing of two lists (the longer one's tail against nothing).
std::vector<TopKRow> side_by_side(const TopKList& a, const TopKList& b);

// 0-based rank of `id` in `list`; -1 when absent.
int rank_of(const TopKList& list, int32_t id);

}  // namespace ree::diff
