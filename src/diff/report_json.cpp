// Serialisation of a Comparison (report_json.h).
#include "diff/report_json.h"

#include <cmath>

namespace ree::diff {
namespace {

using nlohmann::json;

template <typename T>
json optional_json(const std::optional<T>& value) {
  return value ? json(*value) : json(nullptr);
}

// Non-finite floats are strings, as in trace/json.h.
json float_json(float v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  return v;
}

json turn_json(uint32_t turn) { return turn == kNoTurn ? json(nullptr) : json(turn); }

json mismatch_json(const Mismatch& m) {
  return {{"class", class_name(m.kind)},           {"turn", turn_json(m.turn)},
          {"step", m.step < 0 ? json(nullptr) : json(m.step)},
          {"record_a", optional_json(m.record_a)}, {"record_b", optional_json(m.record_b)},
          {"what", m.what}};
}

json step_ref_json(const StepRef& s) {
  return {{"turn", s.turn}, {"step", s.step}, {"global_step_a", s.global_a}, {"global_step_b", s.global_b}};
}

json entry_json(const std::optional<TopKEntry>& e) {
  if (!e) return nullptr;
  return {{"id", e->id}, {"piece", e->piece}, {"logit", float_json(e->logit)}, {"probability", float_json(e->probability)}};
}

json topk_json(const TopKList& list) {
  json entries = json::array();
  for (const TopKEntry& e : list.entries) entries.push_back(entry_json(e));
  return {{"chosen", list.chosen}, {"margin", float_json(list.margin)}, {"near_tie", list.near_tie}, {"entries", entries}};
}

json divergence_json(const TokenDivergence& d) {
  json rows = json::array();
  for (const TopKRow& r : d.side_by_side)
    rows.push_back({{"a", entry_json(r.a)}, {"b", entry_json(r.b)}, {"same_id", r.same_id}});
  return {{"at", step_ref_json(d.at)},
          {"position_a", d.position_a},
          {"position_b", d.position_b},
          {"token_a", d.token_a},
          {"token_b", d.token_b},
          {"piece_a", d.piece_a},
          {"piece_b", d.piece_b},
          {"topk_a", topk_json(d.topk_a)},
          {"topk_b", topk_json(d.topk_b)},
          {"side_by_side", rows},
          {"rank_of_b_in_a", d.rank_of_b_in_a < 0 ? json(nullptr) : json(d.rank_of_b_in_a)},
          {"rank_of_a_in_b", d.rank_of_a_in_b < 0 ? json(nullptr) : json(d.rank_of_a_in_b)},
          {"near_tie", d.near_tie},
          {"near_tie_margin", d.near_tie_margin},
          {"context", d.context}};
}

json counts_json(const std::array<uint64_t, kDiffClassCount>& counts) {
  json out = json::object();
  for (size_t c = 0; c < kDiffClassCount; ++c)
    if (counts[c]) out[std::string(class_name(static_cast<DiffClass>(c)))] = counts[c];
  return out;
}

json turn_summary_json(const TurnSummary& t) {
  return {{"turn", turn_json(t.turn)},
          {"in_a", t.in_a},
          {"in_b", t.in_b},
          {"steps_a", t.steps_a},
          {"steps_b", t.steps_b},
          {"matched_steps", t.matched_steps},
          {"identical_steps", t.identical_steps},
          {"silent_drift_steps", t.silent_drift_steps},
          {"first_logits_drift", optional_json(t.first_logits_drift)},
          {"first_token_divergence", optional_json(t.first_token_divergence)},
          {"first_topk_change", optional_json(t.first_topk_change)},
          {"first_class", t.first_class ? json(class_name(*t.first_class)) : json(nullptr)},
          {"counts", counts_json(t.counts)}};
}

json session_json(const SessionSummary& s) {
  return {{"path", s.path},       {"status", s.status}, {"status_message", s.status_message},
          {"records", s.records}, {"steps", s.steps},   {"turns", s.turns},
          {"complete", s.complete}};
}

}  // namespace

nlohmann::json comparison_to_json(const Comparison& c) {
  json header = json::array();
  for (const HeaderField& f : c.header)
    header.push_back({{"section", section_name(f.section)}, {"field", f.path}, {"a", f.a}, {"b", f.b}, {"content", f.content}});
  json mismatches = json::array();
  for (const Mismatch& m : c.mismatches) mismatches.push_back(mismatch_json(m));
  json turns = json::array();
  for (const TurnSummary& t : c.turns) turns.push_back(turn_summary_json(t));
  return {{"identical", c.identical()},
          {"environment_differs", c.environment_differs()},
          {"a", session_json(c.a)},
          {"b", session_json(c.b)},
          {"first_difference", c.first ? mismatch_json(*c.first) : json(nullptr)},
          {"first_logits_drift", c.first_logits_drift ? step_ref_json(*c.first_logits_drift) : json(nullptr)},
          {"token_divergence", c.token_divergence ? divergence_json(*c.token_divergence) : json(nullptr)},
          {"header", header},
          {"turns", turns},
          {"mismatches", mismatches},
          {"counts", counts_json(c.counts)},
          {"notes", c.notes}};
}

}  // namespace ree::diff
