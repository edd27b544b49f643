// Tokenizer: a thin wrapper over sentencepiece::SentencePieceProcessor that
// turns its statuses into ree::Error and never hands it an id outside the
// vocabulary (SentencePiece does not check ids in every call).
#include "runtime/tokenizer.h"

#include <sentencepiece_processor.h>
#include <sodium.h>

#include <fstream>
#include <optional>
#include <sstream>
#include <stdexcept>

#include "runtime/error.h"

namespace ree {

namespace {

std::string hex_blake2b_256(const std::string& bytes) {
  if (sodium_init() < 0) throw std::runtime_error("libsodium failed to initialise");
  unsigned char digest[crypto_generichash_BYTES];
  crypto_generichash(digest, sizeof digest, reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(),
                     nullptr, 0);
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  for (const unsigned char b : digest) {
    out += kHex[b >> 4];
    out += kHex[b & 15];
  }
  return out;
}

// "<0xNN>" -> the byte NN; nullopt for any other piece.
std::optional<char> byte_piece_value(const std::string& piece) {
  if (piece.size() != 6 || piece.compare(0, 3, "<0x") != 0 || piece[5] != '>') return std::nullopt;
  int value = 0;
  for (size_t i = 3; i < 5; ++i) {
    const char c = piece[i];
    const int digit = (c >= '0' && c <= '9')   ? c - '0'
                      : (c >= 'A' && c <= 'F') ? c - 'A' + 10
                      : (c >= 'a' && c <= 'f') ? c - 'a' + 10
                                               : -1;
    if (digit < 0) return std::nullopt;
    value = value * 16 + digit;
  }
  return static_cast<char>(value);
}

const char kSpaceMarker[] = "\xE2\x96\x81";  // U+2581 "▁", SentencePiece's space

}  // namespace

Tokenizer::Tokenizer() = default;
Tokenizer::~Tokenizer() = default;
Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;

Tokenizer Tokenizer::from_serialized_proto(std::string proto, const std::string& origin) {
  auto sp = std::make_unique<sentencepiece::SentencePieceProcessor>();
  const auto status = sp->LoadFromSerializedProto(proto);
  if (!status.ok()) throw file_error(origin, "unreadable tokenizer: " + status.ToString());
  if (sp->GetPieceSize() <= 0) throw file_error(origin, "unreadable tokenizer: no pieces");
  Tokenizer t;
  t.sp_ = std::move(sp);
  t.digest_ = hex_blake2b_256(proto);
  t.proto_ = std::move(proto);
  return t;
}

Tokenizer Tokenizer::from_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw file_error(path, "unreadable tokenizer: cannot open");
  std::ostringstream bytes;
  bytes << in.rdbuf();
  if (in.bad()) throw file_error(path, "unreadable tokenizer: read failed");
  return from_serialized_proto(bytes.str(), path);
}

namespace {
const sentencepiece::SentencePieceProcessor& loaded(const std::unique_ptr<sentencepiece::SentencePieceProcessor>& sp) {
  if (!sp) throw std::logic_error("Tokenizer used before one was loaded");
  return *sp;
}
}  // namespace

int Tokenizer::vocab_size() const { return loaded(sp_).GetPieceSize(); }
int32_t Tokenizer::bos_id() const { return loaded(sp_).bos_id(); }
int32_t Tokenizer::eos_id() const { return loaded(sp_).eos_id(); }

std::vector<int32_t> Tokenizer::encode(std::string_view text) const {
  std::vector<int> ids;
  const auto status = loaded(sp_).Encode(text, &ids);
  if (!status.ok()) throw Error("tokenizer: cannot encode text: " + status.ToString());
  return std::vector<int32_t>(ids.begin(), ids.end());
}

std::string Tokenizer::decode(const std::vector<int32_t>& ids) const {
  const int n = vocab_size();
  for (const int32_t id : ids) {
    if (id < 0 || id >= n) throw Error("tokenizer: token id " + std::to_string(id) + " is outside the vocabulary");
  }
  std::string text;
  const auto status = loaded(sp_).Decode(std::vector<int>(ids.begin(), ids.end()), &text);
  if (!status.ok()) throw Error("tokenizer: cannot decode: " + status.ToString());
  return text;
}

std::string Tokenizer::piece(int32_t id) const {
  if (id < 0 || id >= vocab_size()) {
    throw Error("tokenizer: token id " + std::to_string(id) + " is outside the vocabulary");
  }
  return sp_->IdToPiece(id);
}

std::string Tokenizer::piece_text(int32_t id) const {
  const std::string raw = piece(id);
  if (sp_->IsControl(id)) return "";
  if (sp_->IsUnknown(id)) return sp_->DecodeIds({id});  // the unk surface, " \u2047 " by default
  if (sp_->IsByte(id)) {
    if (const std::optional<char> byte = byte_piece_value(raw)) return std::string(1, *byte);
  }
  std::string text;
  for (size_t i = 0; i < raw.size();) {
    if (raw.compare(i, 3, kSpaceMarker) == 0) {
      text += ' ';
      i += 3;
    } else {
      text += raw[i++];
    }
  }
  return text;
}

int32_t Tokenizer::piece_to_id(std::string_view piece) const {
  const sentencepiece::SentencePieceProcessor& sp = loaded(sp_);
  const int id = sp.PieceToId(piece);
  // PieceToId answers unk_id for unknown pieces; tell that apart from <unk>.
  if (id == sp.unk_id() && sp.IdToPiece(id) != piece) return -1;
  return id;
}

}  // namespace ree
