#pragma once
// Test sessions as plain data: a SessionSpec is everything a session file
// holds, in object-API records, so that a test can copy one, change exactly
// one field, and write both with the real trace writer (real files, real
// format). Shared by the diff and viewer tests. Specs copy deeply (the
// generated object-API types have copy constructors).
#include <filesystem>
#include <string>
#include <vector>

#include "trace/writer.h"

namespace ree::test {

// A record written after a turn's TurnEnd (or, for turn index -1 in
// SessionSpec::preamble, before the first turn).
struct EventSpec {
  enum class Kind { ToolCall, ToolResult, Checkpoint } kind = Kind::Checkpoint;
  schema::ToolCallT call;
  schema::ToolResultT result;
  schema::CheckpointT checkpoint;
};

struct TurnSpec {
  schema::TurnStartT start;
  std::vector<schema::StepT> steps;
  bool ended = true;  // false: the file stops inside this turn (no TurnEnd, nothing after)
  schema::TurnEndT end;
  std::vector<EventSpec> events;
};

struct SessionSpec {
  trace::SessionHeader header;
  std::vector<TurnSpec> turns;
  bool finish = true;  // false: no End record (an interrupted recording: truncated)
};

// Three turns: a user turn that ends in a tool call (tool call + result
// follow), a tool turn ending at EOS with a checkpoint, a user turn ending
// at max_tokens with a checkpoint. `steps_per_turn` steps each; top-k width
// 8; step content from trace::synthetic_step (margins 0.25..2.25).
SessionSpec base_spec(uint32_t steps_per_turn = 12, bool probes = false);

// Makes step `step` of turn `turn` choose the second candidate, as a real
// divergence does: the two best candidates swap places, the token follows,
// the text becomes `piece`, and the logits hash changes.
void diverge(SessionSpec& spec, uint32_t turn, uint32_t step, const std::string& piece = "<diverged>");

// Writes `spec` to `path` with trace::SessionWriter (overwriting).
void write_spec(const std::filesystem::path& path, const SessionSpec& spec);

}  // namespace ree::test
