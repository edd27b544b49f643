#pragma once
// SentencePiece's ModelProto (sentencepiece_model.proto) in protobuf wire
// format, encoded and decoded by hand: libsentencepiece-dev ships no
// sentencepiece_model.pb.h and ree must not link libprotobuf.
//
// Only the fields ree needs are modelled (field numbers in the comments are
// the .proto's). decode_model_proto() skips every other field, so real
// tokenizer.model files parse; encode_model_proto() writes every modelled
// field explicitly, defaults included, in field-number order, so the same
// ModelProto always gives the same bytes (the tokenizer digest depends on it).
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ree::sp {

// ModelProto.SentencePiece.Type. GGUF's tokenizer.ggml.token_type uses the
// same numbers.
enum class PieceType : int32_t {
  Normal = 1,
  Unknown = 2,
  Control = 3,
  UserDefined = 4,
  Unused = 5,
  Byte = 6,
};
bool is_valid_piece_type(int64_t value);

// TrainerSpec.ModelType.
enum class ModelType : int32_t { Unigram = 1, Bpe = 2, Word = 3, Char = 4 };

struct Piece {
  std::string piece;                 // 1; never empty in a valid model
  float score = 0.0f;                // 2
  PieceType type = PieceType::Normal;  // 3
};

// Defaults are the .proto's defaults, so a decoded message with a field
// absent holds what libsentencepiece would assume.
struct TrainerSpec {
  ModelType model_type = ModelType::Unigram;  // 3
  int32_t vocab_size = 8000;                  // 4
  bool treat_whitespace_as_suffix = false;    // 24 (changes how text is split)
  bool allow_whitespace_only_pieces = false;  // 26 (changes how text is split)
  bool byte_fallback = false;                 // 35
  int32_t unk_id = 0;                         // 40
  int32_t bos_id = 1;                         // 41
  int32_t eos_id = 2;                         // 42
  int32_t pad_id = -1;                        // 43
  // SentencePieceProcessor::bos_id() etc. look these pieces up by text, so
  // they must name the pieces at the ids above.
  std::string unk_piece = "<unk>";  // 45
  std::string bos_piece = "<s>";    // 46
  std::string eos_piece = "</s>";   // 47
  std::string pad_piece = "<pad>";  // 48
};

struct NormalizerSpec {
  std::string name;                      // 1 ("identity": no normalisation)
  std::string precompiled_charsmap;      // 2 (bytes)
  bool add_dummy_prefix = true;          // 3
  bool remove_extra_whitespaces = true;  // 4
  bool escape_whitespaces = true;        // 5
};

struct ModelProto {
  std::vector<Piece> pieces;        // 1
  TrainerSpec trainer_spec;         // 2
  NormalizerSpec normalizer_spec;   // 3
};

std::string encode_model_proto(const ModelProto& model);

// Throws ree::Error("ORIGIN: malformed SentencePiece model: ...") on bytes
// that are not a well-formed message; unknown fields are skipped.
ModelProto decode_model_proto(std::string_view bytes, const std::string& origin);

}  // namespace ree::sp
