#include "replay/session_plan.h"

namespace ree::replay {

SessionPlan plan_session(const trace::SessionReader& session) {
  SessionPlan plan;
  PlannedTurn* open = nullptr;
  for (size_t i = 0; i < session.size(); ++i) {
    const trace::RecordView r = session.record(i);
    // The reader's order check guarantees steps and ends sit inside a turn;
    // records of kinds this ree does not know are skipped (typed accessors are null).
    if (const auto* start = r.turn_start()) {
      plan.turns.push_back({start->turn(), start, {}, nullptr});
      open = &plan.turns.back();
      plan.events.push_back({PlannedEvent::Kind::Turn, plan.turns.size() - 1});
    } else if (const auto* step = r.step()) {
      if (open) open->steps.push_back(step);
      ++plan.steps;
    } else if (const auto* end = r.turn_end()) {
      if (open) open->end = end;
      open = nullptr;
    } else if (const auto* call = r.tool_call()) {
      plan.events.push_back({PlannedEvent::Kind::ToolCall, 0, call});
    } else if (const auto* result = r.tool_result()) {
      plan.events.push_back({PlannedEvent::Kind::ToolResult, 0, nullptr, result});
    } else if (const auto* checkpoint = r.checkpoint()) {
      plan.events.push_back({PlannedEvent::Kind::Checkpoint, 0, nullptr, nullptr, checkpoint});
    } else if (r.end()) {
      plan.complete = true;
    }
  }
  return plan;
}

}  // namespace ree::replay
