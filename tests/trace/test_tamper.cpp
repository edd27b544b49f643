// Tamper evidence: any single changed byte of a finished session is
// detected (invalid, truncated, or - for the version field - a claimed newer
// format), never reported valid; so is any truncation. The library is called
// directly on bytes in memory, thousands of times.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <random>

#include "testing.h"
#include "trace/chain_pipeline.h"
#include "trace/reader.h"
#include "trace/synthetic.h"

using namespace ree::trace;

namespace {

// File bytes in 8-aligned storage, as a mapping would give them.
struct AlignedBytes {
  std::vector<uint64_t> words;
  size_t size = 0;
  explicit AlignedBytes(const std::vector<uint8_t>& bytes) : words((bytes.size() + 7) / 8), size(bytes.size()) {
    std::memcpy(words.data(), bytes.data(), bytes.size());
  }
  uint8_t* data() { return reinterpret_cast<uint8_t*>(words.data()); }
  std::span<const uint8_t> span(size_t n) { return {data(), n}; }
};

std::vector<uint8_t> finished_session(const testing::ScratchDir& dir, bool signed_seal, bool probes) {
  SyntheticShape shape;
  shape.probes = probes;
  shape.layers = 4;
  WriterOptions options;
  if (signed_seal) options.signing_key = generate_key_pair().secret;
  std::filesystem::path path = dir / (signed_seal ? "signed.ree" : "plain.ree");
  write_synthetic_session(path, shape, 60, options);
  return testing::read_bytes(path);
}

// Flips bytes at the given positions one at a time; returns how often each
// status came back. Each flip XORs a nonzero value, so the byte changes.
std::map<SessionStatus, int> flip_each(AlignedBytes& file, const std::vector<size_t>& positions, std::mt19937_64& rng) {
  std::map<SessionStatus, int> seen;
  for (size_t pos : positions) {
    uint8_t original = file.data()[pos];
    uint8_t mask = static_cast<uint8_t>(1 + rng() % 255);
    file.data()[pos] = original ^ mask;
    SessionReader session(file.span(file.size));
    SessionStatus status = session.report().status;
    ++seen[status];
    if (status == SessionStatus::Valid) {
      FAIL_CHECK("flip at offset " << pos << " (xor " << int(mask) << ") went undetected");
    }
    file.data()[pos] = original;
  }
  return seen;
}

}  // namespace

TEST_CASE("every single-byte change of a finished session is detected") {
  testing::ScratchDir dir;
  std::mt19937_64 rng(0x7a3e7);  // fixed: the same positions every run
  for (bool signed_seal : {false, true}) {
    std::vector<uint8_t> bytes = finished_session(dir, signed_seal, /*probes=*/signed_seal);
    AlignedBytes file(bytes);
    REQUIRE(SessionReader(file.span(file.size)).report().status == SessionStatus::Valid);

    // Every byte of the header frame and of the End frame (where the seal
    // is), plus random positions everywhere.
    SessionReader intact(file.span(file.size));
    size_t header_end = static_cast<size_t>(intact.record(0).offset());
    size_t end_start = static_cast<size_t>(intact.record(intact.size() - 1).offset());
    std::vector<size_t> positions;
    for (size_t i = 0; i < header_end; ++i) positions.push_back(i);
    for (size_t i = end_start; i < file.size; ++i) positions.push_back(i);
    for (int i = 0; i < 2000; ++i) positions.push_back(static_cast<size_t>(rng() % file.size));

    auto seen = flip_each(file, positions, rng);
    MESSAGE(std::string(signed_seal ? "signed" : "unsigned") << " session of " << file.size << " bytes: " << positions.size()
            << " flips: " << seen[SessionStatus::Invalid] << " invalid, " << seen[SessionStatus::Truncated]
            << " truncated, " << seen[SessionStatus::Unsupported] << " claimed a newer version");
    CHECK(seen[SessionStatus::Valid] == 0);
    CHECK(positions.size() >= 2000);
  }
}

TEST_CASE("every truncation of a finished session is detected") {
  testing::ScratchDir dir;
  std::vector<uint8_t> bytes = finished_session(dir, false, false);
  AlignedBytes file(bytes);
  SessionReader intact(file.span(file.size));
  REQUIRE(intact.report().status == SessionStatus::Valid);
  size_t header_end = static_cast<size_t>(intact.record(0).offset());

  std::vector<size_t> frame_starts;
  for (size_t i = 0; i < intact.size(); ++i) frame_starts.push_back(static_cast<size_t>(intact.record(i).offset()));
  // Cutting at a frame boundary leaves that many complete records.
  for (size_t i = 0; i < frame_starts.size(); ++i) {
    SessionReader cut(file.span(frame_starts[i]));
    INFO("cut at frame " << i << ": " << cut.report().message);
    CHECK(cut.report().status == SessionStatus::Truncated);
    CHECK(cut.size() == i);
    CHECK(cut.report().good_bytes == frame_starts[i]);
  }
  // Cutting anywhere else: never valid; after the header, always truncated.
  std::mt19937_64 rng(11);
  for (int i = 0; i < 300; ++i) {
    size_t length = static_cast<size_t>(rng() % file.size);
    SessionStatus status = SessionReader(file.span(length)).report().status;
    CHECK(status != SessionStatus::Valid);
    if (length >= header_end) CHECK(status == SessionStatus::Truncated);
  }
  // Extra bytes after the End record are not silently accepted either.
  std::vector<uint8_t> longer = bytes;
  longer.resize(bytes.size() + 8, 0);
  AlignedBytes extended(longer);
  CHECK(SessionReader(extended.span(extended.size)).report().status == SessionStatus::Invalid);
}

TEST_CASE("large files (receipt chain on a helper thread) verify and catch changes the same way") {
  testing::ScratchDir dir;
  SyntheticShape shape;
  std::filesystem::path path = dir / "big.fb";
  FinishedSession done;
  {
    SessionWriter writer(path, synthetic_header(shape));
    // Enough steps that the file passes ChainPipeline::kThreadedFileBytes.
    for (uint32_t turn = 0; turn < 5; ++turn) {
      writer.begin_turn(synthetic_turn_start(shape, turn));
      for (uint32_t i = 0; i < 9000; ++i) writer.step(synthetic_step(shape, turn, i));
      schema::TurnEndT end;
      writer.end_turn(end);
    }
    done = writer.finish();
  }
  std::vector<uint8_t> bytes = testing::read_bytes(path);
  REQUIRE(bytes.size() >= ChainPipeline::kThreadedFileBytes);
  AlignedBytes file(bytes);
  SessionReader intact(file.span(file.size));
  REQUIRE(intact.report().status == SessionStatus::Valid);
  CHECK(intact.report().receipt == done.receipt);
  CHECK(intact.steps().size() == 45000);

  // One changed byte inside a step's bound bytes (the chain catches it), one
  // in its volatile t_us (only the envelope hash covers that).
  const RecordView step = intact.record(intact.steps()[30000]);
  size_t bound_at = static_cast<size_t>(step.bound_bytes().data() - file.data()) + step.bound_bytes().size() / 2;
  uint64_t t_us = step.t_us();
  REQUIRE(t_us != 0);
  const uint8_t* frame_start = file.data() + step.offset();
  const uint8_t* t_us_at = std::search(frame_start, step.bound_bytes().data(), reinterpret_cast<const uint8_t*>(&t_us),
                                       reinterpret_cast<const uint8_t*>(&t_us) + sizeof(t_us));
  REQUIRE(t_us_at != step.bound_bytes().data());
  size_t envelope_at = static_cast<size_t>(t_us_at - file.data());
  for (size_t pos : {bound_at, envelope_at}) {
    file.data()[pos] ^= 0x10;
    SessionReader changed(file.span(file.size));
    INFO("offset " << pos << ": " << changed.report().message);
    CHECK(changed.report().status == SessionStatus::Invalid);
    CHECK(changed.report().message.find(pos == bound_at ? "receipt chain mismatch" : "envelope hash mismatch") !=
          std::string::npos);
    file.data()[pos] ^= 0x10;
  }
  // A cut large file reports the chain over what is left, computed the same way.
  SessionReader cut(file.span(static_cast<size_t>(intact.record(40000).offset())));
  CHECK(cut.report().status == SessionStatus::Truncated);
  CHECK(cut.size() == 40000);
}

TEST_CASE("the receipt chain is the same hashed inline or on a helper thread") {
  std::vector<uint8_t> data(100000);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(i * 131 + 7);
  std::span<const uint8_t> header(data.data(), 40);
  ChainPipeline inline_chain(header, false);
  ChainPipeline threaded_chain(header, true);
  ReceiptChain reference(header);
  for (size_t at = 40, n = 1; at + n < data.size(); at += n, n = n % 300 + 1) {
    std::span<const uint8_t> bound(data.data() + at, n);
    inline_chain.append(bound);
    threaded_chain.append(bound);
    reference.append(bound);
  }
  CHECK(inline_chain.finish() == reference.digest());
  CHECK(threaded_chain.finish() == reference.digest());
  CHECK(threaded_chain.finish() == reference.digest());  // idempotent
}
