// Hand-written protobuf wire format for SentencePiece's ModelProto
// (sp_proto.h says why). Wire format: each field is a varint key
// (field_number << 3 | wire_type) followed by a varint (type 0), 8 bytes
// (type 1), a varint length and that many bytes (type 2), or 4 bytes (type 5).
#include "runtime/loader/sp_proto.h"

#include <cstring>

#include "runtime/error.h"

namespace ree::sp {
namespace {

enum WireType : uint32_t { kVarint = 0, kFixed64 = 1, kLengthDelimited = 2, kFixed32 = 5 };

// ---- encoding ---------------------------------------------------------------

void put_varint(std::string& out, uint64_t value) {
  while (value >= 0x80) {
    out.push_back(static_cast<char>((value & 0x7f) | 0x80));
    value >>= 7;
  }
  out.push_back(static_cast<char>(value));
}

void put_key(std::string& out, uint32_t field, WireType wire) {
  put_varint(out, (static_cast<uint64_t>(field) << 3) | wire);
}

// int32 fields are sign-extended to 64 bits on the wire (protobuf rule), so
// -1 takes ten bytes.
void put_int32(std::string& out, uint32_t field, int32_t value) {
  put_key(out, field, kVarint);
  put_varint(out, static_cast<uint64_t>(static_cast<int64_t>(value)));
}

void put_bool(std::string& out, uint32_t field, bool value) {
  put_key(out, field, kVarint);
  put_varint(out, value ? 1 : 0);
}

void put_float(std::string& out, uint32_t field, float value) {
  put_key(out, field, kFixed32);
  uint32_t bits;
  std::memcpy(&bits, &value, 4);
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((bits >> (8 * i)) & 0xff));
}

void put_bytes(std::string& out, uint32_t field, std::string_view bytes) {
  put_key(out, field, kLengthDelimited);
  put_varint(out, bytes.size());
  out.append(bytes);
}

std::string encode_piece(const Piece& p) {
  std::string out;
  put_bytes(out, 1, p.piece);
  put_float(out, 2, p.score);
  put_int32(out, 3, static_cast<int32_t>(p.type));
  return out;
}

std::string encode_trainer_spec(const TrainerSpec& t) {
  std::string out;
  put_int32(out, 3, static_cast<int32_t>(t.model_type));
  put_int32(out, 4, t.vocab_size);
  put_bool(out, 24, t.treat_whitespace_as_suffix);
  put_bool(out, 26, t.allow_whitespace_only_pieces);
  put_bool(out, 35, t.byte_fallback);
  put_int32(out, 40, t.unk_id);
  put_int32(out, 41, t.bos_id);
  put_int32(out, 42, t.eos_id);
  put_int32(out, 43, t.pad_id);
  put_bytes(out, 45, t.unk_piece);
  put_bytes(out, 46, t.bos_piece);
  put_bytes(out, 47, t.eos_piece);
  put_bytes(out, 48, t.pad_piece);
  return out;
}

std::string encode_normalizer_spec(const NormalizerSpec& n) {
  std::string out;
  put_bytes(out, 1, n.name);
  put_bytes(out, 2, n.precompiled_charsmap);
  put_bool(out, 3, n.add_dummy_prefix);
  put_bool(out, 4, n.remove_extra_whitespaces);
  put_bool(out, 5, n.escape_whitespaces);
  return out;
}

// ---- decoding ---------------------------------------------------------------

// One field as read from the wire: its number, wire type and payload.
struct Field {
  uint32_t number = 0;
  WireType wire = kVarint;
  uint64_t varint = 0;       // kVarint, and the raw bits of kFixed32/kFixed64
  std::string_view bytes;    // kLengthDelimited
};

class Reader {
 public:
  Reader(std::string_view bytes, const std::string& origin, const char* message)
      : bytes_(bytes), origin_(origin), message_(message) {}

  bool done() const { return pos_ == bytes_.size(); }

  Field next() {
    Field f;
    const uint64_t key = varint();
    const uint64_t number = key >> 3;
    if (number == 0 || number > 0x1fffffff) fail("invalid field number " + std::to_string(number));
    f.number = static_cast<uint32_t>(number);
    const uint32_t wire = static_cast<uint32_t>(key & 7);
    switch (wire) {
      case kVarint:
        f.varint = varint();
        break;
      case kFixed64:
        f.varint = fixed(8);
        break;
      case kFixed32:
        f.varint = fixed(4);
        break;
      case kLengthDelimited: {
        const uint64_t len = varint();
        if (len > bytes_.size() - pos_) fail("field " + std::to_string(number) + " runs past the end");
        f.bytes = bytes_.substr(pos_, static_cast<size_t>(len));
        pos_ += static_cast<size_t>(len);
        break;
      }
      default:  // 3/4 are deprecated groups, 6/7 do not exist
        fail("unsupported wire type " + std::to_string(wire) + " in field " + std::to_string(number));
    }
    f.wire = static_cast<WireType>(wire);
    return f;
  }

  [[noreturn]] void fail(const std::string& what) const {
    throw file_error(origin_, std::string("malformed SentencePiece model: ") + message_ + ": " + what);
  }

  void expect(const Field& f, WireType wire) const {
    if (f.wire != wire) {
      fail("field " + std::to_string(f.number) + " has wire type " + std::to_string(f.wire) +
           ", expected " + std::to_string(wire));
    }
  }

  int32_t as_int32(const Field& f) const {
    expect(f, kVarint);
    return static_cast<int32_t>(static_cast<uint32_t>(f.varint));  // protobuf truncates
  }
  bool as_bool(const Field& f) const {
    expect(f, kVarint);
    return f.varint != 0;
  }
  float as_float(const Field& f) const {
    expect(f, kFixed32);
    const uint32_t bits = static_cast<uint32_t>(f.varint);
    float value;
    std::memcpy(&value, &bits, 4);
    return value;
  }
  std::string as_string(const Field& f) const {
    expect(f, kLengthDelimited);
    return std::string(f.bytes);
  }

 private:
  uint64_t varint() {
    uint64_t value = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ >= bytes_.size()) fail("truncated varint");
      const uint8_t byte = static_cast<uint8_t>(bytes_[pos_++]);
      value |= static_cast<uint64_t>(byte & 0x7f) << shift;
      if ((byte & 0x80) == 0) return value;
    }
    fail("varint longer than 10 bytes");
  }

  uint64_t fixed(size_t n) {
    if (n > bytes_.size() - pos_) fail("truncated fixed-width field");
    uint64_t value = 0;
    for (size_t i = 0; i < n; ++i) value |= static_cast<uint64_t>(static_cast<uint8_t>(bytes_[pos_ + i])) << (8 * i);
    pos_ += n;
    return value;
  }

  std::string_view bytes_;
  size_t pos_ = 0;
  const std::string& origin_;
  const char* message_;
};

Piece decode_piece(std::string_view bytes, const std::string& origin) {
  Reader r(bytes, origin, "piece");
  Piece p;
  while (!r.done()) {
    const Field f = r.next();
    switch (f.number) {
      case 1: p.piece = r.as_string(f); break;
      case 2: p.score = r.as_float(f); break;
      case 3: {
        const int32_t type = r.as_int32(f);
        if (!is_valid_piece_type(type)) r.fail("unknown piece type " + std::to_string(type));
        p.type = static_cast<PieceType>(type);
        break;
      }
      default: break;  // extensions and fields ree does not use
    }
  }
  return p;
}

TrainerSpec decode_trainer_spec(std::string_view bytes, const std::string& origin, TrainerSpec t) {
  Reader r(bytes, origin, "trainer_spec");
  while (!r.done()) {
    const Field f = r.next();
    switch (f.number) {
      case 3: {
        const int32_t type = r.as_int32(f);
        if (type < 1 || type > 4) r.fail("unknown model_type " + std::to_string(type));
        t.model_type = static_cast<ModelType>(type);
        break;
      }
      case 4: t.vocab_size = r.as_int32(f); break;
      case 24: t.treat_whitespace_as_suffix = r.as_bool(f); break;
      case 26: t.allow_whitespace_only_pieces = r.as_bool(f); break;
      case 35: t.byte_fallback = r.as_bool(f); break;
      case 40: t.unk_id = r.as_int32(f); break;
      case 41: t.bos_id = r.as_int32(f); break;
      case 42: t.eos_id = r.as_int32(f); break;
      case 43: t.pad_id = r.as_int32(f); break;
      case 45: t.unk_piece = r.as_string(f); break;
      case 46: t.bos_piece = r.as_string(f); break;
      case 47: t.eos_piece = r.as_string(f); break;
      case 48: t.pad_piece = r.as_string(f); break;
      default: break;
    }
  }
  return t;
}

NormalizerSpec decode_normalizer_spec(std::string_view bytes, const std::string& origin,
                                      NormalizerSpec n) {
  Reader r(bytes, origin, "normalizer_spec");
  while (!r.done()) {
    const Field f = r.next();
    switch (f.number) {
      case 1: n.name = r.as_string(f); break;
      case 2: n.precompiled_charsmap = r.as_string(f); break;
      case 3: n.add_dummy_prefix = r.as_bool(f); break;
      case 4: n.remove_extra_whitespaces = r.as_bool(f); break;
      case 5: n.escape_whitespaces = r.as_bool(f); break;
      default: break;
    }
  }
  return n;
}

}  // namespace

bool is_valid_piece_type(int64_t value) { return value >= 1 && value <= 6; }

std::string encode_model_proto(const ModelProto& model) {
  std::string out;
  for (const Piece& p : model.pieces) put_bytes(out, 1, encode_piece(p));
  put_bytes(out, 2, encode_trainer_spec(model.trainer_spec));
  put_bytes(out, 3, encode_normalizer_spec(model.normalizer_spec));
  return out;
}

ModelProto decode_model_proto(std::string_view bytes, const std::string& origin) {
  Reader r(bytes, origin, "ModelProto");
  ModelProto model;
  while (!r.done()) {
    const Field f = r.next();
    switch (f.number) {
      case 1:
        r.expect(f, kLengthDelimited);
        model.pieces.push_back(decode_piece(f.bytes, origin));
        break;
      case 2:  // a repeated sub-message merges into the previous one (protobuf rule)
        r.expect(f, kLengthDelimited);
        model.trainer_spec = decode_trainer_spec(f.bytes, origin, model.trainer_spec);
        break;
      case 3:
        r.expect(f, kLengthDelimited);
        model.normalizer_spec = decode_normalizer_spec(f.bytes, origin, model.normalizer_spec);
        break;
      default: break;  // self_test_data, denormalizer_spec, extensions
    }
  }
  return model;
}

}  // namespace ree::sp
