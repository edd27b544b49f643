// Tool calls through the agent loop with scripted replies (scripted_engine.h):
// what is recorded for a good call, a malformed one (invalid JSON), invalid
// arguments, an unknown tool, read_file, and one call too many.
#include <doctest/doctest.h>

#include <fstream>

#include "scripted_session.h"
#include "trace/reader.h"

using namespace ree;

namespace {

struct Recorded {
  std::vector<const schema::ToolCall*> calls;
  std::vector<const schema::ToolResult*> results;
  std::vector<const schema::TurnStart*> turns;
  std::vector<const schema::TurnEnd*> ends;
};

Recorded records_of(const trace::SessionReader& reader) {
  REQUIRE(reader.report().status == trace::SessionStatus::Valid);
  Recorded r;
  for (size_t i = 0; i < reader.size(); ++i) {
    const auto v = reader.record(i);
    if (const auto* c = v.tool_call()) r.calls.push_back(c);
    if (const auto* t = v.tool_result()) r.results.push_back(t);
    if (const auto* s = v.turn_start()) r.turns.push_back(s);
    if (const auto* e = v.turn_end()) r.ends.push_back(e);
  }
  return r;
}

const Model* model_or_skip() {
  const Model* m = test::sample_model_loaded();
  if (!m) MESSAGE("skipped: samples/sample-model is missing");
  return m;
}

}  // namespace

TEST_CASE("scripted tool calls: a good call runs, its result is fed back as a tool message") {
  const Model* m = model_or_skip();
  if (!m) return;
  test::TempDir dir("ree-scripted");
  const auto path = dir / "s.fb";
  const auto rec = test::record_scripted(
      *m, path, {R"(<tool_call>{"name": "calc", "arguments": {"expression": "12*7"}}</tool_call>)", "The result is 84."},
      {"What is 12 times 7?"});
  REQUIRE(rec.exchanges.size() == 1);
  CHECK(rec.exchanges[0].tool_calls == 1);
  CHECK(rec.exchanges[0].answer == "The result is 84.");
  CHECK(rec.exchanges[0].stop == StopReason::Eos);
  trace::SessionReader reader(path);
  const Recorded r = records_of(reader);
  REQUIRE(r.calls.size() == 1);
  CHECK(r.calls[0]->name()->str() == "calc");
  CHECK(r.calls[0]->arguments()->str() == R"({"expression":"12*7"})");
  CHECK(r.calls[0]->well_formed());
  REQUIRE(r.results.size() == 1);
  CHECK(r.results[0]->output()->str() == "84");
  CHECK(r.results[0]->status() == schema::ToolStatus::Ok);
  // system, user (ends in a tool call), tool (ends in the answer)
  REQUIRE(r.turns.size() == 3);
  CHECK(r.ends[1]->stop_reason() == schema::StopReason::ToolCall);
  CHECK(r.turns[2]->role() == schema::Role::Tool);
  CHECK(r.turns[2]->content()->str() == "84");
  CHECK(r.ends[2]->text()->str() == "The result is 84.");
}

TEST_CASE("scripted tool calls: failures become error results the model reads") {
  const Model* m = model_or_skip();
  if (!m) return;
  test::TempDir dir("ree-scripted");
  const auto notes = dir / "notes";
  std::filesystem::create_directories(notes);
  std::ofstream(notes / "a.txt") << "the meeting moved to Friday";
  agent::ToolConfig tools;
  tools.read_dir = notes;
  struct Case {
    const char* name;
    const char* call;
    bool well_formed;
    const char* result_prefix;
  };
  for (const Case c :
       {Case{"invalid JSON", R"(<tool_call>{"name": "calc", "arguments": {"expression": }}</tool_call>)", false,
             "error: malformed tool call: not JSON"},
        Case{"no closing tag", R"(<tool_call>{"name": "calc", "arguments": {"expression": "1+1"}})", false,
             "error: malformed tool call: missing </tool_call>"},
        Case{"arguments not an object", R"(<tool_call>{"name": "calc", "arguments": "1+1"}</tool_call>)", false,
             "error: malformed tool call: \"arguments\" is not an object"},
        Case{"invalid arguments", R"(<tool_call>{"name": "calc", "arguments": {"expr": "1+1"}}</tool_call>)", true,
             "error: invalid arguments"},
        Case{"calc error", R"(<tool_call>{"name": "calc", "arguments": {"expression": "1/0"}}</tool_call>)", true,
             "error: division by zero"},
        Case{"unknown tool", R"(<tool_call>{"name": "weather", "arguments": {}}</tool_call>)", true,
             "error: unknown tool: weather"},
        Case{"read_file", R"(<tool_call>{"name": "read_file", "arguments": {"path": "a.txt"}}</tool_call>)", true,
             "the meeting moved to Friday"},
        Case{"read_file escaping", R"(<tool_call>{"name": "read_file", "arguments": {"path": "../x"}}</tool_call>)", true,
             "error: no such file: ../x"}}) {
    INFO(c.name);
    const auto path = dir / "s.fb";
    const auto rec = test::record_scripted(*m, path, {c.call, "Sorry about that."}, {"Please help."}, tools);
    CHECK(rec.exchanges[0].tool_calls == 1);
    CHECK(rec.exchanges[0].answer == "Sorry about that.");
    trace::SessionReader reader(path);
    const Recorded r = records_of(reader);
    REQUIRE(r.calls.size() == 1);
    CHECK(r.calls[0]->well_formed() == c.well_formed);
    CHECK(r.calls[0]->raw_text()->str().rfind("<tool_call>", 0) == 0);
    if (!c.well_formed) {
      CHECK(!r.calls[0]->parse_error()->str().empty());
      CHECK((!r.calls[0]->arguments() || r.calls[0]->arguments()->str().empty()));
    }
    REQUIRE(r.results.size() == 1);
    const std::string output = r.results[0]->output()->str();
    CHECK(output.rfind(c.result_prefix, 0) == 0);
    CHECK((r.results[0]->status() == schema::ToolStatus::Ok) == (output.rfind("error: ", 0) != 0));
    // The model is told exactly what was recorded.
    REQUIRE(r.turns.size() == 3);
    CHECK(r.turns[2]->content()->str() == output);
  }
}

TEST_CASE("scripted tool calls: rounds per message are bounded") {
  const Model* m = model_or_skip();
  if (!m) return;
  test::TempDir dir("ree-scripted");
  const auto path = dir / "s.fb";
  const std::string call = R"(<tool_call>{"name": "calc", "arguments": {"expression": "1+1"}}</tool_call>)";
  const auto rec = test::record_scripted(*m, path, {call, call, call, "never said"}, {"Loop, please."}, {}, 2);
  REQUIRE(rec.exchanges.size() == 1);
  CHECK(rec.exchanges[0].tool_calls == 3);
  CHECK(rec.exchanges[0].stop == StopReason::ToolCall);
  trace::SessionReader reader(path);
  const Recorded r = records_of(reader);
  REQUIRE(r.results.size() == 3);
  CHECK(r.results[0]->output()->str() == "2");
  CHECK(r.results[1]->output()->str() == "2");
  CHECK(r.results[2]->output()->str() == "error: too many tool calls for one message (limit 2)");
  // The third result is recorded but not fed: no fourth generated message.
  CHECK(r.turns.size() == 4);  // system, user, tool, tool
}
