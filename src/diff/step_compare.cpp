// Classification of two aligned steps.
#include "diff/step_compare.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstring>
#include <string_view>
#include <vector>

#include "diff/text.h"

namespace ree::diff {
namespace {

template <typename T>
bool same_vector(const flatbuffers::Vector<T>* a, const flatbuffers::Vector<T>* b) {
  const uint32_t na = a ? a->size() : 0;
  const uint32_t nb = b ? b->size() : 0;
  if (na != nb) return false;
  return na == 0 || std::memcmp(a->data(), b->data(), na * sizeof(T)) == 0;
}

std::string_view view(const flatbuffers::String* s) {
  return s ? std::string_view(s->c_str(), s->size()) : std::string_view();
}

std::string print_float(float v) {
  char text[32];
  std::snprintf(text, sizeof text, "%.6g", v);
  return text;
}

// The sub-blocks of one layer, in the order Step.layer_hashes stores them.
constexpr std::array<const char*, 4> kProbeNames = {"attention norm", "attention", "mlp norm", "mlp"};

}  // namespace

DiffClass StepDelta::kind() const {
  if (token || piece) return DiffClass::Token;
  // Top-k: the candidates or their order changed. New values for the same
  // candidates in the same order are the logits drifting.
  if (topk_ids) return DiffClass::TopK;
  if (logits_hash || layer_hashes || topk_values) return DiffClass::LogitsDrift;
  return DiffClass::Length;  // only the position differs
}

StepDelta compare_steps(const schema::Step& a, const schema::Step& b, bool pieces) {
  StepDelta d;
  d.token = a.token() != b.token();
  d.piece = pieces && !d.token && view(a.piece()) != view(b.piece());
  d.logits_hash = a.logits_hash() != b.logits_hash();
  d.topk_ids = !same_vector(a.topk_ids(), b.topk_ids());
  // Compare bits, not values: a -0.0/+0.0 or NaN-payload change is a change.
  const float margin_a = a.margin();
  const float margin_b = b.margin();
  d.topk_values = !d.topk_ids && (!same_vector(a.topk_logits(), b.topk_logits()) ||
                                  std::memcmp(&margin_a, &margin_b, sizeof(float)) != 0);
  d.layer_hashes = !same_vector(a.layer_hashes(), b.layer_hashes());
  d.position = a.position() != b.position();
  return d;
}

bool topk_reordered(const schema::Step& a, const schema::Step& b) {
  if (!a.topk_ids() || !b.topk_ids() || a.topk_ids()->size() != b.topk_ids()->size()) return false;
  std::vector<int32_t> ids_a(a.topk_ids()->begin(), a.topk_ids()->end());
  std::vector<int32_t> ids_b(b.topk_ids()->begin(), b.topk_ids()->end());
  if (ids_a == ids_b) return false;
  std::sort(ids_a.begin(), ids_a.end());
  std::sort(ids_b.begin(), ids_b.end());
  return ids_a == ids_b;
}

std::string first_probe_difference(const schema::Step& a, const schema::Step& b) {
  const auto* ha = a.layer_hashes();
  const auto* hb = b.layer_hashes();
  if (!ha || !hb) return "";
  const uint32_t n = std::min(ha->size(), hb->size());
  for (uint32_t i = 0; i < n; ++i)
    if (ha->Get(i) != hb->Get(i)) return "layer " + std::to_string(i / 4) + " " + kProbeNames[i % 4];
  return "";
}

std::string describe_step_delta(const schema::Step& a, const schema::Step& b, const StepDelta& delta) {
  std::string line;
  auto add = [&line](const std::string& part) { line += (line.empty() ? "" : "; ") + part; };
  if (delta.token)
    add("token " + std::to_string(a.token()) + " " + quote_text(view(a.piece())) + " vs " +
        std::to_string(b.token()) + " " + quote_text(view(b.piece())));
  if (delta.piece) add("token " + std::to_string(a.token()) + " text " + quote_text(view(a.piece())) + " vs " + quote_text(view(b.piece())));
  if (delta.topk_ids)
    add(topk_reordered(a, b) ? "top-k reordered (same candidates)" : "top-k candidates differ");
  if (delta.topk_values)
    add("top-k logits differ (same candidates; margin " + print_float(a.margin()) + " vs " + print_float(b.margin()) + ")");
  if (delta.logits_hash) add("logits hash " + hex64(a.logits_hash()) + " vs " + hex64(b.logits_hash()));
  if (delta.layer_hashes) {
    const std::string where = first_probe_difference(a, b);
    add(where.empty() ? std::string("layer probe hashes differ") : "probes first differ at " + where);
  }
  if (delta.position) add("position " + std::to_string(a.position()) + " vs " + std::to_string(b.position()));
  if (!delta.token && !delta.piece) add("same token " + std::to_string(a.token()) + " " + quote_text(view(a.piece())));
  return line;
}

}  // namespace ree::diff
