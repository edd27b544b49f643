// BLAKE2b-256 (libsodium) receipt chain and envelope hash; receipt.h says why
// there are two and what each covers.
#include "trace/receipt.h"

#include <stdexcept>

namespace ree::trace {
namespace {

// libsodium must be initialised once before use; sodium_init is idempotent
// and thread-safe, so calling it from every constructor is enough.
void ensure_sodium() {
  if (sodium_init() < 0) throw std::runtime_error("libsodium failed to initialise");
}

void put_u32_le(uint8_t out[4], uint32_t v) {
  for (int i = 0; i < 4; ++i) out[i] = static_cast<uint8_t>(v >> (8 * i));
}

}  // namespace

std::string to_hex(std::span<const uint8_t> bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (uint8_t b : bytes) {
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 15]);
  }
  return out;
}

bool from_hex(std::string_view hex, std::span<uint8_t> out) {
  if (hex.size() != out.size() * 2) return false;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (size_t i = 0; i < out.size(); ++i) {
    int hi = nibble(hex[2 * i]);
    int lo = nibble(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    out[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return true;
}

ReceiptChain::ReceiptChain(std::span<const uint8_t> header_bound) {
  ensure_sodium();
  crypto_generichash_blake2b_state state;
  crypto_generichash_blake2b_init(&state, nullptr, 0, digest_.size());
  crypto_generichash_blake2b_update(&state, reinterpret_cast<const uint8_t*>(kReceiptDomain.data()),
                                    kReceiptDomain.size());
  crypto_generichash_blake2b_update(&state, header_bound.data(), header_bound.size());
  crypto_generichash_blake2b_final(&state, digest_.data(), digest_.size());
}

void ReceiptChain::append(std::span<const uint8_t> bound) {
  crypto_generichash_blake2b_state state;
  crypto_generichash_blake2b_init(&state, nullptr, 0, digest_.size());
  crypto_generichash_blake2b_update(&state, digest_.data(), digest_.size());
  crypto_generichash_blake2b_update(&state, bound.data(), bound.size());
  crypto_generichash_blake2b_final(&state, digest_.data(), digest_.size());
}

EnvelopeHash::EnvelopeHash() {
  ensure_sodium();
  crypto_generichash_blake2b_init(&state_, nullptr, 0, sizeof(Digest));
  crypto_generichash_blake2b_update(&state_, reinterpret_cast<const uint8_t*>(kEnvelopeDomain.data()),
                                    kEnvelopeDomain.size());
}

void EnvelopeHash::add_frame(std::span<const uint8_t> frame, size_t bound_offset, size_t bound_size) {
  // The span's position and the frame length make the split unambiguous:
  // moving bytes between the bound and the envelope part changes this input.
  uint8_t layout[12];
  put_u32_le(layout, static_cast<uint32_t>(frame.size()));
  put_u32_le(layout + 4, static_cast<uint32_t>(bound_offset));
  put_u32_le(layout + 8, static_cast<uint32_t>(bound_size));
  crypto_generichash_blake2b_update(&state_, layout, sizeof(layout));
  crypto_generichash_blake2b_update(&state_, frame.data(), bound_offset);
  size_t tail = bound_offset + bound_size;
  crypto_generichash_blake2b_update(&state_, frame.data() + tail, frame.size() - tail);
}

Digest EnvelopeHash::digest() const {
  crypto_generichash_blake2b_state copy = state_;
  Digest out{};
  crypto_generichash_blake2b_final(&copy, out.data(), out.size());
  return out;
}

}  // namespace ree::trace
