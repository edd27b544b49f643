#pragma once
// Field-by-field comparison of two records of the same kind. Each function
// returns one line naming every field that differs, or an empty string when
// the records agree on everything bound (volatile fields are not compared).
#include <string>

#include "trace/schema.h"

namespace ree::diff {

std::string compare_turn_start(const schema::TurnStart& a, const schema::TurnStart& b);
// `text`: also compare the generated text (false once the tokens diverged or
// the step counts differ, when a different text is only a consequence of
// what the steps already show).
std::string compare_turn_end(const schema::TurnEnd& a, const schema::TurnEnd& b, bool text);
std::string compare_tool_call(const schema::ToolCall& a, const schema::ToolCall& b);
std::string compare_tool_result(const schema::ToolResult& a, const schema::ToolResult& b);
std::string compare_checkpoint(const schema::Checkpoint& a, const schema::Checkpoint& b);

// Whether a TurnEnd's differences include the stop reason (class StopReason)
// rather than only its text or step count.
bool stop_reason_differs(const schema::TurnEnd& a, const schema::TurnEnd& b);

}  // namespace ree::diff
