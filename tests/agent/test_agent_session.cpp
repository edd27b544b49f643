// The agent loop as a library: what it records, that recording does not
// depend on how the arithmetic was scheduled (threads, prefill chunks), that
// seeded sampling is reproducible, and that an interruption leaves a valid
// session.
#include <doctest/doctest.h>

#include <cstring>

#include "agent_test_util.h"
#include "runtime/agent/agent.h"
#include "runtime/error.h"
#include "trace/reader.h"

using namespace ree;
using namespace ree::agent;

namespace {

struct Fixture {
  test::TempDir dir{"ree-agent-session"};
  Model model = load_model(test::synth_test_model(dir), LoadOptions{nullptr, false});
};

Fixture& fixture() {
  static Fixture f;
  return f;
}

struct Recording {
  trace::FinishedSession finished;
  std::filesystem::path path;
  std::vector<Exchange> exchanges;
};

struct Script {
  std::string system;
  std::vector<std::string> user;
  SamplingParams sampling = {};
  int64_t max_tokens = 12;
  bool probes = false;
};

Script script_of(std::string system, std::vector<std::string> user) {
  Script s;
  s.system = std::move(system);
  s.user = std::move(user);
  return s;
}

Recording record(const Model& model, const std::filesystem::path& path, const Script& script, int threads,
                 int64_t prefill_chunk, const std::atomic<bool>* interrupt = nullptr,
                 const AgentObserver& observer = {}) {
  EngineOptions eo;
  eo.threads = threads;
  eo.context = 256;
  eo.max_batch = 64;
  auto engine = make_engine(model, eo);
  AgentOptions ao;
  ao.settings.sampling = script.sampling;
  ao.settings.max_tokens = script.max_tokens;
  ao.settings.record_top_k = 5;
  ao.settings.probes = script.probes;
  ao.settings.prefill_chunk = prefill_chunk;
  ao.settings.chat_template = detect_template(model).kind;
  ao.interrupt = interrupt;
  ToolBox tools(ToolConfig{});
  trace::WriterOptions wo;
  wo.existing = trace::ExistingFile::Overwrite;
  trace::SessionWriter writer(path, make_session_header(model, *engine, ao.settings), wo);
  Agent agent(model, *engine, tools, ao, &writer);
  Recording r;
  r.path = path;
  if (!script.system.empty()) agent.system(script.system);
  for (const auto& u : script.user) {
    if (agent.stopped()) break;
    r.exchanges.push_back(agent.ask(u, observer));
  }
  r.finished = *agent.finish();
  return r;
}

// Every record's bound bytes (what the receipt chains).
std::vector<std::vector<uint8_t>> bound_records(const std::filesystem::path& path) {
  trace::SessionReader reader(path);
  REQUIRE(reader.report().status == trace::SessionStatus::Valid);
  std::vector<std::vector<uint8_t>> out;
  for (size_t i = 0; i < reader.size(); ++i) {
    const auto b = reader.record(i).bound_bytes();
    out.emplace_back(b.begin(), b.end());
  }
  return out;
}

std::vector<int32_t> step_tokens(const std::filesystem::path& path) {
  trace::SessionReader reader(path);
  std::vector<int32_t> out;
  for (uint32_t idx : reader.steps()) out.push_back(reader.record(idx).step()->token());
  return out;
}

}  // namespace

TEST_CASE("agent: a recorded conversation holds exactly what was fed and generated") {
  Fixture& f = fixture();
  const auto path = f.dir / "one.fb";
  Script script = script_of("Be brief.", {"Hello there", "And again?"});
  const Recording r = record(f.model, path, script, 1, 0);
  trace::SessionReader reader(path);
  REQUIRE(reader.report().status == trace::SessionStatus::Valid);
  CHECK(trace::to_hex(reader.report().chain) == trace::to_hex(r.finished.receipt));
  const schema::BoundHeader& h = reader.header();
  CHECK(h.model()->chat_template_id()->str() == "chatml");
  CHECK(h.model()->weights_digest()->str() == f.model.identity.weights_digest);
  CHECK(h.config()->topk_width() == 5);
  CHECK(h.config()->max_tokens() == 12);
  REQUIRE(reader.turns().size() == 3);  // system, user, user (no tool calls: random model)

  // Re-render the prompts independently and replay the KV cache by hand.
  const ChatTemplate t = make_template(TemplateKind::ChatMl, f.model);
  RenderState state;
  EngineOptions eo;
  eo.context = 256;
  auto engine = make_engine(f.model, eo);
  const std::vector<std::pair<ChatRole, std::string>> messages = {
      {ChatRole::System, "Be brief."}, {ChatRole::User, "Hello there"}, {ChatRole::User, "And again?"}};
  for (size_t turn = 0; turn < 3; ++turn) {
    const trace::TurnSpan& span = reader.turns()[turn];
    const auto* start = reader.record(span.start_record).turn_start();
    REQUIRE(start);
    CHECK(agent::role_from_record(start->role()) == messages[turn].first);
    CHECK(start->content()->str() == messages[turn].second);
    const auto prompt = render_turn(t, f.model.tokenizer, state, messages[turn].first, messages[turn].second, turn > 0);
    CHECK(std::vector<int32_t>(start->prompt_tokens()->begin(), start->prompt_tokens()->end()) == prompt);
    feed(*engine, prompt, 0, ForwardRequest{});
    std::vector<int32_t> generated;
    for (size_t k = 0; k < span.step_count; ++k) {
      const auto* step = reader.record(reader.steps()[span.first_step + k]).step();
      CHECK(step->position() == engine->position() - 1);
      generated.push_back(step->token());
      const int32_t tok[1] = {step->token()};
      engine->forward(tok, ForwardRequest{});
    }
    const auto* end = reader.record(span.end_record).turn_end();
    REQUIRE(end);
    if (turn == 0) {
      CHECK(span.step_count == 0);
    } else {
      CHECK(span.step_count > 0);
      note_generated(t, state, is_stop_token(t, generated.back()));
    }
    // The turn-end checkpoint holds the KV state after the whole turn.
    const auto* cp = reader.record(span.end_record + 1).checkpoint();
    REQUIRE(cp);
    CHECK(cp->label()->str() == kTurnEndCheckpoint);
    CHECK(cp->position() == engine->position());
    CHECK(cp->kv_hash() == engine->kv_state_hash());
  }
}

TEST_CASE("agent: identical records and receipt for threads 1/2/3 and prefill chunks 1/7/whole") {
  Fixture& f = fixture();
  Script greedy = script_of("You answer in one line.", {"Tell me about the weather today", "Why?"});
  Script sampled = greedy;
  sampled.sampling.temperature = 0.9f;
  sampled.sampling.top_p = 0.95f;
  sampled.sampling.seed = 42;
  Script probed = greedy;
  probed.probes = true;
  for (const Script* script : {&greedy, &sampled, &probed}) {
    const Recording ref = record(f.model, f.dir / "ref.fb", *script, 1, 0);
    const auto ref_records = bound_records(ref.path);
    for (int threads : {1, 2, 3}) {
      for (int64_t chunk : {1, 7, 0}) {
        const Recording other = record(f.model, f.dir / "other.fb", *script, threads, chunk);
        INFO("threads " << threads << ", prefill chunk " << chunk);
        CHECK(other.finished.receipt == ref.finished.receipt);
        const auto records = bound_records(other.path);
        REQUIRE(records.size() == ref_records.size());
        for (size_t i = 0; i < records.size(); ++i) {
          CHECK(records[i].size() == ref_records[i].size());
          CHECK(std::memcmp(records[i].data(), ref_records[i].data(), records[i].size()) == 0);
        }
        // The environment is recorded but not bound.
        trace::SessionReader reader(other.path);
        CHECK(reader.header_frame().run()->threads() == threads);
        CHECK(reader.header_frame().run()->prefill_chunk() == chunk);
      }
    }
  }
}

TEST_CASE("agent: seeded sampling is reproducible, and the seed matters") {
  Fixture& f = fixture();
  Script s = script_of("", {"Once upon a time"});
  s.max_tokens = 24;
  s.sampling.temperature = 1.0f;
  s.sampling.seed = 1;
  const Recording a = record(f.model, f.dir / "a.fb", s, 2, 0);
  const Recording b = record(f.model, f.dir / "b.fb", s, 1, 5);
  CHECK(a.finished.receipt == b.finished.receipt);
  CHECK(step_tokens(a.path) == step_tokens(b.path));
  s.sampling.seed = 2;
  const Recording c = record(f.model, f.dir / "c.fb", s, 2, 0);
  CHECK(c.finished.receipt != a.finished.receipt);
  CHECK(step_tokens(c.path) != step_tokens(a.path));
  // Greedy is not sampling: its tokens differ from the sampled ones too.
  s.sampling.temperature = 0.0f;
  const Recording g = record(f.model, f.dir / "g.fb", s, 2, 0);
  CHECK(step_tokens(g.path) != step_tokens(a.path));
}

TEST_CASE("agent: an interruption mid-turn ends the turn and leaves a valid session") {
  Fixture& f = fixture();
  std::atomic<bool> interrupt{false};
  AgentObserver observer;
  observer.on_step = [&](const Step& s, const std::string&) {
    if (s.index == 4) interrupt.store(true);  // as if Ctrl-C came while step 4 was computed
  };
  Script s = script_of("", {"Count to twenty", "never asked"});
  s.max_tokens = 50;
  const Recording r = record(f.model, f.dir / "int.fb", s, 1, 0, &interrupt, observer);
  REQUIRE(r.exchanges.size() == 1);
  CHECK(r.exchanges[0].stop == StopReason::Interrupted);
  CHECK(r.exchanges[0].steps == 5);
  trace::SessionReader reader(r.path);
  CHECK(reader.report().status == trace::SessionStatus::Valid);
  REQUIRE(reader.turns().size() == 1);
  CHECK(reader.turns()[0].step_count == 5);
  CHECK(reader.record(reader.turns()[0].end_record).turn_end()->stop_reason() == schema::StopReason::Interrupted);
}

TEST_CASE("agent: checkpoints on demand carry the label, the JSON data and the KV state") {
  Fixture& f = fixture();
  EngineOptions eo;
  eo.context = 256;
  auto engine = make_engine(f.model, eo);
  AgentOptions ao;
  ao.settings.max_tokens = 6;
  ToolBox tools(ToolConfig{});
  trace::WriterOptions wo;
  wo.existing = trace::ExistingFile::Overwrite;
  const auto path = f.dir / "cp.fb";
  {
    trace::SessionWriter writer(path, make_session_header(f.model, *engine, ao.settings), wo);
    Agent agent(f.model, *engine, tools, ao, &writer);
    agent.ask("hello");
    agent.checkpoint("after-hello", R"({"note": "first", "n": 1})");
    CHECK_THROWS_AS(agent.checkpoint("bad", "{not json"), Error);
    agent.finish();
  }
  trace::SessionReader reader(path);
  REQUIRE(reader.report().status == trace::SessionStatus::Valid);
  const schema::Checkpoint* found = nullptr;
  for (size_t i = 0; i < reader.size(); ++i)
    if (const auto* c = reader.record(i).checkpoint(); c && c->label()->str() == "after-hello") found = c;
  REQUIRE(found);
  CHECK(nlohmann::json::parse(found->data()->str()) == nlohmann::json{{"note", "first"}, {"n", 1}});
  CHECK(found->position() == engine->position());
  CHECK(found->kv_hash() == engine->kv_state_hash());
}
