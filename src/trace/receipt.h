#pragma once
// The two hashes that make a session tamper-evident (docs/session-format.md,
// "Receipt"):
//   ReceiptChain  - BLAKE2b-256 chained over every frame's *bound* bytes:
//                   h_0 = B(kReceiptDomain || header bound), h_i = B(h_{i-1} || record_i bound).
//                   Identical for the same session recorded on any device,
//                   thread count or prefill chunk.
//   EnvelopeHash  - one running BLAKE2b-256 over every byte of a frame that is
//                   *not* bound (size prefix, envelope table, volatile fields,
//                   padding), with the bound span's position, so that together
//                   the two cover every byte of the file exactly once.
#include <sodium.h>

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace ree::trace {

using Digest = std::array<uint8_t, 32>;

// Domain separation: a receipt can never be confused with another BLAKE2b use.
constexpr std::string_view kReceiptDomain = "ree.session.receipt.v1";
constexpr std::string_view kEnvelopeDomain = "ree.session.envelope.v1";

std::string to_hex(std::span<const uint8_t> bytes);
// Lower- or upper-case hex of exactly out.size() bytes; false otherwise.
bool from_hex(std::string_view hex, std::span<uint8_t> out);

class ReceiptChain {
 public:
  // Starts the chain with the header's bound bytes (h_0).
  explicit ReceiptChain(std::span<const uint8_t> header_bound);
  // h_i = B(h_{i-1} || bound).
  void append(std::span<const uint8_t> bound);
  const Digest& digest() const { return digest_; }

 private:
  Digest digest_{};
};

class EnvelopeHash {
 public:
  EnvelopeHash();
  // One frame: its bytes (size prefix included) and where its bound bytes lie
  // inside them (offset from the frame's first byte, length).
  void add_frame(std::span<const uint8_t> frame, size_t bound_offset, size_t bound_size);
  Digest digest() const;  // the state is not consumed

 private:
  crypto_generichash_blake2b_state state_;
};

}  // namespace ree::trace
