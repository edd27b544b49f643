#pragma once
// A session's records grouped the way replay walks them: turns (start,
// steps, end) and, in file order, the events between them (tool calls,
// tool results, checkpoints). Pointers point into the SessionReader's
// mapping and live as long as it does.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "trace/reader.h"

namespace ree::replay {

struct PlannedTurn {
  uint32_t turn = 0;
  const schema::TurnStart* start = nullptr;
  std::vector<const schema::Step*> steps;
  const schema::TurnEnd* end = nullptr;  // null when the file stops inside the turn
};

struct PlannedEvent {
  enum class Kind : uint8_t { Turn, ToolCall, ToolResult, Checkpoint };
  Kind kind = Kind::Turn;
  size_t turn = 0;  // Kind::Turn: index into SessionPlan::turns
  const schema::ToolCall* tool_call = nullptr;
  const schema::ToolResult* tool_result = nullptr;
  const schema::Checkpoint* checkpoint = nullptr;
};

struct SessionPlan {
  std::vector<PlannedTurn> turns;
  std::vector<PlannedEvent> events;
  size_t steps = 0;
  bool complete = false;  // the file has its End record
};

// Walks the reader's intact prefix (records the reader already verified).
SessionPlan plan_session(const trace::SessionReader& session);

}  // namespace ree::replay
