// `ree replay` end to end on sessions recorded by `ree agent`: untouched
// sessions verify (default and strict, teacher-forced and regenerated, and
// the two methods agree), and differences provoked for real are caught and
// named: a fast-mode recording, a changed tool result, perturbed weights
// (--locate names the layer), a logits-hash-only change, a changed prompt
// or token, a truncated file.
#include <doctest/doctest.h>

#include <fstream>

#include "../agent/agent_test_util.h"
#include "trace/reader.h"

using namespace ree;
using test::run_ree;
using test::run_ree_json;
using test::sh;

namespace {

struct Sessions {
  test::TempDir dir{"ree-replay"};
  std::filesystem::path model = test::synth_test_model(dir);
  std::filesystem::path oneshot = dir / "oneshot.fb";
  std::filesystem::path multi = dir / "multi.fb";
  std::filesystem::path sampled = dir / "sampled.fb";
  std::filesystem::path sampled_topk = dir / "sampled-topk.fb";
  std::filesystem::path probes = dir / "probes.fb";
  std::filesystem::path truncated = dir / "truncated.fb";
  std::filesystem::path full = dir / "context-full.fb";
  std::filesystem::path unfed = dir / "unfed.fb";

  Sessions() {
    const std::string agent = "agent --model " + sh(model) + " --threads 2 ";
    record(agent + "--prompt 'Hello there' --max-tokens 12 --export " + sh(oneshot));
    const auto script = dir / "chat.txt";
    std::ofstream(script) << "first question\n/checkpoint mark {\"k\": 1}\nsecond question\n/quit\n";
    record(agent + "--system 'Be brief.' --max-tokens 10 --prefill-chunk 3 --export " + sh(multi) + " < " + sh(script));
    record(agent + "--prompt 'Once upon a time' --max-tokens 16 --temperature 0.9 --seed 5 --export " + sh(sampled));
    record(agent + "--prompt 'Once upon a time' --max-tokens 16 --temperature 0.7 --top-k 20 --top-p 0.9 --seed 9 --export " +
           sh(sampled_topk));
    record(agent + "--prompt 'Hello there' --max-tokens 8 --probe layers --export " + sh(probes));
    // A small KV cache: full in the middle of the answer, and too small for the prompt.
    const auto prompt_tokens = size_t(trace::SessionReader(oneshot).record(0).turn_start()->prompt_tokens()->size());
    record(agent + "--prompt 'Hello there' --max-tokens 12 --context " + std::to_string(prompt_tokens + 5) +
           " --export " + sh(full));
    record(agent + "--prompt 'Hello there' --max-tokens 12 --context " + std::to_string(prompt_tokens - 1) +
           " --export " + sh(unfed));
    // Cut inside the last turn: what a killed recorder leaves.
    test::truncate_copy(multi, truncated, std::filesystem::file_size(multi) * 3 / 4);
  }
  static void record(const std::string& args) {
    const auto r = run_ree(args);
    if (r.exit_code != 0) throw std::runtime_error("recording failed: " + args + "\n" + r.output);
  }
};

Sessions& sessions() {
  static Sessions s;
  return s;
}

nlohmann::json replay(const std::filesystem::path& session, const std::string& args, int expected_code) {
  int code = -1;
  const auto j = run_ree_json("replay " + sh(session) + " " + args + " --json", &code);
  INFO("replay " << session.filename().string() << " " << args << "\n" << j.dump(2));
  CHECK(code == expected_code);
  CHECK(j["exit_code"] == expected_code);
  return j;
}

// Default and strict, teacher-forced and regenerated: all verify, and the
// two methods report the same checks.
void verifies(const std::filesystem::path& session, const std::string& args, int code = 0) {
  const uint64_t steps = trace::verify_session(session).counts[size_t(schema::RecordBody::Step)];
  for (const char* strict : {"", " --strict"}) {
    const auto tf = replay(session, args + strict, code);
    const auto rg = replay(session, args + strict + " --regenerate", code);
    CHECK(tf["method"] == "teacher-forced");
    CHECK(rg["method"] == "regenerated");
    CHECK(tf["divergence"].is_null());
    CHECK(rg["divergence"].is_null());
    CHECK(tf["first_drift"].is_null());
    CHECK(tf["counts"] == rg["counts"]);
    CHECK(tf["counts"]["steps"] == steps);
    CHECK(tf["counts"]["logits_matched"] == steps);
  }
}

// A copy of the model directory with `delta` added to every element of one f32 tensor.
std::filesystem::path perturbed_model(const std::filesystem::path& model, const std::filesystem::path& out,
                                      const std::string& tensor, float delta) {
  std::filesystem::remove_all(out);
  std::filesystem::copy(model, out);
  std::fstream f(out / "model.safetensors", std::ios::in | std::ios::out | std::ios::binary);
  uint64_t header_len = 0;
  f.read(reinterpret_cast<char*>(&header_len), 8);
  std::string header(header_len, '\0');
  f.read(header.data(), std::streamsize(header_len));
  const auto h = nlohmann::json::parse(header);
  REQUIRE(h.contains(tensor));
  REQUIRE(h[tensor]["dtype"] == "F32");
  const uint64_t begin = h[tensor]["data_offsets"][0], end = h[tensor]["data_offsets"][1];
  std::vector<float> values((end - begin) / 4);
  f.seekg(std::streamoff(8 + header_len + begin));
  f.read(reinterpret_cast<char*>(values.data()), std::streamsize(end - begin));
  for (float& v : values) v += delta;
  f.seekp(std::streamoff(8 + header_len + begin));
  f.write(reinterpret_cast<const char*>(values.data()), std::streamsize(end - begin));
  return out;
}

}  // namespace

TEST_CASE("replay: untouched sessions verify, teacher-forced and regenerated alike") {
  Sessions& s = sessions();
  SUBCASE("one-shot") { verifies(s.oneshot, ""); }
  SUBCASE("multi-turn with a system message, a checkpoint and closed-by-template messages") { verifies(s.multi, ""); }
  SUBCASE("sampled over the whole vocabulary") { verifies(s.sampled, ""); }
  SUBCASE("sampled with top-k and top-p") { verifies(s.sampled_topk, ""); }
  SUBCASE("recorded with probes, replayed on other thread counts") {
    verifies(s.probes, "--threads 1");
    verifies(s.probes, "--threads 3 --prefill-chunk 2");
  }
  SUBCASE("the KV cache filled up: mid-answer, and before the answer (replayed with the model's full context)") {
    trace::SessionReader full(s.full), unfed(s.unfed);
    REQUIRE(full.turns().size() == 1);
    CHECK(full.record(full.turns()[0].end_record).turn_end()->stop_reason() == schema::StopReason::ContextFull);
    CHECK(full.turns()[0].step_count == 6);
    CHECK(unfed.turns()[0].step_count == 0);
    CHECK(unfed.record(unfed.turns()[0].end_record).turn_end()->stop_reason() == schema::StopReason::ContextFull);
    verifies(s.full, "");
    verifies(s.unfed, "");
  }
  SUBCASE("truncated: the prefix verifies, exit 3") {
    REQUIRE(trace::verify_session(s.truncated).status == trace::SessionStatus::Truncated);
    verifies(s.truncated, "", 3);
    const auto j = replay(s.truncated, "", 3);
    CHECK(j["status"] == "truncated");
  }
  SUBCASE("the header names the model: found beside the session, no --model needed") {
    const auto j = replay(s.oneshot, "", 0);
    CHECK(j["model"].get<std::string>().find("test-model") != std::string::npos);
  }
}

TEST_CASE("replay with the sample model: a tool-using session, --rerun-tools, a changed tool result") {
  const auto model = test::sample_model();
  if (!model) {
    MESSAGE("skipped: samples/sample-model is missing");
    return;
  }
  Sessions& s = sessions();
  const auto calc = s.dir / "calc.fb";
  const auto ext = s.dir / "calc-ext.fb";
  const auto now = s.dir / "now.fb";
  const std::string agent = "agent --model " + sh(*model) + " --max-tokens 64 --threads 2 ";
  Sessions::record(agent + "--prompt 'What is 12 times 7?' --overwrite --export " + sh(calc));
  Sessions::record(agent + "--prompt 'What is 12 times 7?' --tool 'calc=echo 85' --overwrite --export " + sh(ext));
  Sessions::record(agent + "--prompt 'What time is it?' --overwrite --export " + sh(now));
  REQUIRE(trace::verify_session(calc).counts[size_t(schema::RecordBody::ToolCall)] >= 1);

  verifies(calc, "");
  verifies(ext, "");  // tool results are fed from the record: the model part reproduces
  verifies(now, "");

  // Deterministic tools run again give the same result...
  auto j = replay(calc, "--strict --rerun-tools", 0);
  REQUIRE(j["tool_reruns"].size() >= 1);
  CHECK(j["tool_reruns"][0]["ran"] == true);
  CHECK(j["tool_reruns"][0]["same"] == true);
  // ...the session recorded with calc answering 85 does not survive the built-in calc...
  j = replay(ext, "--rerun-tools", 1);
  CHECK(j["divergence"]["kind"] == "tool_result");
  CHECK(j["divergence"]["expected_text"] == "85");
  CHECK(j["divergence"]["observed_text"] == "84");
  // ...and `now` is never re-run.
  j = replay(now, "--rerun-tools", 0);
  REQUIRE(j["tool_reruns"].size() >= 1);
  CHECK(j["tool_reruns"][0]["name"] == "now");
  CHECK(j["tool_reruns"][0]["ran"] == false);
}

TEST_CASE("replay: a session recorded in fast mode with other threads diverges in reproducible mode") {
  Sessions& s = sessions();
  const auto fast = s.dir / "fast.fb";
  Sessions::record("agent --model " + sh(s.model) + " --prompt 'Hello there' --max-tokens 12 --mode fast --threads 3 " +
                   "--probe layers --overwrite --export " + sh(fast));
  // The tokens may well agree (small differences rarely flip a greedy
  // choice); the logits do not, which strict mode reports at the first step.
  const auto j = replay(fast, "--mode reproducible --threads 1 --strict --locate", 1);
  CHECK(j["divergence"]["turn"] == 0);
  CHECK(j["divergence"]["step"] == 0);
  const std::string kind = j["divergence"]["kind"];
  CHECK((kind == "logits_hash" || kind == "token"));
  CHECK(j["divergence"]["expected_hash"] != j["divergence"]["observed_hash"]);
  CHECK(j["locate"]["found"] == true);
  // Default mode checks tokens: if they agree it verifies, but says the logits drifted.
  int code = -1;
  const auto d = run_ree_json("replay " + sh(fast) + " --mode reproducible --threads 1 --json", &code);
  if (code == 0) {
    CHECK(d["first_drift"]["step"] == 0);
    CHECK(d["notes"].dump().find("silent drift") != std::string::npos);
  } else {
    CHECK(code == 1);
    CHECK(d["divergence"]["kind"] == "token");
  }
}

TEST_CASE("replay: perturbed weights are refused, or replayed and located with --locate") {
  Sessions& s = sessions();
  struct Case {
    const char* tensor;
    int layer;
    const char* point;
  };
  for (const Case c : {Case{"model.layers.1.mlp.down_proj.weight", 1, "mlp"},
                       Case{"model.layers.0.self_attn.o_proj.weight", 0, "attention"},
                       Case{"model.layers.1.post_attention_layernorm.weight", 1, "mlp-norm"},
                       Case{"model.layers.1.input_layernorm.weight", 1, "attention-norm"}}) {
    INFO(c.tensor);
    const auto model = perturbed_model(s.model, s.dir / "perturbed", c.tensor, 0.01f);
    const auto refused = run_ree("replay " + sh(s.probes) + " --model " + sh(model));
    CHECK(refused.exit_code == 2);
    CHECK(refused.output.find("weights digest differs") != std::string::npos);
    const auto j = replay(s.probes, "--model " + sh(model) + " --allow-model-mismatch --strict --locate", 1);
    CHECK(j["divergence"]["turn"] == 0);
    CHECK(j["divergence"]["step"] == 0);
    CHECK(j["locate"]["found"] == true);
    CHECK(j["locate"]["layer"] == c.layer);
    CHECK(j["locate"]["point"] == c.point);
    CHECK(j["notes"].dump().find("model mismatch allowed") != std::string::npos);
  }
  // Without recorded probes, --locate says what is missing instead of guessing.
  const auto model = perturbed_model(s.model, s.dir / "perturbed", "model.layers.1.mlp.down_proj.weight", 0.01f);
  const auto j = replay(s.oneshot, "--model " + sh(model) + " --allow-model-mismatch --strict --locate", 1);
  CHECK(j["locate"]["found"] == false);
  CHECK(j["locate"]["message"].get<std::string>().find("--probe layers") != std::string::npos);
}

TEST_CASE("replay: edited records are caught and named") {
  Sessions& s = sessions();
  const auto edited = s.dir / "edited.fb";
  // Steps of turn 1 (the first user turn of the multi-turn session).
  trace::SessionReader reader(s.multi);
  REQUIRE(reader.turns().size() >= 2);
  REQUIRE(reader.turns()[1].step_count >= 6);

  SUBCASE("a logits hash alone: default verifies (silent drift noted), strict fails at that step") {
    test::rewrite_session(s.multi, edited, [](schema::BoundRecordT& r) {
      if (auto* step = r.body.AsStep(); step && step->turn == 1 && step->index == 3) step->logits_hash ^= 1;
      return true;
    });
    auto j = replay(edited, "", 0);
    CHECK(j["first_drift"]["turn"] == 1);
    CHECK(j["first_drift"]["step"] == 3);
    j = replay(edited, "--strict", 1);
    CHECK(j["divergence"]["kind"] == "logits_hash");
    CHECK(j["divergence"]["turn"] == 1);
    CHECK(j["divergence"]["step"] == 3);
    j = replay(edited, "--strict --regenerate", 1);
    CHECK(j["divergence"]["kind"] == "logits_hash");
    CHECK(j["divergence"]["step"] == 3);
  }
  SUBCASE("a token (with the logits that chose it): named with expected and observed, no earlier drift") {
    int32_t original = -1;
    test::rewrite_session(s.multi, edited, [&](schema::BoundRecordT& r) {
      if (auto* step = r.body.AsStep(); step && step->turn == 1 && step->index == 4) {
        original = step->token;
        step->token = step->token == 5 ? 6 : 5;
      }
      return true;
    });
    for (const char* method : {"", "--regenerate"}) {
      const auto j = replay(edited, method, 1);
      CHECK(j["divergence"]["kind"] == "token");
      CHECK(j["divergence"]["turn"] == 1);
      CHECK(j["divergence"]["step"] == 4);
      CHECK(j["divergence"]["observed_token"] == original);
      CHECK(j["divergence"]["expected_token"] == (original == 5 ? 6 : 5));
      CHECK(j["divergence"]["earlier_drift"].is_null());
      CHECK(j["divergence"]["expected_top"].size() == 8);
      CHECK(j["divergence"]["observed_top"][0]["id"] == original);
      CHECK(!j["divergence"]["context"].empty());
    }
  }
  SUBCASE("silent drift before a token divergence is reported with it") {
    test::rewrite_session(s.multi, edited, [&](schema::BoundRecordT& r) {
      if (auto* step = r.body.AsStep(); step && step->turn == 1) {
        if (step->index == 2) step->logits_hash ^= 1;
        if (step->index == 5) step->token = step->token == 5 ? 6 : 5;
      }
      return true;
    });
    const auto j = replay(edited, "", 1);
    CHECK(j["divergence"]["kind"] == "token");
    CHECK(j["divergence"]["step"] == 5);
    CHECK(j["divergence"]["earlier_drift"]["step"] == 2);
    const auto text = run_ree("replay " + sh(edited)).output;
    CHECK(text.find("silent drift") != std::string::npos);
  }
  SUBCASE("a prompt token: the re-rendered prompt differs") {
    test::rewrite_session(s.multi, edited, [](schema::BoundRecordT& r) {
      if (auto* start = r.body.AsTurnStart(); start && start->turn == 2) start->prompt_tokens[2] ^= 1;
      return true;
    });
    const auto j = replay(edited, "", 1);
    CHECK(j["divergence"]["kind"] == "prompt");
    CHECK(j["divergence"]["turn"] == 2);
    CHECK(j["divergence"]["step"] == 2);
  }
  SUBCASE("a checkpoint's KV hash: strict only") {
    test::rewrite_session(s.multi, edited, [](schema::BoundRecordT& r) {
      if (auto* c = r.body.AsCheckpoint(); c && c->label == "mark") c->kv_hash ^= 1;
      return true;
    });
    replay(edited, "", 0);
    const auto j = replay(edited, "--strict", 1);
    CHECK(j["divergence"]["kind"] == "checkpoint");
  }
  SUBCASE("a stop reason: strict only") {
    test::rewrite_session(s.multi, edited, [](schema::BoundRecordT& r) {
      if (auto* e = r.body.AsTurnEnd(); e && e->turn == 1) e->stop_reason = schema::StopReason::Interrupted;
      return true;
    });
    const auto j = replay(edited, "--strict", 1);
    CHECK(j["divergence"]["kind"] == "stop_reason");
    CHECK(j["divergence"]["turn"] == 1);
  }
}

TEST_CASE("replay: bad input is exit 2 with one line") {
  Sessions& s = sessions();
  const auto elsewhere = s.dir / "moved";
  std::filesystem::create_directories(elsewhere);
  std::filesystem::copy_file(s.oneshot, elsewhere / "s.fb", std::filesystem::copy_options::overwrite_existing);
  auto r = run_ree("replay " + sh(elsewhere / "s.fb"));
  CHECK(r.exit_code == 2);
  CHECK(r.output.find("pass --model") != std::string::npos);
  r = run_ree("replay " + sh(s.dir / "missing.fb"));
  CHECK(r.exit_code == 2);
  // A tampered file is not replayed.
  const auto tampered = s.dir / "tampered.fb";
  std::filesystem::copy_file(s.oneshot, tampered, std::filesystem::copy_options::overwrite_existing);
  {
    std::fstream f(tampered, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(std::streamoff(std::filesystem::file_size(tampered) / 2));
    char c = 0;
    f.seekg(std::streamoff(std::filesystem::file_size(tampered) / 2));
    f.get(c);
    f.seekp(std::streamoff(std::filesystem::file_size(tampered) / 2));
    f.put(char(c ^ 0x40));
  }
  r = run_ree("replay " + sh(tampered) + " --model " + sh(s.model));
  CHECK(r.exit_code == 2);
  CHECK(r.output.find("ree: error:") != std::string::npos);
  r = run_ree("replay " + sh(s.oneshot) + " --against-mode fast");
  CHECK(r.exit_code == 2);  // --against-* needs --locate
}

TEST_CASE("replay --locate between two modes") {
  Sessions& s = sessions();
  // Reproducible vs fast on this machine: either they agree everywhere, or
  // the first differing position is named with a layer and sub-block.
  const auto j = replay(s.oneshot, "--locate --against-mode fast --threads 3", 0);
  REQUIRE(j.contains("locate"));
  CHECK(j["locate"]["against"].get<std::string>().find("fast") != std::string::npos);
  if (j["locate"]["found"] == true) {
    CHECK(j["locate"]["layer"].get<int>() >= 0);
    CHECK(j["locate"]["layer"].get<int>() < 2);
  } else {
    CHECK(j["locate"]["message"].get<std::string>().find("identical") != std::string::npos);
  }
}

TEST_CASE("replay: a recorded token outside the vocabulary is a divergence, not a crash") {
  Sessions& s = sessions();
  const auto edited = s.dir / "bad-token.fb";
  for (int32_t bad : {-5, 512, 1 << 30}) {
    test::rewrite_session(s.oneshot, edited, [&](schema::BoundRecordT& r) {
      if (auto* step = r.body.AsStep(); step && step->index == 3) step->token = bad;
      return true;
    });
    for (const char* method : {"", "--regenerate"}) {
      const auto j = replay(edited, method, 1);
      CHECK(j["divergence"]["kind"] == "token");
      CHECK(j["divergence"]["step"] == 3);
      CHECK(j["divergence"]["expected_token"] == bad);
    }
  }
}
