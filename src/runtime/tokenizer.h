#pragma once
// SentencePiece tokenizer (libsentencepiece), loaded from tokenizer.model or
// built from GGUF metadata. Special tokens of chat templates are
// user-defined pieces, so encode() maps them to single ids.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace sentencepiece {
class SentencePieceProcessor;
}

namespace ree {

class Tokenizer {
 public:
  Tokenizer();
  ~Tokenizer();
  Tokenizer(Tokenizer&&) noexcept;
  Tokenizer& operator=(Tokenizer&&) noexcept;

  // `origin` names the file in error messages.
  static Tokenizer from_serialized_proto(std::string proto, const std::string& origin);
  static Tokenizer from_file(const std::string& path);

  std::vector<int32_t> encode(std::string_view text) const;  // no BOS/EOS added
  std::string decode(const std::vector<int32_t>& ids) const;
  std::string piece_text(int32_t id) const;  // the text one token adds ("▁" as space, bytes decoded)
  std::string piece(int32_t id) const;       // raw piece
  int32_t piece_to_id(std::string_view piece) const;  // -1 when absent
  int vocab_size() const;
  int32_t bos_id() const;
  int32_t eos_id() const;
  const std::string& serialized_proto() const { return proto_; }
  const std::string& digest() const { return digest_; }  // hex BLAKE2b-256 of the proto

 private:
  std::unique_ptr<sentencepiece::SentencePieceProcessor> sp_;
  std::string proto_;
  std::string digest_;
};

}  // namespace ree
