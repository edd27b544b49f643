// Tokenizer: loading, digest, user-defined symbols, piece_text.
#include <doctest/doctest.h>

#include "error_check.h"
#include "loader_test_support.h"
#include "runtime/tokenizer.h"
#include "test_util.h"

using namespace ree;

TEST_CASE("tokenizer: loads from a file and its digest is BLAKE2b-256 of the proto") {
  test::TempDir dir;
  const std::string& proto = test::tiny_tokenizer_proto();
  test::write_text(dir / "tokenizer.model", proto);
  const Tokenizer t = Tokenizer::from_file((dir / "tokenizer.model").string());
  CHECK(t.vocab_size() >= 266);  // 3 specials + 7 symbols + 256 bytes, plus merges
  CHECK(t.vocab_size() <= 320);
  CHECK(t.serialized_proto() == proto);
  CHECK(t.digest() == test::blake2b_hex(proto.data(), proto.size()));
  CHECK(t.digest().size() == 64);
  const Tokenizer same = Tokenizer::from_serialized_proto(proto, "mem");
  CHECK(same.digest() == t.digest());
}

TEST_CASE("tokenizer: chat markers are single tokens and text round-trips") {
  const Tokenizer t = Tokenizer::from_serialized_proto(test::tiny_tokenizer_proto(), "mem");
  for (const std::string& symbol : test::kUserSymbols) {
    const int32_t id = t.piece_to_id(symbol);
    REQUIRE(id >= 0);
    const std::vector<int32_t> ids = t.encode(symbol);
    REQUIRE(ids.size() == 1);
    CHECK(ids[0] == id);
    CHECK(t.piece_text(id) == symbol);
  }
  const std::string text = "<|user|>hello world, café 日本語 \x7f!<|end|>";
  const std::vector<int32_t> ids = t.encode(text);
  CHECK(ids.front() == t.piece_to_id("<|user|>"));
  CHECK(ids.back() == t.piece_to_id("<|end|>"));
  CHECK(t.decode(ids) == text);
  // piece_text concatenated gives the text back (identity normaliser, no
  // dummy prefix): spaces from "▁", bytes from <0xNN> pieces.
  std::string joined;
  for (const int32_t id : ids) joined += t.piece_text(id);
  CHECK(joined == text);
}

TEST_CASE("tokenizer: piece_text of byte, control and space pieces") {
  const Tokenizer t = Tokenizer::from_serialized_proto(test::tiny_tokenizer_proto(), "mem");
  const int32_t byte_a = t.piece_to_id("<0x41>");
  REQUIRE(byte_a >= 0);
  CHECK(t.piece_text(byte_a) == "A");
  const int32_t byte_ff = t.piece_to_id("<0xFF>");
  REQUIRE(byte_ff >= 0);
  CHECK(t.piece_text(byte_ff) == std::string(1, '\xff'));
  CHECK(t.piece_text(t.bos_id()).empty());
  CHECK(t.piece_text(t.eos_id()).empty());
  CHECK(t.piece(t.bos_id()) == "<s>");
  bool found_space_piece = false;
  for (int32_t id = 0; id < t.vocab_size(); ++id) {
    const std::string piece = t.piece(id);
    if (piece.rfind("\xE2\x96\x81", 0) == 0 && piece.size() > 3) {
      std::string expected(1, ' ');  // (not " " + ...: GCC 12 -Wrestrict false positive)
      expected.append(piece, 3);
      CHECK(t.piece_text(id) == expected);
      found_space_piece = true;
    }
  }
  CHECK(found_space_piece);
  CHECK(t.piece_to_id("no-such-piece") == -1);
  CHECK(t.piece_to_id("<unk>") == 0);
}

TEST_CASE("tokenizer: ids outside the vocabulary are errors, not crashes") {
  const Tokenizer t = Tokenizer::from_serialized_proto(test::tiny_tokenizer_proto(), "mem");
  CHECK_THROWS_AS(t.piece(-1), ree::Error);
  CHECK_THROWS_AS(t.piece_text(t.vocab_size()), ree::Error);
  CHECK_THROWS_AS(t.decode({1, 5, 100000}), ree::Error);
  const Tokenizer empty;
  CHECK_THROWS(empty.encode("x"));
}

TEST_CASE("tokenizer: unreadable or missing files") {
  test::TempDir dir;
  const auto path = dir / "tokenizer.model";
  test::write_text(path, "this is not a protobuf \xff\xff\xff");
  CHECK_FILE_ERROR(Tokenizer::from_file(path.string()), path.string(), "unreadable tokenizer");
  test::write_text(path, "");
  CHECK_FILE_ERROR(Tokenizer::from_file(path.string()), path.string(), "unreadable tokenizer");
  const auto missing = dir / "absent.model";
  CHECK_FILE_ERROR(Tokenizer::from_file(missing.string()), missing.string(), "unreadable tokenizer: cannot open");
}
