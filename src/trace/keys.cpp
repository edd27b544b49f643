// Ed25519 key files and signatures (keys.h describes the file format).
#include "trace/keys.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "runtime/error.h"
#include "trace/receipt.h"

namespace ree::trace {
namespace {

constexpr std::string_view kSecretTag = "ree-ed25519-secret";
constexpr std::string_view kPublicTag = "ree-ed25519-public";
// Key files are one short line; anything much longer is not a key file.
constexpr std::streamsize kMaxKeyFileBytes = 4096;

void ensure_sodium() {
  if (sodium_init() < 0) throw std::runtime_error("libsodium failed to initialise");
}

// Writes the whole of `text` to a new file with `mode`; O_EXCL unless overwrite.
void write_new_file(const std::filesystem::path& path, const std::string& text, mode_t mode,
                    bool overwrite) {
  int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (overwrite ? O_TRUNC : O_EXCL);
  int fd = ::open(path.c_str(), flags, mode);
  if (fd < 0) {
    throw file_error(path.string(), errno == EEXIST ? "already exists (refusing to overwrite a key)"
                                                    : std::string("cannot create: ") + std::strerror(errno));
  }
  // An overwritten file keeps its old mode: force ours.
  bool ok = ::fchmod(fd, mode) == 0;
  size_t done = 0;
  while (ok && done < text.size()) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    ok = n > 0;
    if (ok) done += static_cast<size_t>(n);
  }
  ok = ok && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) throw file_error(path.string(), std::string("cannot write: ") + std::strerror(errno));
}

// Reads "<tag> <hex>" from `path` into `out`.
void read_key_line(const std::filesystem::path& path, std::string_view tag, std::span<uint8_t> out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw file_error(path.string(), "cannot open key file");
  std::string text(static_cast<size_t>(kMaxKeyFileBytes), '\0');
  in.read(text.data(), kMaxKeyFileBytes);
  text.resize(static_cast<size_t>(in.gcount()));
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) text.pop_back();
  std::string prefix = std::string(tag) + " ";
  if (text.rfind(prefix, 0) != 0) {
    throw file_error(path.string(), "not a " + std::string(tag) + " key file (expected '" +
                                        std::string(tag) + " <hex>')");
  }
  if (!from_hex(std::string_view(text).substr(prefix.size()), out)) {
    throw file_error(path.string(), "key is not " + std::to_string(out.size() * 2) + " hex digits");
  }
}

}  // namespace

PublicKey SecretKey::public_key() const {
  PublicKey key{};
  crypto_sign_ed25519_sk_to_pk(key.data(), bytes.data());
  return key;
}

KeyPair generate_key_pair() {
  ensure_sodium();
  KeyPair keys;
  crypto_sign_keypair(keys.public_key.data(), keys.secret.bytes.data());
  return keys;
}

void write_key_pair(const KeyPair& keys, const std::filesystem::path& path, bool overwrite) {
  std::filesystem::path pub = path;
  pub += ".pub";
  std::error_code ignored;
  if (!overwrite && std::filesystem::exists(pub, ignored)) {
    throw file_error(pub.string(), "already exists (refusing to overwrite a key)");
  }
  write_new_file(path, std::string(kSecretTag) + " " + to_hex(keys.secret.bytes) + "\n", 0600, overwrite);
  write_new_file(pub, std::string(kPublicTag) + " " + to_hex(keys.public_key) + "\n", 0644, overwrite);
}

SecretKey read_secret_key(const std::filesystem::path& path) {
  ensure_sodium();
  SecretKey key;
  read_key_line(path, kSecretTag, key.bytes);
  // The secret key embeds its public half; a file whose halves disagree was
  // edited or damaged, and would sign with a key nobody can verify.
  PublicKey derived{};
  crypto_sign_ed25519_sk_to_pk(derived.data(), key.bytes.data());
  unsigned char seed[crypto_sign_SEEDBYTES];
  crypto_sign_ed25519_sk_to_seed(seed, key.bytes.data());
  PublicKey from_seed{};
  unsigned char check_sk[crypto_sign_SECRETKEYBYTES];
  crypto_sign_seed_keypair(from_seed.data(), check_sk, seed);
  sodium_memzero(check_sk, sizeof(check_sk));
  sodium_memzero(seed, sizeof(seed));
  if (derived != from_seed) throw file_error(path.string(), "secret key is inconsistent (damaged key file)");
  return key;
}

PublicKey read_public_key(const std::filesystem::path& path) {
  PublicKey key{};
  read_key_line(path, kPublicTag, key);
  return key;
}

std::string key_fingerprint(const PublicKey& key) {
  return to_hex(std::span<const uint8_t>(key.data(), 8));
}

Signature sign(const SecretKey& key, std::span<const uint8_t> message) {
  ensure_sodium();
  Signature signature{};
  crypto_sign_detached(signature.data(), nullptr, message.data(), message.size(), key.bytes.data());
  return signature;
}

bool verify_signature(const PublicKey& key, std::span<const uint8_t> message, const Signature& signature) {
  ensure_sodium();
  return crypto_sign_verify_detached(signature.data(), message.data(), message.size(), key.data()) == 0;
}

}  // namespace ree::trace
