// Versioning (docs/session-format.md, "Versioning") and the reader's own
// order checks, on files whose chain and seal are correct so that nothing
// but the rule under test can make them fail.
#include <doctest/doctest.h>

#include <algorithm>

#include "testing.h"
#include "trace/json.h"
#include "trace/reader.h"
#include "trace/synthetic.h"

using namespace ree::trace;
using ree::trace::testing::RawSession;

namespace {

std::vector<uint64_t> counts_for(std::initializer_list<std::pair<schema::RecordBody, uint64_t>> entries,
                                 size_t size = kKnownRecordKinds + 1) {
  std::vector<uint64_t> counts(size, 0);
  for (auto [kind, n] : entries) counts[static_cast<size_t>(kind)] = n;
  return counts;
}

// A header frame of some future major version: only fields 0 and 1 are
// promised to keep their meaning; field 2 here is a string, not bytes.
std::vector<uint8_t> future_major_header(uint16_t major, uint16_t minor) {
  flatbuffers::FlatBufferBuilder fbb;
  auto text = fbb.CreateString("a layout this ree has never seen");
  auto start = fbb.StartTable();
  fbb.AddOffset(8, text);
  fbb.AddElement<uint16_t>(6, minor, 0);
  fbb.AddElement<uint16_t>(4, major, 0);
  fbb.FinishSizePrefixed(flatbuffers::Offset<flatbuffers::Table>(fbb.EndTable(start)), kHeaderIdentifier);
  return {fbb.GetBufferPointer(), fbb.GetBufferPointer() + fbb.GetSize()};
}

SessionReader read(const std::vector<uint8_t>& bytes) { return SessionReader(std::span<const uint8_t>(bytes)); }

}  // namespace

TEST_CASE("a newer major version is refused with a clear message") {
  std::vector<uint8_t> bytes = future_major_header(2, 0);
  bytes.resize(bytes.size() + 64, 0xab);  // whatever a 2.x file holds after its header
  SessionReader session = read(bytes);
  CHECK(session.report().status == SessionStatus::Unsupported);
  CHECK(session.report().message == "session format version 2.0 is newer than this ree supports (1.1); upgrade ree");
  CHECK(session.report().exit_code() == 2);
  CHECK(!session.has_header());
  CHECK(session.size() == 0);
  CHECK(read(future_major_header(0, 9)).report().status == SessionStatus::Invalid);
}

TEST_CASE("an older minor version (1.0, no step text) is read") {
  ree::trace::testing::ScratchDir dir;
  SyntheticShape shape;
  WriterOptions options;
  options.format_minor = 0;
  FinishedSession done = write_synthetic_session(dir / "old.ree", shape, 4, options);
  SessionReader session(dir / "old.ree");
  INFO(session.report().message);
  REQUIRE(session.report().status == SessionStatus::Valid);
  CHECK(session.report().format_minor == 0);
  CHECK(session.report().notes.empty());
  const schema::Step* step = session.record(session.steps()[0]).step();
  REQUIRE(step != nullptr);
  CHECK(step->piece() == nullptr);
  // Without a recorded piece the token shows as its id, not as empty text.
  CHECK(session.step_text(*step) == "<" + std::to_string(step->token()) + ">");
  // The same content written as 1.1 differs only in the step text.
  FinishedSession current = write_synthetic_session(dir / "new.ree", shape, 4);
  CHECK(current.receipt != done.receipt);
  SessionReader now(dir / "new.ree");
  CHECK(now.step_text(*now.record(now.steps()[0]).step()) == synthetic_step(shape, 0, 0).piece);
}

TEST_CASE("a newer minor version is read; unknown kinds and fields are chained, not interpreted") {
  SyntheticShape shape;
  RawSession raw(synthetic_header(shape), kFormatMinor + 1);
  raw.add(synthetic_turn_start(shape, 0));

  // A step with a field this ree does not know (id 10).
  schema::StepT known = synthetic_step(shape, 0, 0);
  {
    flatbuffers::FlatBufferBuilder fbb;
    auto ids = fbb.CreateVector(known.topk_ids);
    auto logits = fbb.CreateVector(known.topk_logits);
    auto piece = fbb.CreateString(known.piece);
    schema::StepBuilder b(fbb);
    b.add_logits_hash(known.logits_hash);
    b.add_position(known.position);
    b.add_token(known.token);
    b.add_topk_ids(ids);
    b.add_topk_logits(logits);
    b.add_margin(known.margin);
    b.add_piece(piece);
    b.fbb_.AddElement<uint32_t>(4 + 2 * 10, 12345, 0);  // the future field
    auto step = b.Finish();
    fbb.Finish(schema::CreateBoundRecord(fbb, 1, schema::RecordBody::Step, step.Union()));
    raw.add_bound({fbb.GetBufferPointer(), fbb.GetSize()});
  }
  // A record kind from the future (42), with a table body.
  {
    flatbuffers::FlatBufferBuilder fbb;
    auto text = fbb.CreateString("future");
    auto start = fbb.StartTable();
    fbb.AddOffset(4, text);
    flatbuffers::Offset<void> body(fbb.EndTable(start));
    fbb.Finish(schema::CreateBoundRecord(fbb, 1, static_cast<schema::RecordBody>(42), body));
    raw.add_bound({fbb.GetBufferPointer(), fbb.GetSize()});
  }
  // Known kinds with a newer per-record version: not interpreted either, but
  // a step still counts as a step of its turn.
  schema::StepT v2_step = synthetic_step(shape, 0, 1);
  raw.add(v2_step, kRecordVersion + 1);
  schema::CheckpointT checkpoint;
  checkpoint.label = "v2 checkpoint";
  raw.add(checkpoint, kRecordVersion + 1);
  schema::TurnEndT end;
  end.steps = 2;
  raw.add(end);
  auto counts = counts_for({{schema::RecordBody::TurnStart, 1},
                            {schema::RecordBody::Step, 2},
                            {schema::RecordBody::TurnEnd, 1},
                            {schema::RecordBody::Checkpoint, 1}},
                           43);
  counts[42] = 1;
  std::vector<uint8_t> bytes = raw.finish(counts);

  SessionReader session = read(bytes);
  INFO(session.report().message);
  REQUIRE(session.report().status == SessionStatus::Valid);
  CHECK(session.report().unknown_records == 3);
  CHECK(session.report().notes.size() == 2);  // newer format; uninterpreted records
  REQUIRE(session.size() == 7);
  CHECK(session.record(1).step()->token() == known.token);
  CHECK(!session.record(2).known());
  CHECK(session.record(2).step() == nullptr);
  CHECK(!session.record(3).known());
  CHECK(session.record(3).step() == nullptr);
  CHECK(!session.record(4).known());
  CHECK(session.record(4).checkpoint() == nullptr);
  // steps() lists only the readable step; the turn still ends where it does.
  REQUIRE(session.steps().size() == 1);
  REQUIRE(session.turns().size() == 1);
  CHECK(session.turns()[0].step_count == 1);
  CHECK(session.turns()[0].end_record == 5);
  CHECK(record_to_json(session, session.record(2))["kind"] == "unknown");
  CHECK(report_to_json(session.report())["counts"]["kind_42"] == 1);

  // The chain covers the unknown record: altering its bound bytes is caught.
  std::vector<uint8_t> tampered = bytes;
  size_t at = session.record(2).offset() + 4;
  auto future_text = std::string("future");
  auto it = std::search(tampered.begin() + static_cast<long>(at), tampered.end(), future_text.begin(), future_text.end());
  REQUIRE(it != tampered.end());
  *it = 'F';
  CHECK(read(tampered).report().status == SessionStatus::Invalid);
}

TEST_CASE("the reader enforces the order rules even when the chain is intact") {
  SyntheticShape shape;
  auto header = synthetic_header(shape);
  auto expect_invalid = [&](const char* what, auto build, const char* fragment) {
    RawSession raw(header);
    std::vector<uint64_t> counts = build(raw);
    SessionReader session = read(raw.finish(counts));
    INFO(what << ": " << session.report().message);
    CHECK(session.report().status == SessionStatus::Invalid);
    CHECK(session.report().message.find(fragment) != std::string::npos);
  };
  expect_invalid("step before turn start", [&](RawSession& raw) {
    raw.add(synthetic_step(shape, 0, 0));
    return counts_for({{schema::RecordBody::Step, 1}});
  }, "step outside a turn");
  expect_invalid("step index skips", [&](RawSession& raw) {
    raw.add(synthetic_turn_start(shape, 0));
    raw.add(synthetic_step(shape, 0, 1));
    return counts_for({});
  }, "step index 1, expected 0");
  expect_invalid("turn numbers skip", [&](RawSession& raw) {
    raw.add(synthetic_turn_start(shape, 1));
    return counts_for({});
  }, "expected 0");
  expect_invalid("end inside a turn", [&](RawSession& raw) {
    raw.add(synthetic_turn_start(shape, 0));
    return counts_for({{schema::RecordBody::TurnStart, 1}});
  }, "end record while turn 0 is open");
  expect_invalid("counts mismatch", [&](RawSession& raw) {
    schema::CheckpointT c;
    raw.add(c);
    return counts_for({{schema::RecordBody::Checkpoint, 2}});
  }, "end record counts 2 checkpoint");
  expect_invalid("result without call", [&](RawSession& raw) {
    schema::ToolResultT r;
    raw.add(r);
    return counts_for({{schema::RecordBody::ToolResult, 1}});
  }, "never made");
  expect_invalid("unknown enum value", [&](RawSession& raw) {
    schema::TurnStartT t = synthetic_turn_start(shape, 0);
    t.role = static_cast<schema::Role>(77);
    raw.add(t);
    return counts_for({});
  }, "unknown role");
  expect_invalid("top-k width", [&](RawSession& raw) {
    raw.add(synthetic_turn_start(shape, 0));
    schema::StepT s = synthetic_step(shape, 0, 0);
    s.topk_logits.pop_back();
    raw.add(s);
    return counts_for({});
  }, "top-k");

  // And the same builder, with a correct order, gives a valid file.
  RawSession raw(header);
  raw.add(synthetic_turn_start(shape, 0));
  raw.add(synthetic_step(shape, 0, 0));
  schema::TurnEndT end;
  end.steps = 1;
  raw.add(end);
  auto ok = read(raw.finish(counts_for({{schema::RecordBody::TurnStart, 1},
                                        {schema::RecordBody::Step, 1},
                                        {schema::RecordBody::TurnEnd, 1}})));
  CHECK(ok.report().status == SessionStatus::Valid);
}
