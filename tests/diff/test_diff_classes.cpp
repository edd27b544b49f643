// Every class of difference, provoked by changing exactly one thing in an
// otherwise identical pair of real session files, is classified and located
// correctly (docs/diff.md, "Classes").
#include <cstring>
#include <string>

#include "diff/report_json.h"
#include "runtime/error.h"
#include "diff_testing.h"

namespace ree::test {
namespace {

using diff::DiffClass;

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

TEST_CASE("identical sessions compare identical, turn by turn") {
  TempDir dir("ree-diff");
  const SessionSpec spec = base_spec();
  const diff::Comparison c = compare_specs(dir, spec, spec);
  CHECK(c.identical());
  CHECK_FALSE(c.environment_differs());
  CHECK(c.header.empty());
  CHECK(c.mismatches.empty());
  CHECK_FALSE(c.token_divergence);
  CHECK_FALSE(c.first_logits_drift);
  REQUIRE(c.turns.size() == 3);
  for (const diff::TurnSummary& t : c.turns) {
    CHECK(t.steps_a == 12);
    CHECK(t.steps_b == 12);
    CHECK(t.matched_steps == 12);
    CHECK(t.identical_steps == 12);
    CHECK_FALSE(t.first_class);
  }
  CHECK(c.a.complete);
  CHECK(c.a.status == "valid");
}

TEST_CASE("environment and run settings are listed but do not make sessions different") {
  TempDir dir("ree-diff");
  const SessionSpec a = base_spec();
  SessionSpec b = a;
  b.header.environment.cpu_model = "another cpu";
  b.header.environment.start_time_unix_ms += 1000;
  b.header.run.threads = 7;
  const diff::Comparison c = compare_specs(dir, a, b);
  CHECK(c.identical());
  CHECK(c.environment_differs());
  REQUIRE(c.header.size() == 3);
  std::string paths;
  for (const diff::HeaderField& f : c.header) {
    CHECK_FALSE(f.content);
    paths += f.path + " ";
  }
  CHECK(contains(paths, "environment.cpu_model"));
  CHECK(contains(paths, "environment.start_time_unix_ms"));
  CHECK(contains(paths, "run.threads"));
  CHECK(c.header[0].a != c.header[0].b);
}

TEST_CASE("header: every differing content field is listed with its section") {
  TempDir dir("ree-diff");
  const SessionSpec a = base_spec();
  SessionSpec b = a;
  b.header.bound.model->weights_digest = std::string(64, 'c');
  b.header.bound.model->tokenizer_digest = std::string(64, 'd');
  b.header.bound.model->chat_template_id = "chatml";
  b.header.bound.config->mode = schema::Mode::Fast;
  b.header.bound.config->sampling->temperature = 0.0f;
  const diff::Comparison c = compare_specs(dir, a, b);
  CHECK_FALSE(c.identical());
  REQUIRE(c.first);
  CHECK(c.first->kind == DiffClass::Header);
  CHECK(count_class(c, DiffClass::Header) == 5);
  auto section_of = [&c](const std::string& path) {
    for (const diff::HeaderField& f : c.header)
      if (f.path == path) {
        CHECK(f.content);
        return std::string(diff::section_name(f.section));
      }
    return std::string("missing");
  };
  CHECK(section_of("model.weights_digest") == "model");
  CHECK(section_of("model.tokenizer_digest") == "tokenizer");
  CHECK(section_of("model.chat_template_id") == "template");
  CHECK(section_of("config.mode") == "configuration");
  CHECK(section_of("config.sampling.temperature") == "configuration");
  // The records themselves agree.
  CHECK(c.mismatches.empty());
}

TEST_CASE("prompt: content, and rendered tokens alone (template/tokenizer)") {
  TempDir dir("ree-diff");
  const SessionSpec a = base_spec();
  SUBCASE("content") {
    SessionSpec b = a;
    b.turns[1].start.content += " (edited)";
    const diff::Comparison c = compare_specs(dir, a, b);
    REQUIRE(c.first);
    CHECK(c.first->kind == DiffClass::Prompt);
    CHECK(c.first->turn == 1);
    CHECK(c.first->step == -1);
    CHECK(contains(c.first->what, "content differs"));
  }
  SUBCASE("rendered prompt tokens only") {
    SessionSpec b = a;
    b.turns[2].start.prompt_tokens[3] += 1;
    const diff::Comparison c = compare_specs(dir, a, b);
    REQUIRE(c.first);
    CHECK(c.first->kind == DiffClass::Prompt);
    CHECK(c.first->turn == 2);
    CHECK(contains(c.first->what, "index 3"));
    CHECK(contains(c.first->what, "template or tokenizer"));
  }
}

TEST_CASE("token: the first divergence, with both top-k lists") {
  TempDir dir("ree-diff");
  const SessionSpec a = base_spec();
  SessionSpec b = a;
  diverge(b, 1, 5);
  // What follows a divergence differs too; it must not be reported as more divergences.
  for (uint32_t i = 6; i < 12; ++i) b.turns[1].steps[i].token += 1;
  const diff::Comparison c = compare_specs(dir, a, b);
  REQUIRE(c.first);
  CHECK(c.first->kind == DiffClass::Token);
  CHECK(c.first->turn == 1);
  CHECK(c.first->step == 5);
  REQUIRE(c.token_divergence);
  const diff::TokenDivergence& d = *c.token_divergence;
  CHECK(d.at.turn == 1);
  CHECK(d.at.step == 5);
  CHECK(d.at.global_a == 12 + 5);
  CHECK(d.token_a == a.turns[1].steps[5].token);
  CHECK(d.token_b == a.turns[1].steps[5].topk_ids[1]);
  CHECK(d.piece_b == "<diverged>");
  CHECK(d.rank_of_b_in_a == 1);
  CHECK(d.rank_of_a_in_b == 1);
  REQUIRE(d.topk_a.entries.size() == 8);
  CHECK(d.topk_a.entries[0].logit == a.turns[1].steps[5].topk_logits[0]);
  CHECK(d.side_by_side.size() == 8);
  CHECK_FALSE(d.side_by_side[0].same_id);
  CHECK(d.side_by_side[2].same_id);
  REQUIRE(d.context.size() == 5);  // default context is 8, only 5 steps precede
  CHECK(d.context[4] == a.turns[1].steps[4].piece);
  const diff::TurnSummary& t = c.turns[1];
  CHECK(t.matched_steps == 5);
  CHECK(t.first_token_divergence == 5u);
  CHECK(t.first_logits_drift == 5u);
  CHECK(t.silent_drift_steps == 0);
  CHECK(count_class(c, DiffClass::Token) == 1);
  // Turns 0 and 2 are unaffected.
  CHECK_FALSE(c.turns[0].first_class);
  CHECK_FALSE(c.turns[2].first_class);
}

TEST_CASE("logits-only drift: same tokens, different logits hash") {
  TempDir dir("ree-diff");
  const SessionSpec a = base_spec();
  SessionSpec b = a;
  b.turns[2].steps[3].logits_hash ^= 1;
  b.turns[2].steps[9].logits_hash ^= 1;
  const diff::Comparison c = compare_specs(dir, a, b);
  REQUIRE(c.first);
  CHECK(c.first->kind == DiffClass::LogitsDrift);
  CHECK(c.first->turn == 2);
  CHECK(c.first->step == 3);
  CHECK_FALSE(c.token_divergence);
  REQUIRE(c.first_logits_drift);
  CHECK(c.first_logits_drift->turn == 2);
  CHECK(c.first_logits_drift->step == 3);
  CHECK(c.turns[2].silent_drift_steps == 2);
  CHECK(c.turns[2].matched_steps == 12);
  CHECK(count_class(c, DiffClass::LogitsDrift) == 2);
  // Only the first drift of the turn is listed; both are counted.
  CHECK(c.mismatches.size() == 1);
}

TEST_CASE("top-k: reordered candidates and replaced candidates") {
  TempDir dir("ree-diff");
  const SessionSpec a = base_spec();
  SUBCASE("reordered") {
    SessionSpec b = a;
    std::swap(b.turns[0].steps[7].topk_ids[2], b.turns[0].steps[7].topk_ids[3]);
    b.turns[0].steps[7].logits_hash ^= 2;
    const diff::Comparison c = compare_specs(dir, a, b);
    REQUIRE(c.first);
    CHECK(c.first->kind == DiffClass::TopK);
    CHECK(c.first->turn == 0);
    CHECK(c.first->step == 7);
    CHECK(contains(c.first->what, "reordered"));
    CHECK(c.turns[0].first_topk_change == 7u);
    CHECK(c.turns[0].first_logits_drift == 7u);
  }
  SUBCASE("replaced") {
    SessionSpec b = a;
    b.turns[0].steps[2].topk_ids[7] = 31999;
    const diff::Comparison c = compare_specs(dir, a, b);
    REQUIRE(c.first);
    CHECK(c.first->kind == DiffClass::TopK);
    CHECK(contains(c.first->what, "candidates differ"));
  }
  SUBCASE("values only: the logits drifted, the order held") {
    SessionSpec b = a;
    b.turns[0].steps[4].topk_logits[5] -= 0.5f;
    b.turns[0].steps[4].logits_hash ^= 4;
    const diff::Comparison c = compare_specs(dir, a, b);
    REQUIRE(c.first);
    CHECK(c.first->kind == DiffClass::LogitsDrift);
    CHECK(contains(c.first->what, "top-k logits differ"));
    CHECK_FALSE(c.turns[0].first_topk_change);
  }
}

TEST_CASE("per-layer probes: the first differing layer and sub-block is named") {
  TempDir dir("ree-diff");
  const SessionSpec a = base_spec(12, true);
  SessionSpec b = a;
  b.turns[1].steps[4].layer_hashes[2 * 4 + 3] ^= 1;  // layer 2, mlp output
  const diff::Comparison c = compare_specs(dir, a, b);
  REQUIRE(c.first);
  CHECK(c.first->kind == DiffClass::LogitsDrift);
  CHECK(contains(c.first->what, "layer 2 mlp"));
}

TEST_CASE("tool call, tool result, checkpoint, stop reason") {
  TempDir dir("ree-diff");
  const SessionSpec a = base_spec();
  SUBCASE("tool call arguments") {
    SessionSpec b = a;
    b.turns[0].events[0].call.arguments = R"({"expression": "6*8"})";
    const diff::Comparison c = compare_specs(dir, a, b);
    REQUIRE(c.first);
    CHECK(c.first->kind == DiffClass::ToolCall);
    CHECK(c.first->turn == 0);
    CHECK(contains(c.first->what, "arguments"));
    CHECK(c.mismatches.size() == 1);
  }
  SUBCASE("tool result output and status") {
    SessionSpec b = a;
    b.turns[0].events[1].result.output = "48";
    b.turns[0].events[1].result.status = schema::ToolStatus::Error;
    const diff::Comparison c = compare_specs(dir, a, b);
    REQUIRE(c.first);
    CHECK(c.first->kind == DiffClass::ToolResult);
    CHECK(contains(c.first->what, "output"));
    CHECK(contains(c.first->what, "status ok vs error"));
  }
  SUBCASE("checkpoint kv hash") {
    SessionSpec b = a;
    b.turns[1].events[0].checkpoint.kv_hash ^= 0xff;
    const diff::Comparison c = compare_specs(dir, a, b);
    REQUIRE(c.first);
    CHECK(c.first->kind == DiffClass::Checkpoint);
    CHECK(c.first->turn == 1);
    CHECK(contains(c.first->what, "kv hash"));
  }
  SUBCASE("stop reason") {
    SessionSpec b = a;
    b.turns[2].end.stop_reason = schema::StopReason::Eos;
    const diff::Comparison c = compare_specs(dir, a, b);
    REQUIRE(c.first);
    CHECK(c.first->kind == DiffClass::StopReason);
    CHECK(c.first->turn == 2);
    CHECK(contains(c.first->what, "max_tokens vs eos"));
  }
  SUBCASE("a tool call only one session made") {
    SessionSpec b = a;
    b.turns[0].events.clear();
    const diff::Comparison c = compare_specs(dir, a, b);
    REQUIRE(c.first);
    CHECK(c.first->kind == DiffClass::ToolCall);
    CHECK(contains(c.first->what, "only a has tool call"));
    CHECK(count_class(c, DiffClass::ToolResult) == 1);
  }
}

TEST_CASE("length: fewer steps, a missing turn, a truncated file") {
  TempDir dir("ree-diff");
  const SessionSpec a = base_spec();
  SUBCASE("fewer steps with the same prefix") {
    SessionSpec b = a;
    b.turns[2].steps.resize(10);
    const diff::Comparison c = compare_specs(dir, a, b);
    REQUIRE(c.first);
    CHECK(c.first->kind == DiffClass::Length);
    CHECK(c.first->turn == 2);
    CHECK(c.first->step == 10);
    CHECK(contains(c.first->what, "a has 12 steps, b has 10"));
    CHECK(c.turns[2].matched_steps == 10);
    CHECK_FALSE(c.token_divergence);
  }
  SUBCASE("a turn only one session has") {
    SessionSpec b = a;
    b.turns.pop_back();
    const diff::Comparison c = compare_specs(dir, a, b);
    REQUIRE(c.first);
    CHECK(c.first->kind == DiffClass::Length);
    CHECK(c.first->turn == 2);
    CHECK(contains(c.first->what, "turn 2 only in a"));
    REQUIRE(c.turns.size() == 3);
    CHECK(c.turns[2].in_a);
    CHECK_FALSE(c.turns[2].in_b);
  }
  SUBCASE("interrupted recording (no End record)") {
    SessionSpec b = a;
    b.finish = false;
    const diff::Comparison c = compare_specs(dir, a, b);
    CHECK(c.b.status == "truncated");
    CHECK_FALSE(c.b.complete);
    REQUIRE(c.first);
    CHECK(c.first->kind == DiffClass::Length);
    CHECK(contains(c.first->what, "a is complete"));
    CHECK_FALSE(c.notes.empty());
  }
  SUBCASE("stopped inside a turn") {
    SessionSpec b = a;
    b.turns[2].steps.resize(5);
    b.turns[2].ended = false;
    b.finish = false;
    const diff::Comparison c = compare_specs(dir, a, b);
    REQUIRE(c.first);
    CHECK(c.first->kind == DiffClass::Length);
    CHECK(c.first->turn == 2);
    CHECK(c.first->step == 5);
    CHECK(c.turns[2].matched_steps == 5);
  }
}

TEST_CASE("silent drift before the divergence: the first difference is the drift") {
  TempDir dir("ree-diff");
  const SessionSpec a = base_spec();
  SessionSpec b = a;
  b.turns[1].steps[2].logits_hash ^= 1;
  b.turns[1].steps[4].logits_hash ^= 1;
  diverge(b, 1, 6);
  const diff::Comparison c = compare_specs(dir, a, b);
  REQUIRE(c.first);
  CHECK(c.first->kind == DiffClass::LogitsDrift);
  CHECK(c.first->step == 2);
  REQUIRE(c.first_logits_drift);
  CHECK(c.first_logits_drift->step == 2);
  REQUIRE(c.token_divergence);
  CHECK(c.token_divergence->at.step == 6);
  const diff::TurnSummary& t = c.turns[1];
  CHECK(t.first_logits_drift == 2u);
  CHECK(t.first_token_divergence == 6u);
  CHECK(t.silent_drift_steps == 2);
  CHECK(t.matched_steps == 6);
  CHECK(t.identical_steps == 4);
  CHECK(t.first_class == DiffClass::LogitsDrift);
}

TEST_CASE("near ties at the divergence are flagged against the threshold") {
  TempDir dir("ree-diff");
  SessionSpec a = base_spec();
  schema::StepT& s = a.turns[0].steps[3];
  s.topk_logits[1] = s.topk_logits[0] - 0.01f;
  s.margin = s.topk_logits[0] - s.topk_logits[1];
  SessionSpec b = a;
  diverge(b, 0, 3);
  b.turns[0].steps[3].margin = 1.5f;  // b's own margin is comfortable
  const diff::Comparison flagged = compare_specs(dir, a, b);
  REQUIRE(flagged.token_divergence);
  CHECK(flagged.token_divergence->topk_a.near_tie);
  CHECK_FALSE(flagged.token_divergence->topk_b.near_tie);
  CHECK(flagged.token_divergence->near_tie);
  diff::CompareOptions strict;
  strict.near_tie_margin = 0.001f;
  const diff::Comparison unflagged = compare_specs(dir, a, b, strict);
  REQUIRE(unflagged.token_divergence);
  CHECK_FALSE(unflagged.token_divergence->near_tie);
}

TEST_CASE("the JSON report carries the same facts") {
  TempDir dir("ree-diff");
  const SessionSpec a = base_spec();
  SessionSpec b = a;
  b.turns[1].steps[1].logits_hash ^= 1;
  diverge(b, 1, 3);
  b.header.environment.os = "another os";
  const diff::Comparison c = compare_specs(dir, a, b);
  const nlohmann::json j = diff::comparison_to_json(c);
  CHECK(j["identical"] == false);
  CHECK(j["environment_differs"] == true);
  CHECK(j["first_difference"]["class"] == "logits_drift");
  CHECK(j["first_difference"]["turn"] == 1);
  CHECK(j["first_difference"]["step"] == 1);
  CHECK(j["token_divergence"]["at"]["step"] == 3);
  CHECK(j["token_divergence"]["topk_a"]["entries"].size() == 8);
  CHECK(j["turns"][1]["first_token_divergence"] == 3);
  CHECK(j["turns"][1]["first_logits_drift"] == 1);
  CHECK(j["turns"][0]["first_logits_drift"].is_null());
  CHECK(j["header"][0]["field"] == "environment.os");
  CHECK(j["header"][0]["content"] == false);
  CHECK(j["counts"]["token"] == 1);
}

TEST_CASE("a file with no readable header is an input error") {
  TempDir dir("ree-diff");
  write_spec(dir / "a.fb", base_spec());
  {
    std::FILE* f = std::fopen((dir / "junk.fb").c_str(), "wb");
    REQUIRE(f);
    std::fputs("this is not a session file at all", f);
    std::fclose(f);
  }
  trace::SessionReader good(dir / "a.fb");
  trace::SessionReader junk(dir / "junk.fb");
  CHECK_THROWS_AS(diff::compare_sessions(good, junk), ree::Error);
  CHECK_FALSE(diff::identical(good, junk));
}

}  // namespace
}  // namespace ree::test
