#pragma once
// Finding a tool call in an assistant message: the common convention
//   <tool_call>{"name": "calc", "arguments": {"expression": "12*7"}}</tool_call>
// The first <tool_call> opens the call; anything before it is kept as the
// message's prose. A call that is not well formed (no closing tag, not JSON,
// no string "name", "arguments" not an object) is still a call: it is
// recorded as malformed and the model is told what was wrong.
#include <optional>
#include <string>
#include <string_view>

namespace ree::agent {

struct ParsedToolCall {
  std::string name;       // empty when not found
  std::string arguments;  // the arguments object as compact JSON; empty when malformed
  std::string raw_text;   // the text from <tool_call> to </tool_call> (or the end)
  bool well_formed = false;
  std::string parse_error;  // empty when well formed
};

// nullopt when the text contains no "<tool_call>".
std::optional<ParsedToolCall> parse_tool_call(std::string_view assistant_text);

}  // namespace ree::agent
