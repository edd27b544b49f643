// GGUF reader: a file laid out by hand from the spec, files from the writer
// in every dtype, and every kind of malformed input (each must give a
// ree::Error naming the file, never a crash or an out-of-bounds read).
#include <doctest/doctest.h>

#include <cmath>
#include <cstdlib>
#include <limits>

#include "gguf_test_support.h"
#include "loader/error_check.h"
#include "runtime/loader/gguf.h"
#include "runtime/loader/gguf_llama.h"
#include "runtime/loader/row_encode.h"

using namespace ree;
using test::Bytes;

namespace {

const char* const kOrigin = "bad.gguf";

std::span<const uint8_t> span_of(const std::vector<uint8_t>& v) { return {v.data(), v.size()}; }

gguf::File parse(const Bytes& b) { return gguf::parse_gguf(span_of(b.data), kOrigin); }

// A small file with every value type, custom alignment and two tensors:
//   w: Q8_0 [3 rows x 32 cols] at data offset 0 (102 bytes)
//   n: F32 [5] at data offset 128 (102 rounded up to the alignment of 64)
Bytes hand_made_file() {
  Bytes b;
  b.header(3, 2, 17);
  b.str("general.architecture").u32(8).str("llama");
  b.str("k.u8").u32(0).u8(200);
  b.str("k.i8").u32(1).u8(0xfe);
  b.str("k.u16").u32(2).u16(65535);
  b.str("k.i16").u32(3).u16(static_cast<uint16_t>(-300));
  b.str("k.u32").u32(4).u32(4000000000u);
  b.str("k.i32").u32(5).u32(static_cast<uint32_t>(-5));
  b.str("k.f32").u32(6).f32(1.5f);
  b.str("k.bool").u32(7).u8(1);
  b.str("k.str").u32(8).str("hi");
  b.str("k.u64").u32(10).u64((uint64_t{1} << 63) + 5);
  b.str("k.i64").u32(11).u64(static_cast<uint64_t>(-7));
  b.str("k.f64").u32(12).f64(0.1);
  b.str("k.arr.str").u32(9).u32(8).u64(2).str("a").str("bc");
  b.str("k.arr.f32").u32(9).u32(6).u64(2).f32(0.5f).f32(-2.0f);
  b.str("k.arr.nested").u32(9).u32(9).u64(2);
  b.u32(4).u64(1).u32(7);  // [uint32 7]
  b.u32(8).u64(0);         // []
  b.str("general.alignment").u32(4).u32(64);
  b.str("w").u32(2).u64(32).u64(3).u32(8).u64(0);
  b.str("n").u32(1).u64(5).u32(0).u64(128);
  b.pad_to(64);
  for (int i = 0; i < 102; ++i) b.u8(static_cast<uint8_t>(i));
  b.pad_to(64);
  for (int i = 0; i < 5; ++i) b.f32(static_cast<float>(i));
  return b;
}

// Header + one metadata key + `tensor` (a tensor info written by the caller).
template <class F>
Bytes file_with_tensor(F&& write_tensor_info, uint64_t data_bytes = 256) {
  Bytes b;
  b.header(3, 1, 1);
  b.str("general.architecture").u32(8).str("llama");
  write_tensor_info(b);
  b.pad_to(32);
  for (uint64_t i = 0; i < data_bytes; ++i) b.u8(0);
  return b;
}

Bytes header_only(uint32_t version, uint64_t n_tensors, uint64_t n_kv) {
  Bytes b;
  b.header(version, n_tensors, n_kv);
  return b;
}

}  // namespace

TEST_CASE("reader: a hand-made file with every value type") {
  const Bytes b = hand_made_file();
  // Also a fuzz seed (fuzz/corpus/fuzz_gguf/); REE_FUZZ_SEED_DIR=dir writes it.
  if (const char* seed_dir = std::getenv("REE_FUZZ_SEED_DIR")) {
    test::write_file(std::filesystem::path(seed_dir) / "every_value_type.gguf", b.data);
  }
  const gguf::File f = parse(b);
  CHECK(f.version == 3);
  CHECK(f.alignment == 64);
  CHECK(f.metadata.size() == 17);
  CHECK(f.metadata[0].first == "general.architecture");  // file order kept
  CHECK(gguf::get_string(f, "general.architecture", kOrigin) == "llama");
  CHECK(gguf::get_int(f, "k.u8", kOrigin) == 200);
  CHECK(gguf::get_int(f, "k.i8", kOrigin) == -2);
  CHECK(gguf::get_int(f, "k.u16", kOrigin) == 65535);
  CHECK(gguf::get_int(f, "k.i16", kOrigin) == -300);
  CHECK(gguf::get_int(f, "k.u32", kOrigin) == 4000000000);
  CHECK(gguf::get_int(f, "k.i32", kOrigin) == -5);
  CHECK(gguf::get_float(f, "k.f32", kOrigin) == 1.5);
  CHECK(gguf::get_bool(f, "k.bool", kOrigin) == true);
  CHECK(gguf::get_string(f, "k.str", kOrigin) == "hi");
  CHECK(gguf::get_int(f, "k.i64", kOrigin) == -7);
  CHECK(gguf::get_float(f, "k.f64", kOrigin) == 0.1);
  CHECK_FILE_ERROR(gguf::get_int(f, "k.u64", kOrigin), kOrigin, "out of range");
  CHECK(static_cast<uint64_t>(f.find("k.u64")->int_value) == (uint64_t{1} << 63) + 5);
  CHECK_FILE_ERROR(gguf::get_int(f, "k.str", kOrigin), kOrigin, "expected an integer");
  CHECK_FALSE(gguf::get_int(f, "absent", kOrigin).has_value());

  const gguf::Value* strs = f.find("k.arr.str");
  REQUIRE(strs != nullptr);
  CHECK(strs->element_type == gguf::ValueType::String);
  CHECK(strs->strings == std::vector<std::string>{"a", "bc"});
  CHECK(f.find("k.arr.f32")->floats == std::vector<double>{0.5, -2.0});
  const gguf::Value* nested = f.find("k.arr.nested");
  REQUIRE(nested->arrays.size() == 2);
  CHECK(nested->arrays[0].element_type == gguf::ValueType::Uint32);
  CHECK(nested->arrays[0].ints == std::vector<int64_t>{7});
  CHECK(nested->arrays[1].element_type == gguf::ValueType::String);
  CHECK(nested->arrays[1].array_size() == 0);

  REQUIRE(f.tensors.size() == 2);
  const gguf::TensorInfo& w = f.tensors[0];
  CHECK(w.name == "w");
  CHECK(w.ne == std::vector<uint64_t>{32, 3});
  CHECK(w.cols() == 32);
  CHECK(w.rows() == 3);
  CHECK(w.type == gguf::TensorType::Q8_0);
  CHECK(w.nbytes == 102);
  CHECK(f.data_offset % 64 == 0);
  CHECK(w.file_offset == f.data_offset);
  CHECK(b.data[w.file_offset + 101] == 101);
  const gguf::TensorInfo& n = *f.find_tensor("n");
  CHECK(n.file_offset == f.data_offset + 128);
  CHECK(n.nbytes == 20);
  float last;
  std::memcpy(&last, b.data.data() + n.file_offset + 16, 4);
  CHECK(last == 4.0f);
}

TEST_CASE("reader: version 2 is read like version 3; others are rejected") {
  Bytes v2 = hand_made_file();
  v2.data[4] = 2;
  CHECK(parse(v2).version == 2);
  CHECK_FILE_ERROR(parse(header_only(1, 0, 0)), kOrigin, "unsupported GGUF version 1");
  CHECK_FILE_ERROR(parse(header_only(4, 0, 0)), kOrigin, "unsupported GGUF version 4");
  CHECK_FILE_ERROR(parse(header_only(0x03000000, 0, 0)), kOrigin, "big-endian");
}

TEST_CASE("reader: malformed headers and metadata") {
  SUBCASE("bad magic") {
    Bytes b = hand_made_file();
    b.data[0] = 'X';
    CHECK_FILE_ERROR(parse(b), kOrigin, "bad magic");
    CHECK_FILE_ERROR(gguf::parse_gguf({}, kOrigin), kOrigin, "bad magic");
  }
  SUBCASE("absurd counts are rejected before allocating") {
    CHECK_FILE_ERROR(parse(header_only(3, 0, uint64_t{1} << 60)), kOrigin, "absurd metadata count");
    CHECK_FILE_ERROR(parse(header_only(3, uint64_t{1} << 60, 0)), kOrigin, "absurd tensor count");
    Bytes arr = header_only(3, 0, 1);
    arr.str("k").u32(9).u32(0).u64(uint64_t{1} << 62);
    CHECK_FILE_ERROR(parse(arr), kOrigin, "absurd metadata k count");
    Bytes strs = header_only(3, 0, 1);
    strs.str("k").u32(9).u32(8).u64(uint64_t{1} << 40);
    CHECK_FILE_ERROR(parse(strs), kOrigin, "absurd");
    Bytes str = header_only(3, 0, 1);
    str.str("k").u32(8).u64(uint64_t{1} << 63);
    CHECK_FILE_ERROR(parse(str), kOrigin, "truncated");
    Bytes key = header_only(3, 0, 1);
    key.u64(~uint64_t{0}).u64(0);  // enough bytes for one key/value, a key length far past them
    CHECK_FILE_ERROR(parse(key), kOrigin, "truncated");
  }
  SUBCASE("unknown value type") {
    Bytes b = header_only(3, 0, 1);
    b.str("k").u32(13).u32(0);
    CHECK_FILE_ERROR(parse(b), kOrigin, "unknown value type 13");
  }
  SUBCASE("bool other than 0/1") {
    Bytes b = header_only(3, 0, 1);
    b.str("k").u32(7).u8(2);
    CHECK_FILE_ERROR(parse(b), kOrigin, "bool");
  }
  SUBCASE("arrays nested too deep") {
    Bytes b = header_only(3, 0, 1);
    b.str("k").u32(9);
    for (int i = 0; i < 20; ++i) b.u32(9).u64(1);
    b.u32(0).u64(0);
    CHECK_FILE_ERROR(parse(b), kOrigin, "nested deeper");
  }
  SUBCASE("duplicate key") {
    Bytes b = header_only(3, 0, 2);
    b.str("k").u32(0).u8(1).str("k").u32(0).u8(2);
    CHECK_FILE_ERROR(parse(b), kOrigin, "duplicate metadata k");
  }
  SUBCASE("bad alignment") {
    Bytes b = header_only(3, 0, 1);
    b.str("general.alignment").u32(4).u32(24);
    CHECK_FILE_ERROR(parse(b), kOrigin, "general.alignment");
    Bytes s = header_only(3, 0, 1);
    s.str("general.alignment").u32(8).str("32");
    CHECK_FILE_ERROR(parse(s), kOrigin, "general.alignment");
  }
}

TEST_CASE("reader: malformed tensor infos") {
  SUBCASE("unsupported tensor type") {
    const Bytes b = file_with_tensor([](Bytes& t) { t.str("blk.0.attn_q.weight").u32(2).u64(32).u64(2).u32(2).u64(0); });
    CHECK_FILE_ERROR(parse(b), kOrigin, "unsupported tensor type 2 for tensor blk.0.attn_q.weight");
  }
  SUBCASE("names from the file are made printable: the message stays one line") {
    const Bytes b = file_with_tensor([](Bytes& t) { t.str("bad\nname").u32(1).u64(32).u32(2).u64(0); });
    CHECK_FILE_ERROR(parse(b), kOrigin, "unsupported tensor type 2 for tensor bad");
    Bytes k = header_only(3, 0, 1);
    k.str("key\nwith newline").u32(13).u32(0);
    CHECK_FILE_ERROR(parse(k), kOrigin, "has unknown value type 13");
  }
  SUBCASE("rank 0 and rank 5") {
    CHECK_FILE_ERROR(parse(file_with_tensor([](Bytes& t) { t.str("x").u32(0).u32(0).u64(0); })), kOrigin,
                     "0 dimensions");
    CHECK_FILE_ERROR(parse(file_with_tensor([](Bytes& t) {
                       t.str("x").u32(5);
                       for (int i = 0; i < 5; ++i) t.u64(1);
                       t.u32(0).u64(0);
                     })),
                     kOrigin, "5 dimensions");
  }
  SUBCASE("empty dimension") {
    CHECK_FILE_ERROR(parse(file_with_tensor([](Bytes& t) { t.str("x").u32(2).u64(4).u64(0).u32(0).u64(0); })),
                     kOrigin, "empty dimension");
  }
  SUBCASE("element count overflows") {
    CHECK_FILE_ERROR(parse(file_with_tensor([](Bytes& t) {
                       t.str("x").u32(2).u64(uint64_t{1} << 40).u64(uint64_t{1} << 40).u32(0).u64(0);
                     })),
                     kOrigin, "absurd number of elements");
    CHECK_FILE_ERROR(parse(file_with_tensor([](Bytes& t) {
                       t.str("x").u32(1).u64(uint64_t{1} << 62).u32(0).u64(0);
                     })),
                     kOrigin, "absurd size");
  }
  SUBCASE("Q8_0 row not a whole number of blocks") {
    CHECK_FILE_ERROR(parse(file_with_tensor([](Bytes& t) { t.str("x").u32(2).u64(33).u64(1).u32(8).u64(0); })),
                     kOrigin, "not a multiple of the Q8_0 block size");
  }
  SUBCASE("offset not aligned") {
    CHECK_FILE_ERROR(parse(file_with_tensor([](Bytes& t) { t.str("x").u32(1).u64(4).u32(0).u64(8); })), kOrigin,
                     "not a multiple of the alignment 32");
  }
  SUBCASE("data outside the file") {
    CHECK_FILE_ERROR(parse(file_with_tensor([](Bytes& t) { t.str("x").u32(1).u64(65).u32(0).u64(0); })), kOrigin,
                     "outside the file");
    CHECK_FILE_ERROR(parse(file_with_tensor([](Bytes& t) { t.str("x").u32(1).u64(4).u32(0).u64(~uint64_t{31}); })),
                     kOrigin, "outside the file");
  }
  SUBCASE("duplicate tensor name") {
    Bytes b;
    b.header(3, 2, 0);
    b.str("x").u32(1).u64(4).u32(0).u64(0);
    b.str("x").u32(1).u64(4).u32(0).u64(32);
    b.pad_to(32);
    for (int i = 0; i < 64; ++i) b.u8(0);
    CHECK_FILE_ERROR(parse(b), kOrigin, "duplicate tensor x");
  }
}

TEST_CASE("reader: every truncation of a real file is an error naming the file") {
  const gguf::LlamaGgufSpec spec = test::test_spec(kernels::DType::Q8_0);
  const std::vector<uint8_t> bytes = gguf::llama_gguf_bytes(spec, test::synth_source(spec.config, 1), nullptr);
  const gguf::File whole = gguf::parse_gguf(span_of(bytes), kOrigin);
  uint64_t end_of_data = 0;
  for (const gguf::TensorInfo& t : whole.tensors) end_of_data = std::max(end_of_data, t.file_offset + t.nbytes);
  int cuts = 0;
  const auto check_cut = [&](size_t n) {
    ++cuts;
    CHECK_FILE_ERROR(gguf::parse_gguf(std::span<const uint8_t>(bytes.data(), n), kOrigin), kOrigin, "");
  };
  for (size_t n = 0; n < 512; ++n) check_cut(n);
  for (size_t n = 512; n < whole.data_offset; n += 61) check_cut(n);
  for (size_t n = whole.data_offset; n < end_of_data; n += 997) check_cut(n);
  check_cut(static_cast<size_t>(end_of_data - 1));
  CHECK(cuts > 600);
  // Only the last tensor's alignment padding may go.
  CHECK_NOTHROW(gguf::parse_gguf(std::span<const uint8_t>(bytes.data(), static_cast<size_t>(end_of_data)), kOrigin));
}

TEST_CASE("writer -> reader: every dtype, metadata and tensor bytes") {
  for (const kernels::DType dtype :
       {kernels::DType::F32, kernels::DType::F16, kernels::DType::BF16, kernels::DType::Q8_0}) {
    CAPTURE(kernels::dtype_name(dtype));
    const gguf::LlamaGgufSpec spec = test::test_spec(dtype);
    const ModelConfig& c = spec.config;
    const gguf::F32RowSource source = test::synth_source(c, 7);
    const std::vector<uint8_t> bytes = gguf::llama_gguf_bytes(spec, source, nullptr);
    const gguf::File f = gguf::parse_gguf(span_of(bytes), kOrigin);
    CHECK(f.version == 3);
    CHECK(gguf::get_string(f, "general.architecture", kOrigin) == "llama");
    CHECK(gguf::get_int(f, "llama.block_count", kOrigin) == c.n_layers);
    CHECK(gguf::get_int(f, "llama.embedding_length", kOrigin) == c.dim);
    CHECK(gguf::get_int(f, "llama.feed_forward_length", kOrigin) == c.hidden_dim);
    CHECK(gguf::get_int(f, "llama.attention.head_count", kOrigin) == c.n_heads);
    CHECK(gguf::get_int(f, "llama.attention.head_count_kv", kOrigin) == c.n_kv_heads);
    CHECK(gguf::get_int(f, "llama.context_length", kOrigin) == c.max_seq_len);
    CHECK(gguf::get_float(f, "llama.attention.layer_norm_rms_epsilon", kOrigin) == static_cast<double>(1e-5f));
    CHECK(gguf::get_float(f, "llama.rope.freq_base", kOrigin) == 10000.0);
    CHECK(f.find("tokenizer.ggml.tokens")->strings.size() == static_cast<size_t>(c.vocab_size));
    CHECK(f.find("tokenizer.ggml.scores")->floats.size() == static_cast<size_t>(c.vocab_size));
    CHECK(f.find("tokenizer.ggml.token_type")->ints.size() == static_cast<size_t>(c.vocab_size));
    CHECK(f.tensors.size() == static_cast<size_t>(2 + 9 * c.n_layers + 1));  // untied: + output.weight

    const gguf::TensorInfo& embd = *f.find_tensor("token_embd.weight");
    CHECK(embd.ne == std::vector<uint64_t>{static_cast<uint64_t>(c.dim), static_cast<uint64_t>(c.vocab_size)});
    CHECK(f.find_tensor("blk.0.attn_norm.weight")->type == gguf::TensorType::F32);
    CHECK(f.find_tensor("blk.1.ffn_down.weight")->ne ==
          std::vector<uint64_t>{static_cast<uint64_t>(c.hidden_dim), static_cast<uint64_t>(c.dim)});
    for (const gguf::TensorInfo& t : f.tensors) CHECK(t.file_offset % 32 == 0);

    // A plain tensor holds the encoded source rows; attn_k holds them permuted.
    const uint64_t row_bytes = encoded_row_bytes(dtype, c.dim);
    std::vector<float> rows(static_cast<size_t>(c.hidden_dim * c.dim));
    std::vector<uint8_t> encoded(row_bytes);
    source("model.layers.1.mlp.up_proj.weight", 0, c.hidden_dim, rows.data());
    const gguf::TensorInfo& up = *f.find_tensor("blk.1.ffn_up.weight");
    for (int64_t r = 0; r < c.hidden_dim; ++r) {
      encode_row(dtype, rows.data() + r * c.dim, c.dim, encoded.data());
      CHECK(std::memcmp(bytes.data() + up.file_offset + r * row_bytes, encoded.data(), row_bytes) == 0);
    }
    const int64_t k_rows = int64_t{c.n_kv_heads} * c.head_dim;
    source("model.layers.0.self_attn.k_proj.weight", 0, k_rows, rows.data());
    const gguf::TensorInfo& k = *f.find_tensor("blk.0.attn_k.weight");
    for (int64_t g = 0; g < k_rows; ++g) {
      encode_row(dtype, rows.data() + gguf::hf_row_of_gguf_row(g, c.head_dim) * c.dim, c.dim, encoded.data());
      CHECK(std::memcmp(bytes.data() + k.file_offset + g * row_bytes, encoded.data(), row_bytes) == 0);
    }
  }
}

TEST_CASE("writer -> reader: every value type, nested arrays and a custom alignment") {
  gguf::Metadata m;
  const auto scalar = [](gguf::ValueType t, int64_t i) {
    gguf::Value v;
    v.type = t;
    v.int_value = i;
    return v;
  };
  m.emplace_back("u8", scalar(gguf::ValueType::Uint8, 255));
  m.emplace_back("i8", scalar(gguf::ValueType::Int8, -128));
  m.emplace_back("u16", scalar(gguf::ValueType::Uint16, 65535));
  m.emplace_back("i16", scalar(gguf::ValueType::Int16, -32768));
  m.emplace_back("u32", gguf::uint32_value(4294967295u));
  m.emplace_back("i32", gguf::int32_value(std::numeric_limits<int32_t>::min()));
  m.emplace_back("u64", scalar(gguf::ValueType::Uint64, -1));
  m.emplace_back("i64", scalar(gguf::ValueType::Int64, std::numeric_limits<int64_t>::min()));
  m.emplace_back("f32", gguf::float32_value(-0.0f));
  gguf::Value f64;
  f64.type = gguf::ValueType::Float64;
  f64.float_value = 1e300;
  m.emplace_back("f64", f64);
  m.emplace_back("bool", gguf::bool_value(true));
  m.emplace_back("str", gguf::string_value(std::string("a\0b", 3)));
  gguf::Value nested;
  nested.type = gguf::ValueType::Array;
  nested.element_type = gguf::ValueType::Array;
  nested.arrays = {gguf::int32_array({1, -2}), gguf::string_array({"x"}), gguf::float32_array({})};
  m.emplace_back("nested", nested);
  const std::vector<gguf::TensorPlan> plan = {{"a", {3}, gguf::TensorType::F32}, {"b", {2, 2}, gguf::TensorType::F16}};
  const std::vector<uint8_t> bytes = gguf::gguf_bytes(
      m, plan, [](size_t i, std::span<uint8_t> dst) { std::fill(dst.begin(), dst.end(), static_cast<uint8_t>(i + 1)); },
      128);
  const gguf::File f = gguf::parse_gguf(span_of(bytes), kOrigin);
  CHECK(f.alignment == 128);
  CHECK(f.find("u8")->int_value == 255);
  CHECK(f.find("i8")->int_value == -128);
  CHECK(f.find("u16")->int_value == 65535);
  CHECK(f.find("i16")->int_value == -32768);
  CHECK(f.find("u32")->int_value == 4294967295);
  CHECK(f.find("i32")->int_value == std::numeric_limits<int32_t>::min());
  CHECK(f.find("u64")->int_value == -1);  // 2^64-1 as its bit pattern
  CHECK(f.find("i64")->int_value == std::numeric_limits<int64_t>::min());
  CHECK(std::signbit(f.find("f32")->float_value));
  CHECK(f.find("f64")->float_value == 1e300);
  CHECK(f.find("bool")->int_value == 1);
  CHECK(f.find("str")->string_value == std::string("a\0b", 3));
  const gguf::Value& n = *f.find("nested");
  REQUIRE(n.arrays.size() == 3);
  CHECK(n.arrays[0].ints == std::vector<int64_t>{1, -2});
  CHECK(n.arrays[1].strings == std::vector<std::string>{"x"});
  CHECK(n.arrays[2].element_type == gguf::ValueType::Float32);
  CHECK(f.tensors[1].file_offset % 128 == 0);
  CHECK(bytes[f.tensors[1].file_offset] == 2);
  CHECK(bytes[f.tensors[0].file_offset + 11] == 1);
}
