// The hand-written SentencePiece ModelProto codec, checked against
// libsentencepiece itself: a model trained by SentencePieceTrainer decodes to
// the pieces the processor reports, and re-encoding it gives a model that
// tokenizes identically.
#include <doctest/doctest.h>
#include <sentencepiece_processor.h>

#include <string>
#include <vector>

#include "loader/error_check.h"
#include "loader/loader_test_support.h"
#include "runtime/error.h"
#include "runtime/loader/sp_proto.h"
#include "runtime/tokenizer.h"

using namespace ree;

namespace {

sp::PieceType type_reported(const sentencepiece::SentencePieceProcessor& p, int id) {
  if (p.IsUnknown(id)) return sp::PieceType::Unknown;
  if (p.IsControl(id)) return sp::PieceType::Control;
  if (p.IsByte(id)) return sp::PieceType::Byte;
  if (p.IsUnused(id)) return sp::PieceType::Unused;
  // libsentencepiece 0.1.97 has no public IsUserDefined: normal and
  // user-defined pieces look alike here and are told apart by the caller.
  return sp::PieceType::Normal;
}

const std::vector<std::string> kTexts = {
    "hello world", "the quick brown fox jumps over the lazy dog", "  two  spaces ", "café naïve über",
    "日本語のテスト", "<|user|>hi<|end|>", "<tool_call>{\"name\": \"calc\"}</tool_call>", "emoji \xF0\x9F\x98\x80 ok",
    "", "tab\tnewline\n", "1234567890",
};

}  // namespace

TEST_CASE("sp_proto: encode/decode round trip keeps every modelled field") {
  sp::ModelProto m;
  m.pieces = {{"<unk>", 0.0f, sp::PieceType::Unknown},
              {"<s>", 0.0f, sp::PieceType::Control},
              {"\xE2\x96\x81the", -1.5f, sp::PieceType::Normal},
              {"<0x41>", 0.0f, sp::PieceType::Byte},
              {"<|user|>", 0.0f, sp::PieceType::UserDefined},
              {"[PAD5]", -1000.0f, sp::PieceType::Unused}};
  m.trainer_spec.model_type = sp::ModelType::Bpe;
  m.trainer_spec.vocab_size = 6;
  m.trainer_spec.byte_fallback = true;
  m.trainer_spec.treat_whitespace_as_suffix = true;
  m.trainer_spec.allow_whitespace_only_pieces = true;
  m.trainer_spec.unk_id = 0;
  m.trainer_spec.bos_id = 1;
  m.trainer_spec.eos_id = -1;
  m.trainer_spec.pad_id = 5;
  m.trainer_spec.pad_piece = "[PAD5]";
  m.normalizer_spec.name = "identity";
  m.normalizer_spec.precompiled_charsmap = std::string("\x00\x01\xff", 3);
  m.normalizer_spec.add_dummy_prefix = false;
  m.normalizer_spec.remove_extra_whitespaces = false;
  m.normalizer_spec.escape_whitespaces = false;

  const std::string bytes = sp::encode_model_proto(m);
  const sp::ModelProto d = sp::decode_model_proto(bytes, "mem");
  REQUIRE(d.pieces.size() == m.pieces.size());
  for (size_t i = 0; i < m.pieces.size(); ++i) {
    CHECK(d.pieces[i].piece == m.pieces[i].piece);
    CHECK(d.pieces[i].score == m.pieces[i].score);
    CHECK(d.pieces[i].type == m.pieces[i].type);
  }
  CHECK(d.trainer_spec.model_type == sp::ModelType::Bpe);
  CHECK(d.trainer_spec.vocab_size == 6);
  CHECK(d.trainer_spec.byte_fallback);
  CHECK(d.trainer_spec.treat_whitespace_as_suffix);
  CHECK(d.trainer_spec.allow_whitespace_only_pieces);
  CHECK(d.trainer_spec.eos_id == -1);
  CHECK(d.trainer_spec.pad_id == 5);
  CHECK(d.trainer_spec.pad_piece == "[PAD5]");
  CHECK(d.normalizer_spec.name == "identity");
  CHECK(d.normalizer_spec.precompiled_charsmap == m.normalizer_spec.precompiled_charsmap);
  CHECK_FALSE(d.normalizer_spec.add_dummy_prefix);
  CHECK_FALSE(d.normalizer_spec.remove_extra_whitespaces);
  CHECK_FALSE(d.normalizer_spec.escape_whitespaces);
  // Deterministic bytes: the tokenizer digest depends on them.
  CHECK(sp::encode_model_proto(d) == bytes);
}

TEST_CASE("sp_proto: int32 -1 is a ten-byte varint (protobuf's sign extension)") {
  sp::ModelProto m;
  m.trainer_spec.pad_id = -1;
  const std::string bytes = sp::encode_model_proto(m);
  // Field 43, wire type 0: key varint 43 << 3 = 344 = 0xd8 0x02.
  const std::string expected_field = std::string("\xd8\x02", 2) + std::string(9, '\xff') + std::string("\x01", 1);
  CHECK(bytes.find(expected_field) != std::string::npos);
}

TEST_CASE("sp_proto: a model trained by SentencePiece decodes to what the processor reports") {
  const std::string& proto = test::tiny_tokenizer_proto();
  sentencepiece::SentencePieceProcessor processor;
  REQUIRE(processor.LoadFromSerializedProto(proto).ok());
  const sp::ModelProto m = sp::decode_model_proto(proto, "trained");
  REQUIRE(static_cast<int>(m.pieces.size()) == processor.GetPieceSize());
  int user_defined = 0;
  for (int id = 0; id < processor.GetPieceSize(); ++id) {
    const sp::Piece& p = m.pieces[static_cast<size_t>(id)];
    CHECK(p.piece == processor.IdToPiece(id));
    CHECK(p.score == processor.GetScore(id));
    const sp::PieceType reported = type_reported(processor, id);
    if (p.type == sp::PieceType::UserDefined) {
      ++user_defined;
      CHECK(reported == sp::PieceType::Normal);
    } else {
      CHECK(p.type == reported);
    }
  }
  CHECK(user_defined == static_cast<int>(test::kUserSymbols.size()));
  CHECK(m.trainer_spec.model_type == sp::ModelType::Bpe);
  CHECK(m.trainer_spec.byte_fallback);
  CHECK(m.trainer_spec.unk_id == processor.unk_id());
  CHECK(m.trainer_spec.bos_id == processor.bos_id());
  CHECK(m.trainer_spec.eos_id == processor.eos_id());
  CHECK(m.normalizer_spec.name == "identity");
  CHECK_FALSE(m.normalizer_spec.add_dummy_prefix);
  CHECK_FALSE(m.normalizer_spec.remove_extra_whitespaces);

  // Re-encoded (dropping every field ree does not model), it still tokenizes
  // exactly like the original.
  sentencepiece::SentencePieceProcessor again;
  REQUIRE(again.LoadFromSerializedProto(sp::encode_model_proto(m)).ok());
  for (const std::string& text : kTexts) {
    std::vector<int> a, b;
    REQUIRE(processor.Encode(text, &a).ok());
    REQUIRE(again.Encode(text, &b).ok());
    CHECK_MESSAGE(a == b, "text: " << text);
  }
}

TEST_CASE("sp_proto: malformed bytes give ree::Error naming the origin, never a crash") {
  const std::string good = sp::encode_model_proto(sp::decode_model_proto(test::tiny_tokenizer_proto(), "t"));
  SUBCASE("every truncation either decodes or throws ree::Error") {
    int threw = 0;
    for (size_t n = 0; n < good.size(); n += 7) {
      try {
        (void)sp::decode_model_proto(std::string_view(good).substr(0, n), "cut.model");
      } catch (const Error& e) {
        ++threw;
        CHECK(std::string(e.what()).rfind("cut.model: ", 0) == 0);
      }
    }
    CHECK(threw > 0);
  }
  SUBCASE("length past the end") {
    CHECK_FILE_ERROR(sp::decode_model_proto(std::string("\x0a\x10", 2) + "abc", "x.model"), "x.model",
                     "runs past the end");
  }
  SUBCASE("varint longer than ten bytes") {
    CHECK_FILE_ERROR(sp::decode_model_proto(std::string(11, '\xff'), "x.model"), "x.model", "varint");
  }
  SUBCASE("group wire types are rejected") {
    CHECK_FILE_ERROR(sp::decode_model_proto(std::string("\x0b", 1), "x.model"), "x.model", "wire type 3");
  }
  SUBCASE("a piece field with the wrong wire type") {
    CHECK_FILE_ERROR(sp::decode_model_proto(std::string("\x08\x01", 2), "x.model"), "x.model", "wire type");
  }
  SUBCASE("an unknown piece type") {
    // piece { type: 9 }
    CHECK_FILE_ERROR(sp::decode_model_proto(std::string("\x0a\x02\x18\x09", 4), "x.model"), "x.model",
                     "unknown piece type 9");
  }
  SUBCASE("field number 0") {
    CHECK_FILE_ERROR(sp::decode_model_proto(std::string("\x00\x00", 2), "x.model"), "x.model", "field number");
  }
}
