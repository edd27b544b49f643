#pragma once
// SessionReader: opens a session file, verifies all of it in one pass, and
// gives random access to its records (docs/session-format.md).
//
//   trace::SessionReader session(path);              // never throws for bad content
//   const trace::VerifyReport& report = session.report();
//   if (report.status == trace::SessionStatus::Invalid) ...
//   const schema::BoundHeader& header = session.header();
//   for (size_t i = 0; i < session.size(); ++i) {
//     trace::RecordView r = session.record(i);
//     if (const schema::Step* step = r.step()) ... step->token() ...
//   }
//
// The file is memory-mapped; every frame passes the FlatBuffers verifier
// (depth and table limits, bounds, alignment) before any field is read, so
// no input makes the reader read out of bounds. Records are available for
// the intact prefix: all of them for a valid file, the complete ones for a
// truncated file, the ones before the first bad frame for an invalid file.
// Pointers returned stay valid as long as the reader lives.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "trace/keys.h"
#include "trace/mapped_file.h"
#include "trace/receipt.h"
#include "trace/schema.h"

namespace ree::trace {

enum class SessionStatus : uint8_t {
  Valid,        // complete: End record, chain, envelope and signature check out
  Truncated,    // every frame present is intact, but the file stops early
  Invalid,      // a frame fails verification, the order rules, the chain or the signature
  Unsupported,  // a newer format major version: nothing can be read
};
std::string_view status_name(SessionStatus status);  // "valid", "truncated", ...

enum class SignatureStatus : uint8_t {
  Unsigned,   // the seal carries no signature
  Verified,   // signature checks out against the key in the seal
  Trusted,    // ... and that key is the one the caller trusts
  Untrusted,  // signature checks out, but by another key than the trusted one
  Bad,        // signature does not check out
  NotReached, // no seal (file not valid as far as the seal)
};
std::string_view signature_status_name(SignatureStatus status);

struct VerifyReport {
  SessionStatus status = SessionStatus::Invalid;
  std::string message;        // one line: what is wrong, or a summary when valid
  uint64_t file_bytes = 0;
  uint64_t records = 0;       // records in the intact prefix (End included), header excluded
  uint64_t good_bytes = 0;    // length of the intact prefix
  uint64_t bad_offset = 0;    // Truncated/Invalid: file offset of the first bad or missing frame
  uint16_t format_major = 0;
  uint16_t format_minor = 0;
  std::vector<uint64_t> counts;  // records per RecordBody kind (index = kind) in the prefix
  uint64_t unknown_records = 0;  // kinds or record versions this ree does not interpret
  Digest chain{};                // receipt chain over the intact prefix (== the receipt when valid)
  std::optional<Digest> receipt; // the receipt stored in the seal, when it was reached
  SignatureStatus signature = SignatureStatus::NotReached;
  std::optional<PublicKey> signer;
  std::vector<std::string> notes;  // things worth knowing that do not make the file invalid

  // Exit code of `ree verify`: 0 valid, 1 invalid, 3 truncated, 2 unsupported.
  int exit_code() const;
};

struct ReadOptions {
  // When set, a valid file must also be signed by this key.
  std::optional<PublicKey> trusted_key;
};

// One record of the intact prefix, zero-copy.
class RecordView {
 public:
  RecordView(uint64_t offset, const schema::RecordFrame* frame, const schema::BoundRecord* bound)
      : offset_(offset), frame_(frame), bound_(bound) {}

  uint64_t offset() const { return offset_; }  // file offset of the frame's size prefix
  schema::RecordBody kind() const { return bound_->body_type(); }
  uint16_t version() const { return bound_->version(); }
  // False for kinds or record versions newer than this ree: such records are
  // verified and chained but not interpreted (typed accessors return null).
  bool known() const;

  const schema::TurnStart* turn_start() const { return known() ? bound_->body_as_TurnStart() : nullptr; }
  const schema::Step* step() const { return known() ? bound_->body_as_Step() : nullptr; }
  const schema::TurnEnd* turn_end() const { return known() ? bound_->body_as_TurnEnd() : nullptr; }
  const schema::ToolCall* tool_call() const { return known() ? bound_->body_as_ToolCall() : nullptr; }
  const schema::ToolResult* tool_result() const { return known() ? bound_->body_as_ToolResult() : nullptr; }
  const schema::Checkpoint* checkpoint() const { return known() ? bound_->body_as_Checkpoint() : nullptr; }
  const schema::End* end() const { return known() ? bound_->body_as_End() : nullptr; }

  // Volatile fields.
  uint64_t t_us() const { return frame_->t_us(); }
  uint64_t duration_us() const { return frame_->duration_us(); }
  const schema::Seal* seal() const { return frame_->seal(); }

  // The exact bytes this record contributes to the receipt chain.
  std::span<const uint8_t> bound_bytes() const { return {frame_->bound()->data(), frame_->bound()->size()}; }
  const schema::BoundRecord& bound() const { return *bound_; }
  const schema::RecordFrame& frame() const { return *frame_; }
  // A self-contained copy (object API), e.g. to keep after the reader closes.
  std::unique_ptr<schema::BoundRecordT> unpack() const { return std::unique_ptr<schema::BoundRecordT>(bound_->UnPack()); }

 private:
  uint64_t offset_;
  const schema::RecordFrame* frame_;
  const schema::BoundRecord* bound_;
};

// Where one turn's records are (record indices into the reader).
struct TurnSpan {
  uint32_t turn = 0;
  size_t start_record = 0;          // its TurnStart
  size_t end_record = SIZE_MAX;     // its TurnEnd; SIZE_MAX while open (truncated file)
  size_t first_step = 0;            // index into SessionReader::steps()
  size_t step_count = 0;            // its entries in steps()
};

class SessionReader {
 public:
  // Maps and verifies `path`. Throws ree::Error only when the file cannot be
  // opened or mapped; everything about its content is in report().
  explicit SessionReader(const std::filesystem::path& path, const ReadOptions& options = {});
  // Verifies bytes already in memory (tests, fuzzing). `bytes` must outlive
  // the reader; unaligned bytes are copied to aligned storage first.
  explicit SessionReader(std::span<const uint8_t> bytes, const ReadOptions& options = {});

  SessionReader(SessionReader&&) noexcept;
  SessionReader& operator=(SessionReader&&) noexcept;
  ~SessionReader();

  const VerifyReport& report() const { return report_; }
  const std::filesystem::path& path() const { return path_; }

  // The header; false when the file has no verifiable header.
  bool has_header() const { return header_frame_ != nullptr; }
  const schema::HeaderFrame& header_frame() const { return *header_frame_; }  // has_header() required
  const schema::BoundHeader& header() const { return *header_; }              // has_header() required
  // Step text for display: the piece, or "<id>" for files older than 1.1.
  std::string step_text(const schema::Step& step) const;

  size_t size() const { return offsets_.size(); }  // records in the intact prefix
  RecordView record(size_t index) const;           // index < size()
  // Record indices of the Step records, in order (for "step k of the session");
  // record(i).step() is never null for these (steps of a newer per-record
  // version, which this ree cannot read, are left out).
  const std::vector<uint32_t>& steps() const { return steps_; }
  const std::vector<TurnSpan>& turns() const { return turns_; }

 private:
  void verify(const ReadOptions& options);

  std::filesystem::path path_;
  std::optional<MappedFile> mapping_;
  std::span<const uint8_t> bytes_;
  VerifyReport report_;
  const schema::HeaderFrame* header_frame_ = nullptr;
  const schema::BoundHeader* header_ = nullptr;
  std::vector<uint64_t> offsets_;  // frame offset of each record
  std::vector<uint32_t> steps_;
  std::vector<TurnSpan> turns_;
  std::vector<uint64_t> owned_;    // aligned copy when given unaligned bytes

  friend class SessionVerifier;
};

// One call for tools and tests: open, verify, return the report. Throws
// ree::Error (exit code 2) only when the file cannot be opened or mapped.
VerifyReport verify_session(const std::filesystem::path& path, const ReadOptions& options = {});

}  // namespace ree::trace
