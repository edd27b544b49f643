#pragma once
// Ed25519 keys for signing session seals (libsodium). `ree keygen --out K`
// writes K (secret, mode 0600) and K.pub; the writer signs with K, verify
// checks against K.pub. Both files are one line of text:
//   ree-ed25519-secret <128 hex digits: libsodium's 64-byte secret key>
//   ree-ed25519-public <64 hex digits>
#include <array>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>

namespace ree::trace {

using PublicKey = std::array<uint8_t, 32>;
using Signature = std::array<uint8_t, 64>;

struct SecretKey {
  std::array<uint8_t, 64> bytes{};  // libsodium layout: seed || public key
  PublicKey public_key() const;
};

struct KeyPair {
  SecretKey secret;
  PublicKey public_key{};
};

KeyPair generate_key_pair();

// Writes `path` (0600, refuses to replace an existing file unless overwrite)
// and `path`.pub. Throws ree::Error.
void write_key_pair(const KeyPair& keys, const std::filesystem::path& path, bool overwrite);

// Read key files; throw ree::Error("PATH: what is wrong") on anything else.
SecretKey read_secret_key(const std::filesystem::path& path);
PublicKey read_public_key(const std::filesystem::path& path);

// Short, printable identity of a key: first 16 hex digits of the key.
std::string key_fingerprint(const PublicKey& key);

Signature sign(const SecretKey& key, std::span<const uint8_t> message);
bool verify_signature(const PublicKey& key, std::span<const uint8_t> message, const Signature& signature);

}  // namespace ree::trace
