#include "session_spec.h"

#include "trace/synthetic.h"

namespace ree::test {

SessionSpec base_spec(uint32_t steps_per_turn, bool probes) {
  trace::SyntheticShape shape;
  shape.probes = probes;
  shape.layers = 4;
  SessionSpec spec;
  spec.header = trace::synthetic_header(shape);
  spec.header.environment.start_time_unix_ms = 1700000000000;  // fixed: no clock in test files
  for (uint32_t t = 0; t < 3; ++t) {
    TurnSpec turn;
    turn.start = trace::synthetic_turn_start(shape, t);
    turn.start.role = t == 1 ? schema::Role::Tool : schema::Role::User;
    for (uint32_t i = 0; i < steps_per_turn; ++i) {
      schema::StepT step = trace::synthetic_step(shape, t, i);
      turn.end.text += step.piece;
      turn.steps.push_back(std::move(step));
    }
    turn.end.stop_reason = t == 0 ? schema::StopReason::ToolCall
                         : t == 1 ? schema::StopReason::Eos
                                  : schema::StopReason::MaxTokens;
    if (t == 0) {
      EventSpec call;
      call.kind = EventSpec::Kind::ToolCall;
      call.call.name = "calc";
      call.call.arguments = R"({"expression": "6*7"})";
      call.call.raw_text = R"(<tool_call>{"name": "calc", "arguments": {"expression": "6*7"}}</tool_call>)";
      call.call.well_formed = true;
      EventSpec result;
      result.kind = EventSpec::Kind::ToolResult;
      result.result.call_index = 0;
      result.result.name = "calc";
      result.result.output = "42";
      result.result.status = schema::ToolStatus::Ok;
      turn.events = {call, result};
    } else {
      EventSpec checkpoint;
      checkpoint.kind = EventSpec::Kind::Checkpoint;
      checkpoint.checkpoint.label = "end of turn " + std::to_string(t);
      checkpoint.checkpoint.data = "{}";
      checkpoint.checkpoint.kv_hash = 0x1000 + t;
      checkpoint.checkpoint.position = turn.steps.empty() ? 0 : turn.steps.back().position + 1;
      turn.events = {checkpoint};
    }
    spec.turns.push_back(std::move(turn));
  }
  return spec;
}

void diverge(SessionSpec& spec, uint32_t turn, uint32_t step, const std::string& piece) {
  schema::StepT& s = spec.turns[turn].steps[step];
  std::swap(s.topk_ids[0], s.topk_ids[1]);
  s.token = s.topk_ids[0];
  s.piece = piece;
  s.logits_hash ^= 0x5555;
}

void write_spec(const std::filesystem::path& path, const SessionSpec& spec) {
  trace::WriterOptions options;
  options.existing = trace::ExistingFile::Overwrite;
  trace::SessionWriter writer(path, spec.header, options);
  for (const TurnSpec& turn : spec.turns) {
    writer.begin_turn(turn.start);
    for (const schema::StepT& step : turn.steps) writer.step(step);
    if (!turn.ended) {
      writer.flush();
      return;  // the destructor leaves the file as an interrupted recording
    }
    writer.end_turn(turn.end);
    for (const EventSpec& event : turn.events) {
      switch (event.kind) {
        case EventSpec::Kind::ToolCall: writer.tool_call(event.call); break;
        case EventSpec::Kind::ToolResult: writer.tool_result(event.result, std::chrono::microseconds(5)); break;
        case EventSpec::Kind::Checkpoint: writer.checkpoint(event.checkpoint); break;
      }
    }
  }
  if (spec.finish) writer.finish();
}

}  // namespace ree::test
