#pragma once
// SessionWriter: records a session as it happens (docs/session-format.md).
//
//   trace::SessionHeader header;            // fill header.bound / .run / .environment
//   trace::SessionWriter writer(path, header);
//   writer.begin_turn(turn_start);          // returns the turn index
//   writer.step(step);                      // one per generated token
//   writer.end_turn(turn_end);
//   auto done = writer.finish();            // End record + seal; done.receipt
//
// Crash safety: the header reaches the final path complete or not at all
// (written to a temporary name, synced, then linked/renamed into place); every
// record after it is one appended frame. Buffered bytes are handed to the OS
// when 64 KiB are waiting, when the oldest waiting byte is 50 ms old (checked
// as each record arrives), and always right after turn_end, tool_call,
// tool_result and checkpoint records — the points after which a recorder may
// wait for a long time. fdatasync runs at every turn end (on the caller's
// thread) and at least every second while records arrive (on a helper
// thread, so that a slow disk never stalls decoding). A process killed at any moment leaves a file
// whose every complete frame is readable; the reader reports it "truncated".
//
// The writer fills the fields it can count itself (turn, index, steps) and
// checks the order rules of order.h; a record out of order is a bug in the
// caller and throws std::logic_error before anything is written.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>

#include "trace/keys.h"
#include "trace/receipt.h"
#include "trace/schema.h"

namespace ree::trace {

// What the caller knows before the first record. bound.model, bound.config
// and bound.config->sampling must be set; contract_version defaults to
// REE_CONTRACT_VERSION when empty; environment.ree_version/git_revision and
// start_time_unix_ms are filled from the build and the clock when empty/0.
struct SessionHeader {
  schema::BoundHeaderT bound;
  schema::RunSettingsT run;
  schema::EnvironmentT environment;
};

// When buffered bytes go to the OS and to the disk (see the file comment).
// The defaults keep recording under 1% of decode time (docs/benchmarks.md)
// while bounding what a crash can lose to 50 ms of records.
struct FlushPolicy {
  size_t max_buffered_bytes = 64 * 1024;
  std::chrono::milliseconds max_buffer_age{50};
  std::chrono::milliseconds sync_interval{1000};
};

enum class ExistingFile : uint8_t { Refuse, Overwrite };

struct WriterOptions {
  ExistingFile existing = ExistingFile::Refuse;
  std::optional<SecretKey> signing_key;  // sign the seal with this key
  FlushPolicy flush;
  // Only for tests that construct files of an older minor version: fields
  // introduced after it (Step.piece for 0) are dropped. Must be <= kFormatMinor.
  uint16_t format_minor = kFormatMinor;
};

// What finish() wrote.
struct FinishedSession {
  Digest receipt{};        // the final receipt chain digest
  Digest envelope_hash{};
  bool signed_seal = false;
  uint64_t records = 0;    // after the header, End included
  uint64_t bytes = 0;      // file size
};

class SessionWriter {
 public:
  // Creates `path` and writes the header. Throws ree::Error when the file
  // exists (unless options.existing == Overwrite) or cannot be written, and
  // std::invalid_argument when the header lacks model/config/sampling.
  SessionWriter(const std::filesystem::path& path, const SessionHeader& header,
                const WriterOptions& options = {});
  // Hands buffered records to the OS. Without finish() the file has no End
  // record and reads as truncated: exactly what an interrupted recording is.
  ~SessionWriter();
  SessionWriter(SessionWriter&&) noexcept;
  SessionWriter& operator=(SessionWriter&&) noexcept;

  // Each call writes one record. Fields marked "set by the writer" are
  // ignored in the argument and filled from the writer's count.
  uint32_t begin_turn(const schema::TurnStartT& turn);       // .turn set by the writer
  void step(const schema::StepT& step);                      // .turn, .index set by the writer
  void end_turn(const schema::TurnEndT& end);                // .turn, .steps set by the writer
  uint32_t tool_call(const schema::ToolCallT& call);         // .index set by the writer
  void tool_result(const schema::ToolResultT& result, std::chrono::microseconds duration);
  void checkpoint(const schema::CheckpointT& checkpoint);

  // Ends an open turn as Interrupted, writes the End record with its seal,
  // syncs and closes. No record may follow.
  FinishedSession finish();

  void flush();  // hand buffered bytes to the OS now
  void sync();   // flush, then fdatasync

  bool turn_open() const;
  uint32_t turns() const;                // turns begun
  uint64_t records() const;              // records written after the header
  uint64_t records_flushed() const;      // of those, handed to the OS (survive a kill -9)
  const Digest& receipt_so_far() const;  // chain digest over the header and records so far
  const std::filesystem::path& path() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace ree::trace
