#pragma once
// The byte layout of session files (docs/session-format.md, "Layout"), shared
// by the writer and the reader so that both encode a frame the same way:
//
//   file  = frame(HeaderFrame, "REEH") frame(RecordFrame, "REER")*
//   frame = u32 little-endian size | FlatBuffer of `size` bytes
//
// Every frame's total length (4 + size) is a multiple of kFrameAlign, so every
// frame, and the bound bytes nested in it, start 8-aligned in the file.
#include <cstdint>
#include <span>
#include <string_view>

#include "trace/receipt.h"
#include "trace/schema.h"

namespace ree::trace {

constexpr char kHeaderIdentifier[] = "REEH";
constexpr char kRecordIdentifier[] = "REER";
constexpr size_t kFrameAlign = 8;
constexpr size_t kSizePrefixBytes = 4;
// Frames above this size are refused by the reader (and never written): a
// corrupt size prefix must not make the reader walk gigabytes. A single
// record this large (a 1 GiB tool output) is not a session ree supports.
constexpr size_t kMaxFrameBytes = size_t{1} << 30;
// The FlatBuffers verifier's limits: no record nests deeper than 4 tables, and
// none holds more than a handful; these bounds are far above that and far
// below what could make verification slow.
constexpr unsigned kMaxVerifyDepth = 16;
constexpr unsigned kMaxVerifyTables = 64;

// The message the optional Ed25519 signature signs:
// kSealDomain || receipt || envelope_hash.
constexpr std::string_view kSealDomain = "ree.session.seal.v1";

// One encoded frame: its bytes (size prefix included) and where its bound
// bytes lie inside them.
struct EncodedFrame {
  std::span<const uint8_t> bytes;
  size_t bound_offset = 0;
  size_t bound_size = 0;
  std::span<const uint8_t> bound() const { return bytes.subspan(bound_offset, bound_size); }
};

// Reusable builders: encoding a step allocates nothing once warmed up. The
// spans returned stay valid until the next call on the same encoder.
class FrameEncoder {
 public:
  FrameEncoder();

  EncodedFrame header(uint16_t format_minor, const schema::BoundHeaderT& bound,
                      const schema::RunSettingsT& run, const schema::EnvironmentT& environment);

  // The bound bytes of one record: a BoundRecord holding `body`.
  template <typename NativeT>
  std::span<const uint8_t> bound_record(const NativeT& body, uint16_t version = kRecordVersion) {
    bound_builder_.Clear();
    auto table = NativeT::TableType::Pack(bound_builder_, &body);
    return finish_bound(schema::RecordBodyUnionTraits<NativeT>::enum_value, version, table.Union());
  }

  // The frame around bound bytes. `seal` only for the End frame, whose
  // encoding must be canonical: the reader re-encodes it and compares.
  EncodedFrame record(std::span<const uint8_t> bound, uint64_t t_us, uint64_t duration_us,
                      const schema::SealT* seal = nullptr);

 private:
  std::span<const uint8_t> finish_bound(schema::RecordBody kind, uint16_t version,
                                        flatbuffers::Offset<void> body);
  EncodedFrame finish_frame(size_t bound_data_from_end, size_t bound_size);

  flatbuffers::FlatBufferBuilder bound_builder_;
  flatbuffers::FlatBufferBuilder frame_builder_;
};

// The seal's signed message.
std::vector<uint8_t> seal_message(const Digest& receipt, const Digest& envelope_hash);

}  // namespace ree::trace
