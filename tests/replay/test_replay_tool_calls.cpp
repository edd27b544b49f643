// Replaying tool-using sessions whose replies are scripted (the engine of
// tests/agent/scripted_engine.h stands in for the model on both sides):
// good, malformed and over-the-limit calls verify in strict mode both ways,
// and an edited tool call or tool message is named.
#include <doctest/doctest.h>

#include "../agent/scripted_session.h"
#include "replay/replay.h"
#include "trace/reader.h"

using namespace ree;

namespace {

const std::string kCall = R"(<tool_call>{"name": "calc", "arguments": {"expression": "12*7"}}</tool_call>)";
const std::string kMalformed = R"(<tool_call>{"name": "calc", "arguments": {"expression": }}</tool_call>)";
const std::vector<std::string> kReplies = {kCall, "The result is 84.", kMalformed, "Sorry.", kCall, kCall, kCall};
const std::vector<std::string> kUser = {"What is 12 times 7?", "And again?", "Loop."};

replay::ReplayReport replay_scripted(const Model& m, const std::filesystem::path& path, bool strict, bool regenerate,
                                     bool rerun_tools = false) {
  trace::SessionReader session(path);
  test::ScriptedEngine engine(m, test::scripted_replies(m, kReplies));
  replay::ReplayOptions o;
  o.strict = strict;
  o.regenerate = regenerate;
  o.rerun_tools = rerun_tools;
  return replay::replay_session(session, m, engine, o);
}

}  // namespace

TEST_CASE("replay of scripted tool-using sessions") {
  const Model* m = test::sample_model_loaded();
  if (!m) {
    MESSAGE("skipped: samples/sample-model is missing");
    return;
  }
  test::TempDir dir("ree-replay-scripted");
  const auto path = dir / "s.fb";
  const auto rec = test::record_scripted(*m, path, kReplies, kUser, {}, 2);
  REQUIRE(rec.exchanges.size() == 3);
  REQUIRE(rec.exchanges[2].tool_calls == 3);  // the third is over the limit

  SUBCASE("untouched: verified in every mode, the two methods agree") {
    for (bool strict : {false, true}) {
      const auto tf = replay_scripted(*m, path, strict, false);
      const auto rg = replay_scripted(*m, path, strict, true);
      CHECK(tf.status == replay::ReplayStatus::Verified);
      CHECK(rg.status == replay::ReplayStatus::Verified);
      CHECK(tf.method == replay::Method::TeacherForced);
      CHECK(rg.method == replay::Method::Regenerated);
      CHECK(tf.counts.steps == rg.counts.steps);
      CHECK(tf.counts.tool_calls == 5);
      CHECK(rg.counts.tool_calls == 5);
      CHECK(tf.counts.steps == tf.session_steps);
    }
    // calc re-run: same results; the malformed and over-the-limit calls are not re-run.
    const auto r = replay_scripted(*m, path, true, false, true);
    CHECK(r.status == replay::ReplayStatus::Verified);
    REQUIRE(r.tool_reruns.size() == 5);
    int ran = 0;
    for (const auto& t : r.tool_reruns) {
      ran += t.ran;
      if (t.ran) CHECK(t.same);
    }
    CHECK(ran == 3);
  }
  SUBCASE("a tool call's recorded arguments edited: strict names the tool call") {
    const auto edited = dir / "edited.fb";
    test::rewrite_session(path, edited, [](schema::BoundRecordT& r) {
      if (auto* c = r.body.AsToolCall(); c && c->index == 0) c->arguments = R"({"expression":"12*8"})";
      return true;
    });
    CHECK(replay_scripted(*m, edited, false, false).status == replay::ReplayStatus::Verified);
    const auto r = replay_scripted(*m, edited, true, false);
    REQUIRE(r.status == replay::ReplayStatus::Diverged);
    CHECK(r.divergence->kind == replay::DivergenceKind::ToolCall);
    CHECK(r.divergence->turn == 1);
    CHECK(r.divergence->expected_text.find("12*8") != std::string::npos);
    CHECK(r.divergence->observed_text.find("12*7") != std::string::npos);
  }
  SUBCASE("a tool result edited: strict says the tool message is not the recorded result") {
    const auto edited = dir / "edited.fb";
    test::rewrite_session(path, edited, [](schema::BoundRecordT& r) {
      if (auto* t = r.body.AsToolResult(); t && t->call_index == 0) t->output = "85";
      return true;
    });
    const auto r = replay_scripted(*m, edited, true, false);
    REQUIRE(r.status == replay::ReplayStatus::Diverged);
    CHECK(r.divergence->kind == replay::DivergenceKind::ToolResult);
    CHECK(r.divergence->expected_text == "85");
    CHECK(r.divergence->observed_text == "84");
  }
  SUBCASE("a recorded tool call the message does not make: strict") {
    const auto edited = dir / "edited.fb";
    test::rewrite_session(path, edited, [](schema::BoundRecordT& r) {
      if (auto* c = r.body.AsToolCall(); c && c->index == 1) {
        c->well_formed = true;
        c->parse_error.clear();
        c->arguments = "{}";
      }
      return true;
    });
    const auto r = replay_scripted(*m, edited, true, false);
    REQUIRE(r.status == replay::ReplayStatus::Diverged);
    CHECK(r.divergence->kind == replay::DivergenceKind::ToolCall);
    CHECK(r.divergence->observed_text.find("(malformed)") != std::string::npos);
  }
}
