#pragma once
// How two aligned steps (same turn, same index) differ.
#include <string>

#include "diff/comparison.h"
#include "trace/schema.h"

namespace ree::diff {

struct StepDelta {
  bool token = false;         // token ids differ
  bool piece = false;         // same id, different text (a tokenizer difference)
  bool logits_hash = false;
  bool topk_ids = false;      // the recorded candidate ids or their order differ
  bool topk_values = false;   // same ids, different logits or margin
  bool layer_hashes = false;  // per-layer probe hashes differ
  bool position = false;      // the absolute position differs (the context length differs)

  bool any() const { return token || piece || logits_hash || topk_ids || topk_values || layer_hashes || position; }
  // The class of the difference, most telling first: a token difference
  // outranks a change of the top-k candidates or their order, which
  // outranks a drift of the logits (hash, probes, or top-k values alone).
  DiffClass kind() const;
};

// `pieces`: compare step texts too (false when either file predates them).
StepDelta compare_steps(const schema::Step& a, const schema::Step& b, bool pieces);

// One line for a step difference that is not a token divergence.
std::string describe_step_delta(const schema::Step& a, const schema::Step& b, const StepDelta& delta);

// Whether the same ids appear in both top-k lists, in another order.
bool topk_reordered(const schema::Step& a, const schema::Step& b);

// First layer and sub-block whose probe hash differs ("layer 3 mlp"), or ""
// when the hashes agree or were not recorded on both sides.
std::string first_probe_difference(const schema::Step& a, const schema::Step& b);

}  // namespace ree::diff
