// The comparison walk: header, then turn by turn (compare.h).
#include "diff/compare.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <unordered_map>
#include <unordered_set>

#include "diff/header_fields.h"
#include "diff/record_compare.h"
#include "diff/step_compare.h"
#include "diff/text.h"
#include "runtime/error.h"

namespace ree::diff {
namespace {

using trace::RecordView;
using trace::SessionReader;
using RecordKind = schema::RecordBody;

// The records of one turn (or, for block 0, those before the first turn).
struct Block {
  bool present = false;
  size_t begin = 0;  // record range [begin, end)
  size_t end = 0;
  std::optional<size_t> turn_start;
  std::optional<size_t> turn_end;
  size_t first_step = 0;  // range in SessionReader::steps()
  size_t step_count = 0;
  // Every other record by kind (tool calls, results, checkpoints, unknown
  // kinds), in file order: the i-th of a kind is aligned with the i-th.
  std::map<uint8_t, std::vector<size_t>> events;
};

bool ends_with_end_record(const SessionReader& r) {
  return r.size() > 0 && r.record(r.size() - 1).kind() == RecordKind::End;
}

// Block 0 holds the records before the first turn; block t + 1 turn t.
std::vector<Block> split_blocks(const SessionReader& r) {
  const size_t body_end = ends_with_end_record(r) ? r.size() - 1 : r.size();
  const auto& turns = r.turns();
  std::vector<Block> blocks(turns.size() + 1);
  blocks[0].present = true;
  blocks[0].end = turns.empty() ? body_end : turns[0].start_record;
  for (size_t t = 0; t < turns.size(); ++t) {
    Block& block = blocks[t + 1];
    block.present = true;
    block.begin = turns[t].start_record;
    block.end = t + 1 < turns.size() ? turns[t + 1].start_record : body_end;
    block.turn_start = turns[t].start_record;
    if (turns[t].end_record != SIZE_MAX) block.turn_end = turns[t].end_record;
    block.first_step = turns[t].first_step;
    block.step_count = turns[t].step_count;
  }
  for (Block& block : blocks) {
    size_t from = block.begin;
    // When a turn's steps fill the records between its TurnStart and TurnEnd
    // (the usual case: nothing was recorded in the middle of a turn), only
    // the records after the turn need looking at: a million-step turn is not
    // walked twice.
    if (block.turn_start) {
      const size_t last_step_record = *block.turn_start + block.step_count;
      const size_t turn_end = block.turn_end.value_or(block.end);
      if (last_step_record + 1 == turn_end) from = turn_end;
    }
    for (size_t i = from; i < block.end; ++i) {
      const RecordKind kind = r.record(i).kind();
      if (kind == RecordKind::Step || i == block.turn_start || i == block.turn_end) continue;
      block.events[static_cast<uint8_t>(kind)].push_back(i);
    }
  }
  return blocks;
}

bool same_bytes(std::span<const uint8_t> a, std::span<const uint8_t> b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string_view view(const flatbuffers::String* s) {
  return s ? std::string_view(s->c_str(), s->size()) : std::string_view();
}

DiffClass event_class(uint8_t kind) {
  switch (static_cast<RecordKind>(kind)) {
    case RecordKind::ToolCall: return DiffClass::ToolCall;
    case RecordKind::ToolResult: return DiffClass::ToolResult;
    case RecordKind::Checkpoint: return DiffClass::Checkpoint;
    case RecordKind::TurnStart: return DiffClass::Prompt;
    case RecordKind::TurnEnd: return DiffClass::StopReason;
    case RecordKind::Step: return DiffClass::Token;
    default: return DiffClass::Unknown;
  }
}

std::string event_name(uint8_t kind) {
  const auto k = static_cast<RecordKind>(kind);
  return kind <= trace::kKnownRecordKinds ? std::string(trace::kind_name(k)) : "kind " + std::to_string(kind);
}

// One line for two records of the same kind; empty when they agree.
std::string describe_event(const RecordView& a, const RecordView& b) {
  if (same_bytes(a.bound_bytes(), b.bound_bytes())) return "";
  if (a.tool_call() && b.tool_call()) return compare_tool_call(*a.tool_call(), *b.tool_call());
  if (a.tool_result() && b.tool_result()) return compare_tool_result(*a.tool_result(), *b.tool_result());
  if (a.checkpoint() && b.checkpoint()) return compare_checkpoint(*a.checkpoint(), *b.checkpoint());
  return "record bytes differ (kind " + event_name(static_cast<uint8_t>(a.kind())) + ", version " +
         std::to_string(a.version()) + " vs " + std::to_string(b.version()) + ")";
}

// A one-line label of an event record that only one session has.
std::string event_label(const RecordView& r) {
  if (const auto* call = r.tool_call()) return "tool call " + quote_text(view(call->name())) + " " + quote_text(view(call->arguments()));
  if (const auto* result = r.tool_result())
    return "tool result for " + quote_text(view(result->name())) + ": " + quote_text(view(result->output()));
  if (const auto* checkpoint = r.checkpoint()) return "checkpoint " + quote_text(view(checkpoint->label()));
  return event_name(static_cast<uint8_t>(r.kind())) + " record";
}

std::string side_steps(uint64_t n) { return std::to_string(n) + (n == 1 ? " step" : " steps"); }

SessionSummary summarize(const SessionReader& r) {
  SessionSummary s;
  s.path = r.path().string();
  s.status = std::string(trace::status_name(r.report().status));
  s.status_message = r.report().message;
  s.records = r.size();
  s.steps = r.steps().size();
  s.turns = static_cast<uint32_t>(r.turns().size());
  s.complete = ends_with_end_record(r);
  return s;
}

// A mismatch with the position used to put a block's mismatches in order.
struct Keyed {
  size_t key;
  Mismatch mismatch;
};

class Comparer {
 public:
  Comparer(const SessionReader& a, const SessionReader& b, const CompareOptions& options)
      : a_(a), b_(b), options_(options) {
    // Step texts are compared only when both files record them.
    pieces_ = a.header_frame().format_minor() >= trace::kMinorWithPiece &&
              b.header_frame().format_minor() >= trace::kMinorWithPiece;
  }

  Comparison run() {
    result_.a = summarize(a_);
    result_.b = summarize(b_);
    add_status_notes();
    compare_header();
    const std::vector<Block> blocks_a = split_blocks(a_);
    const std::vector<Block> blocks_b = split_blocks(b_);
    const size_t n = std::max(blocks_a.size(), blocks_b.size());
    for (size_t i = 0; i < n; ++i) {
      const Block none;
      compare_block(i < blocks_a.size() ? blocks_a[i] : none, i < blocks_b.size() ? blocks_b[i] : none,
                    i == 0 ? kNoTurn : static_cast<uint32_t>(i - 1));
    }
    compare_completeness();
    return std::move(result_);
  }

 private:
  void add_status_notes() {
    for (const auto* side : {&result_.a, &result_.b}) {
      if (side->status != "valid")
        result_.notes.push_back((side == &result_.a ? "a" : "b") + std::string(" is ") + side->status + " (" +
                                side->status_message + "): compared as far as it can be read, " +
                                std::to_string(side->records) + " records");
    }
    if (!pieces_) result_.notes.push_back("a file predates step texts (format 1.0): token texts not compared");
  }

  void compare_header() {
    result_.header = compare_headers(a_, b_);
    for (const HeaderField& field : result_.header) {
      if (!field.content) continue;
      ++result_.counts[static_cast<size_t>(DiffClass::Header)];
      if (!result_.first)
        result_.first = Mismatch{DiffClass::Header, kNoTurn, -1, std::nullopt, std::nullopt,
                                 std::string(section_name(field.section)) + " " + field.path + ": " +
                                     quote_text(field.a) + " vs " + quote_text(field.b)};
    }
  }

  void compare_block(const Block& ba, const Block& bb, uint32_t turn) {
    std::vector<Keyed> found;
    TurnSummary summary;
    summary.turn = turn;
    summary.in_a = ba.present;
    summary.in_b = bb.present;
    summary.steps_a = static_cast<uint32_t>(ba.step_count);
    summary.steps_b = static_cast<uint32_t>(bb.step_count);
    if (turn != kNoTurn && (!ba.present || !bb.present)) {
      const Block& only = ba.present ? ba : bb;
      const SessionReader& r = ba.present ? a_ : b_;
      const auto* start = r.record(*only.turn_start).turn_start();
      std::string what = "turn " + std::to_string(turn) + " only in " + (ba.present ? "a" : "b");
      if (start) what += " (" + std::string(trace::role_name(start->role())) + ", " + side_steps(only.step_count) + ")";
      Mismatch m{DiffClass::Length, turn, -1, std::nullopt, std::nullopt, what};
      (ba.present ? m.record_a : m.record_b) = only.begin;
      found.push_back({0, m});
    } else {
      compare_turn_starts(ba, bb, turn, found);
      const bool steps_agree = compare_step_range(ba, bb, turn, summary, found);
      compare_turn_ends(ba, bb, turn, steps_agree, found);
      compare_events(ba, bb, turn, found);
    }
    std::stable_sort(found.begin(), found.end(), [](const Keyed& x, const Keyed& y) { return x.key < y.key; });
    for (Keyed& k : found) {
      const size_t c = static_cast<size_t>(k.mismatch.kind);
      // Step classes were counted as they were found (all steps, not only
      // the listed first of each class).
      if (k.mismatch.step < 0) {
        ++summary.counts[c];
        ++result_.counts[c];
      }
      if (!summary.first_class) summary.first_class = k.mismatch.kind;
      if (!result_.first) result_.first = k.mismatch;
      result_.mismatches.push_back(std::move(k.mismatch));
    }
    // Block 0 is a turn only when it holds records.
    if (turn != kNoTurn || !found.empty() || ba.end > ba.begin || bb.end > bb.begin) result_.turns.push_back(summary);
  }

  void compare_turn_starts(const Block& ba, const Block& bb, uint32_t turn, std::vector<Keyed>& found) {
    if (!ba.turn_start || !bb.turn_start) return;
    const RecordView ra = a_.record(*ba.turn_start);
    const RecordView rb = b_.record(*bb.turn_start);
    if (same_bytes(ra.bound_bytes(), rb.bound_bytes()) || !ra.turn_start() || !rb.turn_start()) return;
    std::string what = compare_turn_start(*ra.turn_start(), *rb.turn_start());
    if (!what.empty()) found.push_back({0, Mismatch{DiffClass::Prompt, turn, -1, *ba.turn_start, *bb.turn_start, what}});
  }

  // Walks the aligned steps of one turn; returns true when no token diverged
  // and the step counts agree (the turns' texts must then agree too).
  bool compare_step_range(const Block& ba, const Block& bb, uint32_t turn, TurnSummary& summary,
                          std::vector<Keyed>& found) {
    const auto& steps_a = a_.steps();
    const auto& steps_b = b_.steps();
    const size_t common = std::min(ba.step_count, bb.step_count);
    std::array<bool, kDiffClassCount> listed{};
    for (size_t i = 0; i < common; ++i) {
      const size_t record_a = steps_a[ba.first_step + i];
      const size_t record_b = steps_b[bb.first_step + i];
      const RecordView ra = a_.record(record_a);
      const RecordView rb = b_.record(record_b);
      // The common case, and the reason diffing a million steps is fast:
      // equal bound bytes are equal steps, nothing to decode.
      if (same_bytes(ra.bound_bytes(), rb.bound_bytes())) {
        ++summary.identical_steps;
        ++summary.matched_steps;
        continue;
      }
      const schema::Step* sa = ra.step();
      const schema::Step* sb = rb.step();
      Mismatch m{DiffClass::Unknown, turn, static_cast<int64_t>(i), record_a, record_b, ""};
      if (!sa || !sb) {
        m.what = "step record bytes differ (record version " + std::to_string(ra.version()) + " vs " +
                 std::to_string(rb.version()) + ")";
      } else {
        const StepDelta delta = compare_steps(*sa, *sb, pieces_);
        if (!delta.any()) {  // equal fields, other encoding
          ++summary.identical_steps;
          ++summary.matched_steps;
          continue;
        }
        if (delta.logits_hash && !summary.first_logits_drift) {
          summary.first_logits_drift = static_cast<uint32_t>(i);
          if (!result_.first_logits_drift)
            result_.first_logits_drift = StepRef{turn, static_cast<uint32_t>(i), ba.first_step + i, bb.first_step + i};
        }
        m.kind = delta.kind();
        m.what = describe_step_delta(*sa, *sb, delta);
        if (delta.token) {
          summary.first_token_divergence = static_cast<uint32_t>(i);
          if (!result_.token_divergence) result_.token_divergence = token_divergence(ba, bb, turn, i, *sa, *sb);
        } else {
          ++summary.matched_steps;
          if (delta.logits_hash) ++summary.silent_drift_steps;
          if (delta.topk_ids && !summary.first_topk_change)
            summary.first_topk_change = static_cast<uint32_t>(i);
        }
      }
      const size_t c = static_cast<size_t>(m.kind);
      ++summary.counts[c];
      ++result_.counts[c];
      const bool diverged = m.kind == DiffClass::Token;
      if (!listed[c]) {
        listed[c] = true;
        found.push_back({record_a - ba.begin, std::move(m)});
      }
      // After a token divergence the two turns continue from different
      // contexts: their later steps are not comparable.
      if (diverged) return false;
    }
    if (ba.step_count != bb.step_count) {
      const bool a_longer = ba.step_count > bb.step_count;
      const Block& longer = a_longer ? ba : bb;
      const SessionReader& r = a_longer ? a_ : b_;
      const size_t record = r.steps()[longer.first_step + common];
      const auto* next = r.record(record).step();
      std::string what = "turn " + std::to_string(turn) + ": a has " + side_steps(ba.step_count) + ", b has " +
                         side_steps(bb.step_count) + "; " + (a_longer ? "a" : "b") + " continues";
      if (next) what += " with " + quote_text(r.step_text(*next));
      Mismatch m{DiffClass::Length, turn, static_cast<int64_t>(common), std::nullopt, std::nullopt, what};
      (a_longer ? m.record_a : m.record_b) = record;
      ++summary.counts[static_cast<size_t>(DiffClass::Length)];
      ++result_.counts[static_cast<size_t>(DiffClass::Length)];
      found.push_back({record - longer.begin, std::move(m)});
      return false;
    }
    return true;
  }

  TokenDivergence token_divergence(const Block& ba, const Block& bb, uint32_t turn, size_t i,
                                   const schema::Step& sa, const schema::Step& sb) {
    TokenDivergence d;
    d.at = StepRef{turn, static_cast<uint32_t>(i), ba.first_step + i, bb.first_step + i};
    d.position_a = sa.position();
    d.position_b = sb.position();
    d.token_a = sa.token();
    d.token_b = sb.token();
    d.piece_a = a_.step_text(sa);
    d.piece_b = b_.step_text(sb);
    d.near_tie_margin = options_.near_tie_margin;
    d.topk_a = list_of(sa);
    d.topk_b = list_of(sb);
    fill_pieces(d.topk_a, d.topk_b);
    d.side_by_side = side_by_side(d.topk_a, d.topk_b);
    d.rank_of_b_in_a = rank_of(d.topk_a, d.token_b);
    d.rank_of_a_in_b = rank_of(d.topk_b, d.token_a);
    d.near_tie = d.topk_a.near_tie || d.topk_b.near_tie;
    const size_t from = i > options_.context_steps ? i - options_.context_steps : 0;
    for (size_t k = from; k < i; ++k)
      if (const auto* s = a_.record(a_.steps()[ba.first_step + k]).step()) d.context.push_back(a_.step_text(*s));
    return d;
  }

  TopKList list_of(const schema::Step& s) const {
    const auto* ids = s.topk_ids();
    const auto* logits = s.topk_logits();
    return make_topk_list(ids ? std::span<const int32_t>(ids->data(), ids->size()) : std::span<const int32_t>(),
                          logits ? std::span<const float>(logits->data(), logits->size()) : std::span<const float>(),
                          s.token(), s.margin(), options_.near_tie_margin);
  }

  // The text of each candidate id that some step of either session produced.
  void fill_pieces(TopKList& x, TopKList& y) const {
    std::unordered_map<int32_t, std::string> pieces;
    for (const TopKList* list : {&x, &y})
      for (const TopKEntry& e : list->entries) pieces.emplace(e.id, std::string());
    std::unordered_set<int32_t> missing;
    for (const auto& [id, piece] : pieces) missing.insert(id);
    for (const SessionReader* r : {&a_, &b_}) {
      for (size_t k = 0; k < r->steps().size() && !missing.empty(); ++k) {
        const auto* s = r->record(r->steps()[k]).step();
        if (!s || !missing.count(s->token())) continue;
        pieces[s->token()] = r->step_text(*s);
        missing.erase(s->token());
      }
    }
    for (TopKList* list : {&x, &y})
      for (TopKEntry& e : list->entries) e.piece = pieces[e.id];
  }

  void compare_turn_ends(const Block& ba, const Block& bb, uint32_t turn, bool steps_agree,
                         std::vector<Keyed>& found) {
    if (turn == kNoTurn) return;
    if (ba.turn_end.has_value() != bb.turn_end.has_value()) {
      const bool a_ended = ba.turn_end.has_value();
      const Block& ended = a_ended ? ba : bb;
      std::string what = "turn " + std::to_string(turn) + " ends in " + (a_ended ? "a" : "b") + " but is still open in " +
                         (a_ended ? "b" : "a") + " (the file stops inside it)";
      Mismatch m{DiffClass::Length, turn, -1, std::nullopt, std::nullopt, what};
      (a_ended ? m.record_a : m.record_b) = *ended.turn_end;
      found.push_back({*ended.turn_end - ended.begin, std::move(m)});
      return;
    }
    if (!ba.turn_end) return;
    const RecordView ra = a_.record(*ba.turn_end);
    const RecordView rb = b_.record(*bb.turn_end);
    if (same_bytes(ra.bound_bytes(), rb.bound_bytes()) || !ra.turn_end() || !rb.turn_end()) return;
    const std::string what = compare_turn_end(*ra.turn_end(), *rb.turn_end(), steps_agree);
    if (what.empty()) return;
    const DiffClass kind = stop_reason_differs(*ra.turn_end(), *rb.turn_end()) ? DiffClass::StopReason : DiffClass::Token;
    found.push_back({*ba.turn_end - ba.begin, Mismatch{kind, turn, -1, *ba.turn_end, *bb.turn_end, what}});
  }

  void compare_events(const Block& ba, const Block& bb, uint32_t turn, std::vector<Keyed>& found) {
    std::map<uint8_t, bool> kinds;
    for (const auto& [kind, records] : ba.events) kinds[kind] = true;
    for (const auto& [kind, records] : bb.events) kinds[kind] = true;
    static const std::vector<size_t> kNone;
    for (const auto& [kind, unused] : kinds) {
      const auto ia = ba.events.find(kind);
      const auto ib = bb.events.find(kind);
      const std::vector<size_t>& ea = ia == ba.events.end() ? kNone : ia->second;
      const std::vector<size_t>& eb = ib == bb.events.end() ? kNone : ib->second;
      for (size_t k = 0; k < std::max(ea.size(), eb.size()); ++k) {
        Mismatch m{event_class(kind), turn, -1, std::nullopt, std::nullopt, ""};
        size_t key = 0;
        if (k < ea.size() && k < eb.size()) {
          m.what = describe_event(a_.record(ea[k]), b_.record(eb[k]));
          if (m.what.empty()) continue;
          m.record_a = ea[k];
          m.record_b = eb[k];
          key = ea[k] - ba.begin;
        } else {
          const bool in_a = k < ea.size();
          const size_t record = in_a ? ea[k] : eb[k];
          const SessionReader& r = in_a ? a_ : b_;
          m.what = std::string("only ") + (in_a ? "a" : "b") + " has " + event_label(r.record(record));
          (in_a ? m.record_a : m.record_b) = record;
          key = record - (in_a ? ba.begin : bb.begin);
        }
        found.push_back({key, std::move(m)});
      }
    }
  }

  // A session that stops early (truncated or invalid) differs in length from
  // a complete one even when everything it has agrees.
  void compare_completeness() {
    if (result_.a.complete == result_.b.complete) return;
    const bool a_complete = result_.a.complete;
    const SessionSummary& cut = a_complete ? result_.b : result_.a;
    Mismatch m{DiffClass::Length, kNoTurn, -1, std::nullopt, std::nullopt,
               std::string(a_complete ? "a" : "b") + " is complete, " + (a_complete ? "b" : "a") + " stops after " +
                   std::to_string(cut.records) + " records (" + cut.status + ")"};
    (a_complete ? m.record_a : m.record_b) = (a_complete ? a_ : b_).size() - 1;
    ++result_.counts[static_cast<size_t>(DiffClass::Length)];
    if (!result_.first) result_.first = m;
    result_.mismatches.push_back(std::move(m));
  }

  const SessionReader& a_;
  const SessionReader& b_;
  CompareOptions options_;
  bool pieces_ = true;
  Comparison result_;
};

void require_header(const SessionReader& r) {
  if (!r.has_header())
    throw file_error(r.path().string(), std::string(trace::status_name(r.report().status)) +
                                            ", no readable header: " + r.report().message);
}

}  // namespace

Comparison compare_sessions(const SessionReader& a, const SessionReader& b, const CompareOptions& options) {
  require_header(a);
  require_header(b);
  return Comparer(a, b, options).run();
}

bool identical(const SessionReader& a, const SessionReader& b) {
  if (!a.has_header() || !b.has_header() || a.size() != b.size()) return false;
  return a.report().chain == b.report().chain;
}

}  // namespace ree::diff
