// The verifying session reader (reader.h): one pass over the mapped file that
// checks every frame (FlatBuffers verifier), the order rules (order.h), the
// receipt chain, the envelope hash, the canonical End frame and the
// signature, and records where each record is for random access.
#include "trace/reader.h"

#include <cstring>

#include "runtime/error.h"
#include "trace/chain_pipeline.h"
#include "trace/format.h"
#include "trace/order.h"

namespace ree::trace {
namespace {

std::string hex_short(const Digest& d) { return to_hex(std::span<const uint8_t>(d.data(), 8)); }

flatbuffers::Verifier::Options verifier_options() {
  flatbuffers::Verifier::Options options;
  options.max_depth = kMaxVerifyDepth;
  options.max_tables = kMaxVerifyTables;
  return options;
}

// Where the next frame lies, or why there is none.
enum class Slice : uint8_t { Frame, EndOfFile, Partial, Bad };

struct FrameSlice {
  Slice result = Slice::Bad;
  std::span<const uint8_t> bytes;  // size prefix included
  std::string why;                 // for Partial / Bad
};

FrameSlice slice_frame(std::span<const uint8_t> file, uint64_t offset) {
  FrameSlice s;
  uint64_t remaining = file.size() - offset;
  if (remaining == 0) {
    s.result = Slice::EndOfFile;
    return s;
  }
  if (remaining < kSizePrefixBytes) {
    s.result = Slice::Partial;
    s.why = "partial size prefix";
    return s;
  }
  uint64_t size = flatbuffers::ReadScalar<uint32_t>(file.data() + offset);
  if (size < 2 * sizeof(flatbuffers::uoffset_t) || size > kMaxFrameBytes ||
      (kSizePrefixBytes + size) % kFrameAlign != 0) {
    s.result = Slice::Bad;
    s.why = "impossible frame size " + std::to_string(size);
    return s;
  }
  if (size > remaining - kSizePrefixBytes) {
    s.result = Slice::Partial;
    s.why = "partial frame of " + std::to_string(size) + " bytes";
    return s;
  }
  s.result = Slice::Frame;
  s.bytes = file.subspan(offset, kSizePrefixBytes + size);
  return s;
}

// format_major and format_minor of a header frame, read with only the
// checks that any future layout keeps (field 0 and 1 of the root table).
std::optional<std::pair<uint16_t, uint16_t>> peek_version(std::span<const uint8_t> frame) {
  flatbuffers::Verifier verifier(frame.data(), frame.size(), verifier_options());
  flatbuffers::uoffset_t root = verifier.VerifyOffset(kSizePrefixBytes);
  if (root == 0) return std::nullopt;
  const auto* table = reinterpret_cast<const flatbuffers::Table*>(frame.data() + kSizePrefixBytes + root);
  if (!table->VerifyTableStart(verifier) || !table->VerifyField<uint16_t>(verifier, 4, 2) ||
      !table->VerifyField<uint16_t>(verifier, 6, 2)) {
    return std::nullopt;
  }
  return std::make_pair(table->GetField<uint16_t>(4, 0), table->GetField<uint16_t>(6, 0));
}

}  // namespace

std::string_view status_name(SessionStatus status) {
  switch (status) {
    case SessionStatus::Valid: return "valid";
    case SessionStatus::Truncated: return "truncated";
    case SessionStatus::Invalid: return "invalid";
    case SessionStatus::Unsupported: return "unsupported";
  }
  return "unknown";
}

std::string_view signature_status_name(SignatureStatus status) {
  switch (status) {
    case SignatureStatus::Unsigned: return "unsigned";
    case SignatureStatus::Verified: return "verified";
    case SignatureStatus::Trusted: return "trusted";
    case SignatureStatus::Untrusted: return "untrusted";
    case SignatureStatus::Bad: return "bad";
    case SignatureStatus::NotReached: return "not_reached";
  }
  return "unknown";
}

int VerifyReport::exit_code() const {
  switch (status) {
    case SessionStatus::Valid: return 0;
    case SessionStatus::Invalid: return 1;
    case SessionStatus::Unsupported: return 2;
    case SessionStatus::Truncated: return 3;
  }
  return 1;
}

bool RecordView::known() const {
  return static_cast<uint8_t>(kind()) <= kKnownRecordKinds && version() <= kRecordVersion;
}

// The one verification pass, filling a SessionReader.
class SessionVerifier {
 public:
  SessionVerifier(SessionReader& reader, const ReadOptions& options)
      : r_(reader), report_(reader.report_), file_(reader.bytes_), options_(options) {}

  void run() {
    report_.file_bytes = file_.size();
    if (!read_header()) return;
    uint64_t offset = header_bytes_;
    while (true) {
      FrameSlice slice = slice_frame(file_, offset);
      if (slice.result == Slice::EndOfFile) return truncated(offset, "no end record");
      if (slice.result == Slice::Partial) return truncated(offset, slice.why);
      if (slice.result == Slice::Bad) return invalid(offset, slice.why);
      if (!read_record(offset, slice.bytes)) return;
      offset += slice.bytes.size();
      if (report_.status == SessionStatus::Valid) return;
    }
  }

 private:
  void invalid(uint64_t offset, const std::string& why) {
    report_.status = SessionStatus::Invalid;
    report_.bad_offset = offset;
    std::string where = offset == 0 && header_bytes_ == 0
                            ? std::string("header")
                            : "record " + std::to_string(r_.offsets_.size()) + " at offset " + std::to_string(offset);
    report_.message = where + ": " + why;
    finish_counts();
  }

  void truncated(uint64_t offset, const std::string& why) {
    report_.status = SessionStatus::Truncated;
    report_.bad_offset = offset;
    report_.message = why + ": complete prefix recovered: " + std::to_string(r_.offsets_.size()) + " records, " +
                      std::to_string(file_.size() - offset) + " bytes lost at offset " + std::to_string(offset);
    finish_counts();
  }

  void finish_counts() {
    report_.records = r_.offsets_.size();
    report_.good_bytes = report_.bad_offset;
    if (order_) {
      const auto& counts = order_->counts();
      size_t last = counts.size();
      while (last > kKnownRecordKinds + 1 && counts[last - 1] == 0) --last;
      report_.counts.assign(counts.begin(), counts.begin() + last);
      report_.unknown_records = order_->unknown_records();
    }
    if (chain_) report_.chain = chain_->finish();
    if (report_.unknown_records > 0) {
      report_.notes.push_back(std::to_string(report_.unknown_records) +
                              " records of kinds or versions newer than this ree were checked and chained "
                              "but not interpreted");
    }
  }

  bool read_header() {
    // Only this much is promised across major versions: frame 0 is a
    // size-prefixed FlatBuffer with identifier REEH whose root table has
    // format_major and format_minor as fields 0 and 1. Everything else is
    // checked once the version is known to be ours.
    std::span<const uint8_t> frame = header_slice();
    if (frame.empty()) return false;
    auto version = peek_version(frame);
    if (!version) return invalid(0, "header frame fails verification"), false;
    report_.format_major = version->first;
    report_.format_minor = version->second;
    if (!check_version()) return false;
    FrameSlice slice = slice_frame(file_, 0);
    if (slice.result != Slice::Frame) return invalid(0, "header frame: " + slice.why), false;
    flatbuffers::Verifier verifier(frame.data(), frame.size(), verifier_options());
    if (!verifier.VerifySizePrefixedBuffer<schema::HeaderFrame>(kHeaderIdentifier)) {
      return invalid(0, "header frame fails verification"), false;
    }
    const auto* header = flatbuffers::GetSizePrefixedRoot<schema::HeaderFrame>(frame.data());
    if (!check_bound_alignment(header->bound(), 0)) return false;
    const schema::BoundHeader* bound = header->bound_nested_root();
    std::string problem = header_problem(*bound);
    if (!problem.empty()) return invalid(0, problem), false;

    r_.header_frame_ = header;
    r_.header_ = bound;
    header_bytes_ = frame.size();
    std::span<const uint8_t> bound_bytes(header->bound()->data(), header->bound()->size());
    chain_.emplace(bound_bytes, file_.size() >= ChainPipeline::kThreadedFileBytes);
    envelope_.add_frame(frame, static_cast<size_t>(bound_bytes.data() - frame.data()), bound_bytes.size());
    order_.emplace(OrderLimits{bound->config()->topk_width(), bound->config()->probes(), report_.format_minor});
    return true;
  }

  // Frame 0 with the checks every major version keeps; empty (and the
  // report filled) when there is none.
  std::span<const uint8_t> header_slice() {
    if (file_.empty()) return invalid(0, "empty file, not a ree session"), std::span<const uint8_t>();
    uint64_t size = file_.size() >= kSizePrefixBytes ? flatbuffers::ReadScalar<uint32_t>(file_.data()) : 0;
    if (file_.size() < kSizePrefixBytes + 2 * sizeof(flatbuffers::uoffset_t) ||
        size < 2 * sizeof(flatbuffers::uoffset_t) || size > kMaxFrameBytes ||
        size > file_.size() - kSizePrefixBytes) {
      return invalid(0, "no complete header frame; not a ree session"), std::span<const uint8_t>();
    }
    std::span<const uint8_t> frame = file_.subspan(0, kSizePrefixBytes + size);
    if (!flatbuffers::BufferHasIdentifier(frame.data(), kHeaderIdentifier, true)) {
      return invalid(0, "not a ree session file (no REEH identifier at offset 8)"), std::span<const uint8_t>();
    }
    return frame;
  }

  bool check_version() {
    std::string version = std::to_string(report_.format_major) + "." + std::to_string(report_.format_minor);
    std::string ours = std::to_string(kFormatMajor) + "." + std::to_string(kFormatMinor);
    if (report_.format_major > kFormatMajor) {
      report_.status = SessionStatus::Unsupported;
      report_.message = "session format version " + version + " is newer than this ree supports (" + ours +
                        "); upgrade ree";
      return false;
    }
    if (report_.format_major < kFormatMajor) {
      invalid(0, "session format version " + version + " was never a ree session format");
      return false;
    }
    if (report_.format_minor > kFormatMinor) {
      report_.notes.push_back("written by a newer ree (format " + version + ", this ree reads " + ours +
                              "); fields added since are not shown");
    }
    return true;
  }

  // The bound bytes must start 8-aligned in the file (the writer always
  // aligns them) so that their 8-byte fields are read aligned.
  bool check_bound_alignment(const flatbuffers::Vector<uint8_t>* bound, uint64_t offset) {
    if (!bound) return invalid(offset, "frame has no bound bytes"), false;
    if (static_cast<size_t>(bound->data() - file_.data()) % kFrameAlign != 0) {
      return invalid(offset, "bound bytes are not 8-aligned"), false;
    }
    return true;
  }

  static std::string header_problem(const schema::BoundHeader& bound) {
    if (!bound.contract_version()) return "header has no contract version";
    if (!bound.model()) return "header has no model identity";
    if (!bound.config() || !bound.config()->sampling()) return "header has no configuration";
    if (!enum_in_range(bound.config()->mode())) return "header has an unknown mode";
    if (!enum_in_range(bound.config()->dtype())) return "header has an unknown dtype";
    if (bound.config()->topk_width() > 1024) return "header top-k width above 1024";
    return {};
  }

  bool read_record(uint64_t offset, std::span<const uint8_t> frame) {
    flatbuffers::Verifier verifier(frame.data(), frame.size(), verifier_options());
    if (!verifier.VerifySizePrefixedBuffer<schema::RecordFrame>(kRecordIdentifier)) {
      return invalid(offset, "frame fails FlatBuffers verification"), false;
    }
    const auto* record = flatbuffers::GetSizePrefixedRoot<schema::RecordFrame>(frame.data());
    if (!check_bound_alignment(record->bound(), offset)) return false;
    const schema::BoundRecord* bound = record->bound_nested_root();
    std::string problem = order_->accept(*bound);
    if (!problem.empty()) return invalid(offset, problem), false;
    std::span<const uint8_t> bound_bytes(record->bound()->data(), record->bound()->size());
    chain_->append(bound_bytes);
    if (bound->body_type() == schema::RecordBody::End) return read_end(offset, frame, *record, bound_bytes);
    if (record->seal()) return invalid(offset, "seal on a record that is not the end record"), false;
    size_t index = r_.offsets_.size();
    r_.offsets_.push_back(offset);
    envelope_.add_frame(frame, static_cast<size_t>(bound_bytes.data() - frame.data()), bound_bytes.size());
    index_record(index, RecordView(offset, record, bound));
    return true;
  }

  // Navigation tables. Turns of a newer per-record version still mark where
  // turns are; steps() holds only steps this ree can read.
  void index_record(size_t index, const RecordView& view) {
    switch (view.kind()) {
      case schema::RecordBody::TurnStart:
        r_.turns_.push_back(TurnSpan{order_->turns_started() - 1, index, SIZE_MAX, r_.steps_.size(), 0});
        break;
      case schema::RecordBody::Step:
        if (!view.known()) break;  // steps() promises record(i).step() != nullptr
        r_.steps_.push_back(static_cast<uint32_t>(index));
        if (!r_.turns_.empty()) ++r_.turns_.back().step_count;
        break;
      case schema::RecordBody::TurnEnd:
        if (!r_.turns_.empty()) r_.turns_.back().end_record = index;
        break;
      default: break;
    }
  }

  bool read_end(uint64_t offset, std::span<const uint8_t> frame, const schema::RecordFrame& record,
                std::span<const uint8_t> bound_bytes) {
    uint64_t end = offset + frame.size();
    if (end != file_.size()) return invalid(end, std::to_string(file_.size() - end) + " bytes after the end record"), false;
    const schema::Seal* seal = record.seal();
    if (!seal || !seal->receipt() || seal->receipt()->size() != 32 || !seal->envelope_hash() ||
        seal->envelope_hash()->size() != 32) {
      return invalid(offset, "end record has no well-formed seal"), false;
    }
    Digest sealed_receipt{};
    Digest sealed_envelope{};
    std::memcpy(sealed_receipt.data(), seal->receipt()->data(), 32);
    std::memcpy(sealed_envelope.data(), seal->envelope_hash()->data(), 32);
    report_.receipt = sealed_receipt;

    // Every byte of the End frame is checked by re-encoding it: the writer
    // encodes it the same way, with no volatile field.
    std::unique_ptr<schema::SealT> seal_values(seal->UnPack());
    FrameEncoder encoder;
    EncodedFrame canonical = encoder.record(bound_bytes, 0, 0, seal_values.get());
    if (canonical.bytes.size() != frame.size() || std::memcmp(canonical.bytes.data(), frame.data(), frame.size()) != 0) {
      return invalid(offset, "end frame is not in canonical form (altered)"), false;
    }
    const Digest& computed = chain_->finish();
    if (computed != sealed_receipt) {
      return invalid(offset, "receipt chain mismatch: a bound record was altered (computed " + hex_short(computed) +
                                 "..., sealed " + hex_short(sealed_receipt) + "...)"),
             false;
    }
    if (envelope_.digest() != sealed_envelope) {
      return invalid(offset, "envelope hash mismatch: a volatile field or frame byte was altered"), false;
    }
    if (!check_signature(offset, *seal, sealed_receipt, sealed_envelope)) return false;
    r_.offsets_.push_back(offset);
    report_.status = SessionStatus::Valid;
    report_.bad_offset = 0;
    finish_counts();
    report_.good_bytes = file_.size();
    report_.message = "complete: " + std::to_string(report_.records) + " records, " + std::to_string(r_.turns_.size()) +
                      " turns, " + std::to_string(r_.steps_.size()) + " steps; receipt " + to_hex(sealed_receipt);
    return true;
  }

  bool check_signature(uint64_t offset, const schema::Seal& seal, const Digest& receipt, const Digest& envelope) {
    bool has_key = seal.public_key() != nullptr;
    bool has_signature = seal.signature() != nullptr;
    if (!has_key && !has_signature) {
      report_.signature = SignatureStatus::Unsigned;
      if (options_.trusted_key) return invalid(offset, "not signed, but a trusted public key was given"), false;
      return true;
    }
    if (!has_key || !has_signature || seal.public_key()->size() != 32 || seal.signature()->size() != 64) {
      report_.signature = SignatureStatus::Bad;
      return invalid(offset, "malformed signature in the seal"), false;
    }
    PublicKey key{};
    Signature signature{};
    std::memcpy(key.data(), seal.public_key()->data(), key.size());
    std::memcpy(signature.data(), seal.signature()->data(), signature.size());
    report_.signer = key;
    if (!verify_signature(key, seal_message(receipt, envelope), signature)) {
      report_.signature = SignatureStatus::Bad;
      return invalid(offset, "bad signature (key " + key_fingerprint(key) + ")"), false;
    }
    report_.signature = SignatureStatus::Verified;
    if (options_.trusted_key) {
      if (*options_.trusted_key != key) {
        report_.signature = SignatureStatus::Untrusted;
        return invalid(offset, "signed by key " + key_fingerprint(key) + ", not by the trusted key " +
                                   key_fingerprint(*options_.trusted_key)),
               false;
      }
      report_.signature = SignatureStatus::Trusted;
    }
    return true;
  }

  SessionReader& r_;
  VerifyReport& report_;
  std::span<const uint8_t> file_;
  const ReadOptions& options_;
  uint64_t header_bytes_ = 0;
  std::optional<ChainPipeline> chain_;
  EnvelopeHash envelope_;
  std::optional<OrderTracker> order_;
};

SessionReader::SessionReader(const std::filesystem::path& path, const ReadOptions& options) : path_(path) {
  mapping_.emplace(path);
  bytes_ = mapping_->bytes();
  verify(options);
}

SessionReader::SessionReader(std::span<const uint8_t> bytes, const ReadOptions& options) {
  if (reinterpret_cast<uintptr_t>(bytes.data()) % kFrameAlign != 0) {
    // Fields are read in place; keep them aligned as a mapped file would be.
    owned_.resize((bytes.size() + 7) / 8);
    std::memcpy(owned_.data(), bytes.data(), bytes.size());
    bytes = {reinterpret_cast<const uint8_t*>(owned_.data()), bytes.size()};
  }
  bytes_ = bytes;
  verify(options);
}

SessionReader::SessionReader(SessionReader&&) noexcept = default;
SessionReader& SessionReader::operator=(SessionReader&&) noexcept = default;
SessionReader::~SessionReader() = default;

void SessionReader::verify(const ReadOptions& options) {
  SessionVerifier verifier(*this, options);
  verifier.run();
}

RecordView SessionReader::record(size_t index) const {
  uint64_t offset = offsets_.at(index);
  const auto* frame = flatbuffers::GetSizePrefixedRoot<schema::RecordFrame>(bytes_.data() + offset);
  return RecordView(offset, frame, frame->bound_nested_root());
}

std::string SessionReader::step_text(const schema::Step& step) const {
  if (report_.format_minor < kMinorWithPiece) {
    std::string text = "<";
    text += std::to_string(step.token());
    text += ">";
    return text;
  }
  return step.piece() ? step.piece()->str() : std::string();
}

VerifyReport verify_session(const std::filesystem::path& path, const ReadOptions& options) {
  return SessionReader(path, options).report();
}

}  // namespace ree::trace
