// Order rules of a session (order.h; docs/session-format.md, "Order").
#include "trace/order.h"

#include <string_view>

namespace ree::trace {
namespace {

std::string str(const flatbuffers::String* s) { return s ? s->str() : std::string(); }

template <typename Vector>
size_t size_of(const Vector* v) {
  return v ? v->size() : 0;
}

}  // namespace

std::string OrderTracker::check_turn_start(const schema::TurnStart& r) const {
  if (turn_open_) return "turn_start while turn " + std::to_string(turns_started_ - 1) + " is open";
  if (r.turn() != turns_started_) {
    return "turn_start for turn " + std::to_string(r.turn()) + ", expected " + std::to_string(turns_started_);
  }
  if (!enum_in_range(r.role())) return "turn_start has unknown role " + std::to_string(static_cast<int>(r.role()));
  return {};
}

std::string OrderTracker::check_step(const schema::Step& r) const {
  if (!turn_open_) return "step outside a turn (step before turn_start)";
  uint32_t turn = turns_started_ - 1;
  if (r.turn() != turn) return "step of turn " + std::to_string(r.turn()) + " inside turn " + std::to_string(turn);
  if (r.index() != steps_in_turn_) {
    return "step index " + std::to_string(r.index()) + ", expected " + std::to_string(steps_in_turn_);
  }
  if (r.position() < 0 || r.position() <= last_position_) {
    return "step position " + std::to_string(r.position()) + " does not increase (previous " +
           std::to_string(last_position_) + ")";
  }
  if (size_of(r.topk_ids()) != limits_.topk_width || size_of(r.topk_logits()) != limits_.topk_width) {
    return "step top-k has " + std::to_string(size_of(r.topk_ids())) + " ids and " +
           std::to_string(size_of(r.topk_logits())) + " logits, header says " +
           std::to_string(limits_.topk_width);
  }
  size_t probes = size_of(r.layer_hashes());
  if (limits_.probes != (r.layer_hashes() != nullptr) || probes % 4 != 0 || (limits_.probes && probes == 0)) {
    return "step has " + std::to_string(probes) + " layer hashes; header says probes " +
           (limits_.probes ? "on (4 per layer)" : "off");
  }
  return {};
}

std::string OrderTracker::check_turn_end(const schema::TurnEnd& r) const {
  if (!turn_open_) return "turn_end outside a turn";
  uint32_t turn = turns_started_ - 1;
  if (r.turn() != turn) return "turn_end of turn " + std::to_string(r.turn()) + " inside turn " + std::to_string(turn);
  if (r.steps() != steps_in_turn_) {
    return "turn_end counts " + std::to_string(r.steps()) + " steps, the turn has " + std::to_string(steps_in_turn_);
  }
  if (!enum_in_range(r.stop_reason())) {
    return "turn_end has unknown stop reason " + std::to_string(static_cast<int>(r.stop_reason()));
  }
  return {};
}

std::string OrderTracker::check_tool_call(const schema::ToolCall& r) const {
  if (r.index() != tool_call_names_.size()) {
    return "tool_call index " + std::to_string(r.index()) + ", expected " + std::to_string(tool_call_names_.size());
  }
  return {};
}

std::string OrderTracker::check_tool_result(const schema::ToolResult& r) const {
  if (r.call_index() >= tool_call_names_.size()) {
    return "tool_result for call " + std::to_string(r.call_index()) + ", which was never made";
  }
  if (tool_call_answered_[r.call_index()]) {
    return "second tool_result for call " + std::to_string(r.call_index());
  }
  const std::optional<std::string>& call_name = tool_call_names_[r.call_index()];
  if (call_name && str(r.name()) != *call_name) {
    return "tool_result names '" + str(r.name()) + "', call " + std::to_string(r.call_index()) + " was '" +
           *call_name + "'";
  }
  if (!enum_in_range(r.status())) return "tool_result has unknown status " + std::to_string(static_cast<int>(r.status()));
  return {};
}

std::string OrderTracker::check_checkpoint(const schema::Checkpoint& r) const {
  if (r.position() < 0) return "checkpoint position is negative";
  return {};
}

std::string OrderTracker::check_end(const schema::End& r) const {
  if (turn_open_) return "end record while turn " + std::to_string(turns_started_ - 1) + " is open";
  const auto* counts = r.counts();
  size_t listed = size_of(counts);
  if (listed > counts_.size()) return "end record lists " + std::to_string(listed) + " record kinds";
  for (size_t kind = 0; kind < counts_.size(); ++kind) {
    uint64_t claimed = kind < listed ? counts->Get(static_cast<flatbuffers::uoffset_t>(kind)) : 0;
    if (claimed != counts_[kind]) {
      return "end record counts " + std::to_string(claimed) + " " +
             std::string(kind_name(static_cast<schema::RecordBody>(kind))) + " records, the file has " +
             std::to_string(counts_[kind]);
    }
  }
  return {};
}

std::string OrderTracker::accept(const schema::BoundRecord& record) {
  if (ended_) return "record after the end record";
  auto kind = record.body_type();
  if (kind == schema::RecordBody::NONE || !record.body()) return "record has no body";
  bool known = static_cast<uint8_t>(kind) <= kKnownRecordKinds && record.version() <= kRecordVersion;
  std::string problem;
  if (known) {
    switch (kind) {
      case schema::RecordBody::TurnStart: problem = check_turn_start(*record.body_as_TurnStart()); break;
      case schema::RecordBody::Step: problem = check_step(*record.body_as_Step()); break;
      case schema::RecordBody::TurnEnd: problem = check_turn_end(*record.body_as_TurnEnd()); break;
      case schema::RecordBody::ToolCall: problem = check_tool_call(*record.body_as_ToolCall()); break;
      case schema::RecordBody::ToolResult: problem = check_tool_result(*record.body_as_ToolResult()); break;
      case schema::RecordBody::Checkpoint: problem = check_checkpoint(*record.body_as_Checkpoint()); break;
      case schema::RecordBody::End: problem = check_end(*record.body_as_End()); break;
      default: break;
    }
  }
  if (!problem.empty()) return problem;
  if (known) {
    advance(record);
  } else {
    ++unknown_records_;
    advance_unread(kind);
  }
  if (kind == schema::RecordBody::End) ended_ = true;
  ++counts_[static_cast<uint8_t>(kind)];
  return {};
}

void OrderTracker::advance_unread(schema::RecordBody kind) {
  switch (kind) {
    case schema::RecordBody::TurnStart:
      turn_open_ = true;
      ++turns_started_;
      steps_in_turn_ = 0;
      last_position_ = -1;
      break;
    case schema::RecordBody::Step: ++steps_in_turn_; break;  // its position is unknown: keep the last
    case schema::RecordBody::TurnEnd: turn_open_ = false; break;
    case schema::RecordBody::ToolCall:
      tool_call_names_.push_back(std::nullopt);
      tool_call_answered_.push_back(false);
      break;
    default: break;  // unknown kinds, and kinds that change no state
  }
}

void OrderTracker::advance(const schema::BoundRecord& record) {
  switch (record.body_type()) {
    case schema::RecordBody::TurnStart:
      turn_open_ = true;
      ++turns_started_;
      steps_in_turn_ = 0;
      last_position_ = -1;
      break;
    case schema::RecordBody::Step:
      ++steps_in_turn_;
      last_position_ = record.body_as_Step()->position();
      break;
    case schema::RecordBody::TurnEnd: turn_open_ = false; break;
    case schema::RecordBody::ToolCall:
      tool_call_names_.push_back(str(record.body_as_ToolCall()->name()));
      tool_call_answered_.push_back(false);
      break;
    case schema::RecordBody::ToolResult: tool_call_answered_[record.body_as_ToolResult()->call_index()] = true; break;
    default: break;
  }
}

}  // namespace ree::trace
