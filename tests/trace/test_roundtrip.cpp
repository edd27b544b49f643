// Round trip of every record kind through SessionWriter and SessionReader;
// what the receipt binds and what it leaves out; signatures; refusal to
// overwrite; order rules enforced on write.
#include <doctest/doctest.h>

#include <cstring>
#include <stdexcept>

#include "runtime/error.h"
#include "testing.h"
#include "trace/json.h"
#include "trace/reader.h"
#include "trace/synthetic.h"
#include "trace/writer.h"

using namespace ree::trace;
using ree::trace::testing::ScratchDir;

namespace {

// One of every record kind, with values chosen to exercise every field.
struct AllRecords {
  schema::TurnStartT turn_start;
  std::vector<schema::StepT> steps;
  schema::TurnEndT turn_end;
  schema::ToolCallT tool_call;
  schema::ToolResultT tool_result;
  schema::CheckpointT checkpoint;
};

AllRecords make_records(const SyntheticShape& shape) {
  AllRecords r;
  r.turn_start.role = schema::Role::User;
  r.turn_start.content = "What is 6*7? \xe2\x9c\x93 (utf-8)";
  r.turn_start.prompt_tokens = {1, 529, 29989, 1792, 29989, 29958};
  for (uint32_t i = 0; i < 3; ++i) r.steps.push_back(synthetic_step(shape, 0, i));
  r.steps[1].piece = "";  // an empty piece is a legitimate token text
  r.steps[2].margin = std::numeric_limits<float>::infinity();
  r.turn_end.stop_reason = schema::StopReason::ToolCall;
  r.turn_end.text = "the answer";
  r.tool_call.name = "calc";
  r.tool_call.arguments = R"({"x": 1})";
  r.tool_call.raw_text = "<tool>calc {\"x\": 1}</tool>";
  r.tool_call.well_formed = false;
  r.tool_call.parse_error = "unexpected token at 3";
  r.tool_result.call_index = 0;
  r.tool_result.name = "calc";
  r.tool_result.output = std::string("bin\0ary", 7);
  r.tool_result.status = schema::ToolStatus::Timeout;
  r.tool_result.exit_code = -9;
  r.checkpoint.label = "cp";
  r.checkpoint.data = R"({"a": [1, 2]})";
  r.checkpoint.kv_hash = 0xfedcba9876543210ull;
  r.checkpoint.position = 77;
  return r;
}

FinishedSession write_records(const std::filesystem::path& path, const SessionHeader& header,
                              const AllRecords& r, const WriterOptions& options = {}) {
  SessionWriter writer(path, header, options);
  CHECK(writer.begin_turn(r.turn_start) == 0);
  for (const auto& s : r.steps) writer.step(s);
  writer.end_turn(r.turn_end);
  CHECK(writer.tool_call(r.tool_call) == 0);
  writer.tool_result(r.tool_result, std::chrono::microseconds(4321));
  writer.checkpoint(r.checkpoint);
  return writer.finish();
}

template <typename T>
T unpack_as(const RecordView& view) {
  auto bound = view.unpack();
  schema::RecordBody expected = schema::RecordBodyUnionTraits<T>::enum_value;
  REQUIRE(bound->body.type == expected);
  return *static_cast<const T*>(bound->body.value);
}

}  // namespace

TEST_CASE("every record kind reads back exactly as written") {
  ScratchDir dir;
  SyntheticShape shape;
  shape.probes = true;
  shape.layers = 3;
  SessionHeader header = synthetic_header(shape);
  header.environment.hostname = "host-1";
  AllRecords r = make_records(shape);
  FinishedSession done = write_records(dir / "s.ree", header, r);

  SessionReader session(dir / "s.ree");
  const VerifyReport& report = session.report();
  INFO(report.message);
  REQUIRE(report.status == SessionStatus::Valid);
  CHECK(report.receipt == done.receipt);
  CHECK(report.chain == done.receipt);
  CHECK(report.signature == SignatureStatus::Unsigned);
  CHECK(report.file_bytes == done.bytes);
  REQUIRE(session.size() == 9);  // turn_start, 3 steps, turn_end, call, result, checkpoint, end
  CHECK(done.records == 9);

  // Header: bound and volatile parts as given (plus what the writer fills).
  std::unique_ptr<schema::BoundHeaderT> bound(session.header().UnPack());
  SessionHeader expected = header;
  expected.bound.contract_version = "repro-v1";
  CHECK(*bound == expected.bound);
  std::unique_ptr<schema::RunSettingsT> run(session.header_frame().run()->UnPack());
  CHECK(*run == header.run);
  std::unique_ptr<schema::EnvironmentT> env(session.header_frame().environment()->UnPack());
  CHECK(env->hostname == "host-1");
  CHECK(env->start_time_unix_ms > 0);
  CHECK(!env->ree_version.empty());
  CHECK(session.header_frame().format_major() == kFormatMajor);
  CHECK(session.header_frame().format_minor() == kFormatMinor);

  // Records, with the fields the writer sets filled in.
  schema::TurnStartT ts = r.turn_start;
  CHECK(unpack_as<schema::TurnStartT>(session.record(0)) == ts);
  for (uint32_t i = 0; i < 3; ++i) {
    schema::StepT s = r.steps[i];
    s.turn = 0;
    s.index = i;
    CHECK(unpack_as<schema::StepT>(session.record(1 + i)) == s);
  }
  schema::TurnEndT te = r.turn_end;
  te.steps = 3;
  CHECK(unpack_as<schema::TurnEndT>(session.record(4)) == te);
  CHECK(unpack_as<schema::ToolCallT>(session.record(5)) == r.tool_call);
  CHECK(unpack_as<schema::ToolResultT>(session.record(6)) == r.tool_result);
  CHECK(session.record(6).duration_us() == 4321);
  CHECK(unpack_as<schema::CheckpointT>(session.record(7)) == r.checkpoint);
  const schema::End* end = session.record(8).end();
  REQUIRE(end != nullptr);
  CHECK(end->counts()->Get(static_cast<uint32_t>(schema::RecordBody::Step)) == 3);
  CHECK(end->counts()->Get(static_cast<uint32_t>(schema::RecordBody::End)) == 0);

  // Navigation tables.
  REQUIRE(session.steps().size() == 3);
  CHECK(session.steps()[0] == 1);
  REQUIRE(session.turns().size() == 1);
  CHECK(session.turns()[0].end_record == 4);
  CHECK(session.turns()[0].step_count == 3);
  CHECK(session.step_text(*session.record(1).step()) == r.steps[0].piece);

  // Volatile timestamps never decrease.
  for (size_t i = 1; i + 1 < session.size(); ++i) CHECK(session.record(i).t_us() >= session.record(i - 1).t_us());

  // The JSON view carries the same content.
  auto j = record_to_json(session, session.record(6));
  CHECK(j["kind"] == "tool_result");
  CHECK(j["body"]["status"] == "timeout");
  CHECK(j["body"]["output"].get<std::string>() == r.tool_result.output);
  CHECK(record_to_json(session, session.record(3))["body"]["margin"] == "inf");
  CHECK(header_to_json(session)["config"]["probes"] == true);
}

TEST_CASE("the receipt binds content, not the machine or the timing") {
  ScratchDir dir;
  SyntheticShape shape;
  AllRecords r = make_records(shape);
  SessionHeader a = synthetic_header(shape);
  FinishedSession first = write_records(dir / "a.ree", a, r);

  // Same session, other machine: every volatile header field differs.
  SessionHeader b = synthetic_header(shape);
  b.run.device = "cuda:0";
  b.run.threads = 64;
  b.run.prefill_chunk = 7;
  b.environment.cpu_model = "other";
  b.environment.simd_path = "scalar";
  b.environment.gpu_name = "NVIDIA H100";
  b.environment.git_revision = "0123456789ab";
  b.environment.start_time_unix_ms = 12345;
  FinishedSession second = write_records(dir / "b.ree", b, r);
  CHECK(first.receipt == second.receipt);
  CHECK(first.envelope_hash != second.envelope_hash);

  // Tool durations are volatile too.
  {
    SessionWriter w(dir / "c.ree", a);
    w.begin_turn(r.turn_start);
    w.end_turn(r.turn_end);
    w.tool_call(r.tool_call);
    w.tool_result(r.tool_result, std::chrono::microseconds(1));
    auto c1 = w.finish();
    SessionWriter w2(dir / "d.ree", a);
    w2.begin_turn(r.turn_start);
    w2.end_turn(r.turn_end);
    w2.tool_call(r.tool_call);
    w2.tool_result(r.tool_result, std::chrono::microseconds(999999));
    CHECK(w2.finish().receipt == c1.receipt);
  }

  // Anything bound changes it: the seed, a sampling parameter, the model
  // identity, the prompt, one step's logits hash.
  auto differs = [&](const char* name, auto mutate_header, auto mutate_records) {
    SessionHeader h = synthetic_header(shape);
    AllRecords rr = make_records(shape);
    mutate_header(h);
    mutate_records(rr);
    FinishedSession other = write_records(dir / (std::string(name) + ".ree"), h, rr);
    INFO(name);
    CHECK(other.receipt != first.receipt);
  };
  auto same_header = [](SessionHeader&) {};
  auto same_records = [](AllRecords&) {};
  differs("seed", [](SessionHeader& h) { h.bound.config->seed += 1; }, same_records);
  differs("top_p", [](SessionHeader& h) { h.bound.config->sampling->top_p = 0.5f; }, same_records);
  differs("weights", [](SessionHeader& h) { h.bound.model->weights_digest[0] = 'c'; }, same_records);
  differs("contract", [](SessionHeader& h) { h.bound.contract_version = "repro-v2"; }, same_records);
  differs("prompt", same_header, [](AllRecords& rr) { rr.turn_start.prompt_tokens.push_back(5); });
  differs("logits", same_header, [](AllRecords& rr) { rr.steps[2].logits_hash ^= 1; });
  differs("output", same_header, [](AllRecords& rr) { rr.tool_result.output += "!"; });
}

TEST_CASE("signed sessions verify with the signer's key and fail with another") {
  ScratchDir dir;
  KeyPair keys = generate_key_pair();
  write_key_pair(keys, dir / "k", false);
  CHECK(std::filesystem::status(dir / "k").permissions() ==
        (std::filesystem::perms::owner_read | std::filesystem::perms::owner_write));
  CHECK_THROWS_AS(write_key_pair(keys, dir / "k", false), ree::Error);
  SecretKey secret = read_secret_key(dir / "k");
  PublicKey pub = read_public_key(dir / "k.pub");
  CHECK(pub == keys.public_key);
  CHECK(secret.public_key() == pub);

  WriterOptions options;
  options.signing_key = secret;
  SyntheticShape shape;
  FinishedSession done = write_synthetic_session(dir / "s.ree", shape, 5, options);
  CHECK(done.signed_seal);
  // A signature does not change the receipt.
  CHECK(write_synthetic_session(dir / "u.ree", shape, 5).receipt == done.receipt);

  CHECK(verify_session(dir / "s.ree").signature == SignatureStatus::Verified);
  ReadOptions trusted;
  trusted.trusted_key = pub;
  VerifyReport ok = verify_session(dir / "s.ree", trusted);
  CHECK(ok.status == SessionStatus::Valid);
  CHECK(ok.signature == SignatureStatus::Trusted);

  ReadOptions other;
  other.trusted_key = generate_key_pair().public_key;
  VerifyReport wrong = verify_session(dir / "s.ree", other);
  CHECK(wrong.status == SessionStatus::Invalid);
  CHECK(wrong.signature == SignatureStatus::Untrusted);
  // An unsigned file is not valid when a key is required.
  CHECK(verify_session(dir / "u.ree", trusted).status == SessionStatus::Invalid);

  // Key files that are not key files are refused with the path in the message.
  testing::write_bytes(dir / "bad.pub", {'x', 'y'});
  CHECK_THROWS_WITH_AS(read_public_key(dir / "bad.pub"), doctest::Contains("bad.pub"), ree::Error);
  CHECK_THROWS_AS(read_secret_key(dir / "k.pub"), ree::Error);
}

TEST_CASE("the writer never replaces a file unless asked") {
  ScratchDir dir;
  SyntheticShape shape;
  testing::write_bytes(dir / "taken.ree", {1, 2, 3});
  CHECK_THROWS_WITH_AS(SessionWriter(dir / "taken.ree", synthetic_header(shape)),
                       doctest::Contains("already exists"), ree::Error);
  CHECK(testing::read_bytes(dir / "taken.ree") == std::vector<uint8_t>{1, 2, 3});
  WriterOptions overwrite;
  overwrite.existing = ExistingFile::Overwrite;
  write_synthetic_session(dir / "taken.ree", shape, 2, overwrite);
  CHECK(verify_session(dir / "taken.ree").status == SessionStatus::Valid);
  // No temporary header file is left behind.
  size_t entries = 0;
  for ([[maybe_unused]] auto& e : std::filesystem::directory_iterator(dir.path())) ++entries;
  CHECK(entries == 1);
}

TEST_CASE("records out of order are refused before anything is written") {
  ScratchDir dir;
  SyntheticShape shape;
  SessionWriter writer(dir / "s.ree", synthetic_header(shape));
  CHECK_THROWS_AS(writer.step(synthetic_step(shape, 0, 0)), std::logic_error);  // step before turn start
  schema::TurnEndT end;
  CHECK_THROWS_AS(writer.end_turn(end), std::logic_error);
  schema::ToolResultT orphan;
  orphan.name = "x";
  CHECK_THROWS_AS(writer.tool_result(orphan, {}), std::logic_error);
  writer.begin_turn(synthetic_turn_start(shape, 0));
  schema::StepT wrong_width = synthetic_step(shape, 0, 0);
  wrong_width.topk_ids.pop_back();
  CHECK_THROWS_AS(writer.step(wrong_width), std::logic_error);
  schema::StepT s0 = synthetic_step(shape, 0, 0);
  writer.step(s0);
  CHECK_THROWS_AS(writer.step(s0), std::logic_error);  // same position again
  CHECK(writer.records() == 2);
  // finish() closes the open turn as interrupted.
  writer.finish();
  SessionReader session(dir / "s.ree");
  REQUIRE(session.report().status == SessionStatus::Valid);
  REQUIRE(session.size() == 4);
  CHECK(session.record(2).turn_end()->stop_reason() == schema::StopReason::Interrupted);
  CHECK(session.record(2).turn_end()->steps() == 1);
}

TEST_CASE("a writer dropped without finish leaves a readable truncated file") {
  ScratchDir dir;
  SyntheticShape shape;
  {
    SessionWriter writer(dir / "s.ree", synthetic_header(shape));
    writer.begin_turn(synthetic_turn_start(shape, 0));
    for (uint32_t i = 0; i < 10; ++i) writer.step(synthetic_step(shape, 0, i));
  }
  SessionReader session(dir / "s.ree");
  CHECK(session.report().status == SessionStatus::Truncated);
  CHECK(session.report().exit_code() == 3);
  CHECK(session.size() == 11);
  CHECK(session.report().message.find("complete prefix recovered: 11 records, 0 bytes lost") != std::string::npos);
  REQUIRE(session.turns().size() == 1);
  CHECK(session.turns()[0].end_record == SIZE_MAX);
}

TEST_CASE("pieces that are not valid UTF-8 (one byte of a character) serialise to JSON exactly") {
  CHECK(is_valid_utf8("plain"));
  CHECK(is_valid_utf8("\xe2\x9c\x93"));
  CHECK(is_valid_utf8("\xf0\x9f\x98\x80"));
  CHECK(!is_valid_utf8("\xe2\x9c"));          // cut short
  CHECK(!is_valid_utf8("\x84"));              // a continuation byte alone
  CHECK(!is_valid_utf8("\xc0\xaf"));          // overlong
  CHECK(!is_valid_utf8("\xed\xa0\x80"));      // surrogate
  CHECK(!is_valid_utf8("\xf4\x90\x80\x80"));  // past U+10FFFF

  ScratchDir dir;
  SyntheticShape shape;
  SessionWriter writer(dir / "s.fb", synthetic_header(shape));
  writer.begin_turn(synthetic_turn_start(shape, 0));
  schema::StepT step = synthetic_step(shape, 0, 0);
  step.piece = "\xe2\x9c";  // the first two bytes of U+2713, as a byte-fallback token gives them
  writer.step(step);
  writer.finish();
  SessionReader session(dir / "s.fb");
  REQUIRE(session.report().status == SessionStatus::Valid);
  nlohmann::json j = record_to_json(session, session.record(1));
  CHECK(j["body"]["piece_hex"] == "e29c");
  std::string text = dump_json(j);  // nlohmann's own dump() would throw here
  CHECK(text.find("e29c") != std::string::npos);
}
