#include "runtime/engine.h"

#include <algorithm>
#include <cmath>

#include "runtime/error.h"

namespace ree {

const char* probe_point_name(ProbePoint p) {
  switch (p) {
    case ProbePoint::AttnNorm: return "attention-norm";
    case ProbePoint::AttnOut: return "attention";
    case ProbePoint::MlpNorm: return "mlp-norm";
    case ProbePoint::MlpOut: return "mlp";
  }
  return "?";
}

const char* device_name(Device d) { return d == Device::Cuda ? "cuda" : "cpu"; }

ForwardResult feed(Engine& engine, std::span<const int32_t> tokens, int64_t chunk,
                   const ForwardRequest& request) {
  if (tokens.empty()) throw Error("nothing to feed");
  if (chunk <= 0) chunk = engine.options().max_batch;
  chunk = std::min(chunk, engine.options().max_batch);
  ForwardResult all;
  bool first = true;
  for (size_t i = 0; i < tokens.size(); i += size_t(chunk)) {
    const size_t n = std::min(tokens.size() - i, size_t(chunk));
    const bool last = i + n == tokens.size();
    // Intermediate chunks only fill the cache unless every position is wanted.
    ForwardRequest r = request;
    if (!last && !request.all_positions) r = ForwardRequest{};
    ForwardResult part = engine.forward(tokens.subspan(i, n), r);
    if (!request.all_positions) {
      if (last) return part;
      continue;
    }
    if (first) {
      all = std::move(part);
      first = false;
      continue;
    }
    all.n_positions += part.n_positions;
    all.logits_hash.insert(all.logits_hash.end(), part.logits_hash.begin(), part.logits_hash.end());
    all.argmax.insert(all.argmax.end(), part.argmax.begin(), part.argmax.end());
    all.top.insert(all.top.end(), part.top.begin(), part.top.end());
    all.logits.insert(all.logits.end(), part.logits.begin(), part.logits.end());
    all.probes.insert(all.probes.end(), part.probes.begin(), part.probes.end());
  }
  return all;
}

namespace {
// The contract's candidate order: larger logit first, then smaller id; NaN last.
bool ranks_before(const TopEntry& a, const TopEntry& b) {
  const bool an = std::isnan(a.logit), bn = std::isnan(b.logit);
  if (an != bn) return bn;
  if (!an && a.logit != b.logit) return a.logit > b.logit;
  return a.id < b.id;
}
}  // namespace

void top_k_of(const float* logits, int64_t vocab, int k, TopEntry* out) {
  k = int(std::min<int64_t>(k, vocab));
  if (k <= 0) return;
  // Keep a sorted window of the best k seen so far; vocab >> k so most
  // candidates are rejected by one comparison with the current worst.
  int filled = 0;
  for (int64_t i = 0; i < vocab; ++i) {
    const TopEntry e{int32_t(i), logits[i]};
    if (filled == k && !ranks_before(e, out[k - 1])) continue;
    int j = filled < k ? filled++ : k - 1;
    while (j > 0 && ranks_before(e, out[j - 1])) {
      out[j] = out[j - 1];
      --j;
    }
    out[j] = e;
  }
}

}  // namespace ree
