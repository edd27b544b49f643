// Frame encoding shared by writer and reader (format.h).
#include "trace/format.h"

#include <cstring>
#include <stdexcept>

namespace ree::trace {

FrameEncoder::FrameEncoder() : bound_builder_(1024), frame_builder_(1024) {}

std::span<const uint8_t> FrameEncoder::finish_bound(schema::RecordBody kind, uint16_t version,
                                                    flatbuffers::Offset<void> body) {
  auto root = schema::CreateBoundRecord(bound_builder_, version, kind, body);
  bound_builder_.Finish(root);
  return {bound_builder_.GetBufferPointer(), bound_builder_.GetSize()};
}

EncodedFrame FrameEncoder::finish_frame(size_t bound_data_from_end, size_t bound_size) {
  // The builder writes back to front, so the bound bytes' distance from the
  // end of the buffer is known before the buffer is finished.
  std::span<const uint8_t> bytes(frame_builder_.GetBufferPointer(), frame_builder_.GetSize());
  if (bytes.size() - kSizePrefixBytes > kMaxFrameBytes) {
    throw std::length_error("session record larger than 1 GiB");
  }
  EncodedFrame frame;
  frame.bytes = bytes;
  frame.bound_offset = bytes.size() - bound_data_from_end;
  frame.bound_size = bound_size;
  return frame;
}

EncodedFrame FrameEncoder::header(uint16_t format_minor, const schema::BoundHeaderT& bound,
                                  const schema::RunSettingsT& run,
                                  const schema::EnvironmentT& environment) {
  bound_builder_.Clear();
  bound_builder_.Finish(schema::BoundHeader::Pack(bound_builder_, &bound));
  std::span<const uint8_t> bound_bytes(bound_builder_.GetBufferPointer(), bound_builder_.GetSize());

  frame_builder_.Clear();
  frame_builder_.ForceVectorAlignment(bound_bytes.size(), 1, kFrameAlign);
  auto bound_vector = frame_builder_.CreateVector(bound_bytes.data(), bound_bytes.size());
  size_t bound_data_from_end = frame_builder_.GetSize() - sizeof(flatbuffers::uoffset_t);
  auto run_table = schema::RunSettings::Pack(frame_builder_, &run);
  auto env_table = schema::Environment::Pack(frame_builder_, &environment);
  schema::HeaderFrameBuilder root(frame_builder_);
  root.add_environment(env_table);
  root.add_run(run_table);
  root.add_bound(bound_vector);
  root.add_format_minor(format_minor);
  root.add_format_major(kFormatMajor);
  frame_builder_.FinishSizePrefixed(root.Finish(), kHeaderIdentifier);
  return finish_frame(bound_data_from_end, bound_bytes.size());
}

EncodedFrame FrameEncoder::record(std::span<const uint8_t> bound, uint64_t t_us, uint64_t duration_us,
                                  const schema::SealT* seal) {
  frame_builder_.Clear();
  frame_builder_.ForceVectorAlignment(bound.size(), 1, kFrameAlign);
  auto bound_vector = frame_builder_.CreateVector(bound.data(), bound.size());
  size_t bound_data_from_end = frame_builder_.GetSize() - sizeof(flatbuffers::uoffset_t);
  flatbuffers::Offset<schema::Seal> seal_table;
  if (seal) seal_table = schema::Seal::Pack(frame_builder_, seal);
  auto root = schema::CreateRecordFrame(frame_builder_, bound_vector, t_us, duration_us, seal_table);
  frame_builder_.FinishSizePrefixed(root, kRecordIdentifier);
  return finish_frame(bound_data_from_end, bound.size());
}

std::vector<uint8_t> seal_message(const Digest& receipt, const Digest& envelope_hash) {
  std::vector<uint8_t> message(kSealDomain.size() + receipt.size() + envelope_hash.size());
  std::memcpy(message.data(), kSealDomain.data(), kSealDomain.size());
  std::memcpy(message.data() + kSealDomain.size(), receipt.data(), receipt.size());
  std::memcpy(message.data() + kSealDomain.size() + receipt.size(), envelope_hash.data(), envelope_hash.size());
  return message;
}

}  // namespace ree::trace
