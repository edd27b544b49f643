// build_model(): checks against the config, packing, norms, identity.
#include <doctest/doctest.h>

#include <sodium.h>

#include <cstring>
#include <numeric>

#include "error_check.h"
#include "kernels/thread_pool.h"
#include "loader_test_support.h"
#include "runtime/loader/model_builder.h"
#include "runtime/loader/progress.h"

using namespace ree;

namespace {

const std::string kOrigin = "test-source";

TensorSource source_from(const std::vector<test::TestTensor>& tensors) {
  TensorSource source;
  source.origin = kOrigin;
  for (const test::TestTensor& t : tensors) {
    SourceTensor s;
    s.view.dtype = t.dtype;
    s.rank = static_cast<int>(t.shape.size());
    s.view.rows = s.rank == 2 ? t.shape[0] : 1;
    s.view.cols = t.shape.back();
    s.view.data = t.bytes.data();
    s.nbytes = t.bytes.size();
    s.file = "file-of-" + t.name;
    source.tensors[t.name] = s;
  }
  return source;
}

Tokenizer tokenizer() { return Tokenizer::from_serialized_proto(test::tiny_tokenizer_proto(), "mem"); }

// The digest exactly as model_builder.h documents it, computed here one
// tensor after another, straight from the bytes in canonical order.
std::string documented_digest(const std::vector<test::TestTensor>& canonical) {
  REQUIRE(sodium_init() >= 0);
  const auto le64 = [](crypto_generichash_state* s, uint64_t v) {
    unsigned char b[8];
    for (int i = 0; i < 8; ++i) b[i] = static_cast<unsigned char>(v >> (8 * i));
    crypto_generichash_update(s, b, 8);
  };
  const auto text = [&](crypto_generichash_state* s, const std::string& t) {
    le64(s, t.size());
    crypto_generichash_update(s, reinterpret_cast<const unsigned char*>(t.data()), t.size());
  };
  std::vector<unsigned char> list;
  for (const test::TestTensor& t : canonical) {
    crypto_generichash_state s;
    crypto_generichash_init(&s, nullptr, 0, 32);
    text(&s, t.name);
    text(&s, t.dtype == kernels::DType::F32 ? "F32" : t.dtype == kernels::DType::F16 ? "F16" : "BF16");
    le64(&s, t.shape.size());
    for (const int64_t d : t.shape) le64(&s, static_cast<uint64_t>(d));
    crypto_generichash_update(&s, t.bytes.data(), t.bytes.size());
    unsigned char d[32];
    crypto_generichash_final(&s, d, 32);
    list.insert(list.end(), d, d + 32);
  }
  crypto_generichash_state s;
  crypto_generichash_init(&s, nullptr, 0, 32);
  crypto_generichash_update(&s, reinterpret_cast<const unsigned char*>("ree-weights-v1"), 14);
  le64(&s, canonical.size());
  crypto_generichash_update(&s, list.data(), list.size());
  unsigned char d[32];
  crypto_generichash_final(&s, d, 32);
  char hex[65];
  for (int i = 0; i < 32; ++i) std::snprintf(hex + 2 * i, 3, "%02x", d[i]);
  return std::string(hex, 64);
}

bool same_packed(const kernels::PackedMatrix& a, const kernels::PackedMatrix& b) {
  return a.dtype == b.dtype && a.rows == b.rows && a.cols == b.cols && a.nbytes == b.nbytes &&
         std::memcmp(a.data.get(), b.data.get(), a.nbytes) == 0;
}

}  // namespace

TEST_CASE("build_model: identity digests follow the documented definition") {
  const ModelConfig config = test::tiny_config();
  for (const kernels::DType dtype : {kernels::DType::F32, kernels::DType::BF16, kernels::DType::F16}) {
    const std::vector<test::TestTensor> tensors = test::tiny_tensors(config, dtype, 42);
    const Model model = build_model(config, source_from(tensors), tokenizer());
    CHECK(model.identity.weights_digest == documented_digest(tensors));
    const std::string& proto = test::tiny_tokenizer_proto();
    CHECK(model.identity.tokenizer_digest == test::blake2b_hex(proto.data(), proto.size()));
    CHECK(model.weights.dtype == dtype);
  }
  // The dtype is part of the identity: same values, other dtype, other digest.
  const auto f32 = test::tiny_tensors(config, kernels::DType::F32, 42);
  const auto bf16 = test::tiny_tensors(config, kernels::DType::BF16, 42);
  CHECK(documented_digest(f32) != documented_digest(bf16));
}

TEST_CASE("build_model: the digest does not depend on threads, and changes with any byte") {
  const ModelConfig config = test::tiny_config();
  std::vector<test::TestTensor> tensors = test::tiny_tensors(config, kernels::DType::BF16, 7);
  ThreadPool pool(2);
  const TensorSource source = source_from(tensors);
  const std::string single = compute_weights_digest(config, source, BuildOptions{});
  const std::string pooled = compute_weights_digest(config, source, BuildOptions{&pool});
  CHECK(single == pooled);
  tensors[5].bytes[17] ^= 1;
  CHECK(compute_weights_digest(config, source_from(tensors), BuildOptions{&pool}) != pooled);
}

TEST_CASE("build_model: row-permuted sources give the un-permuted digest and packing") {
  const ModelConfig config = test::tiny_config();
  const std::vector<test::TestTensor> tensors = test::tiny_tensors(config, kernels::DType::F16, 3);
  const Model plain = build_model(config, source_from(tensors), tokenizer());

  // Store q_proj and k_proj of layer 1 with their rows shuffled, as GGUF
  // does, and say where each Hugging Face row went.
  std::vector<test::TestTensor> shuffled = tensors;
  TensorSource source = source_from(shuffled);
  std::vector<std::vector<uint8_t>> stored;
  for (const char* name : {"model.layers.1.self_attn.q_proj.weight", "model.layers.1.self_attn.k_proj.weight"}) {
    SourceTensor& t = source.tensors.at(name);
    const size_t rows = static_cast<size_t>(t.view.rows), row_bytes = t.nbytes / rows;
    std::vector<int32_t> order(rows);
    for (size_t n = 0; n < rows; ++n) order[n] = static_cast<int32_t>((n * 5 + 3) % rows);  // a permutation (rows = 64, 32)
    std::vector<uint8_t> bytes(t.nbytes);
    for (size_t n = 0; n < rows; ++n) std::memcpy(&bytes[order[n] * row_bytes], t.view.data + n * row_bytes, row_bytes);
    stored.push_back(std::move(bytes));
    t.view.data = stored.back().data();
    t.row_order = order;
  }
  const Model permuted = build_model(config, source, tokenizer());
  CHECK(permuted.identity.weights_digest == plain.identity.weights_digest);
  CHECK(same_packed(permuted.weights.layers[1].wq, plain.weights.layers[1].wq));
  CHECK(same_packed(permuted.weights.layers[1].wk, plain.weights.layers[1].wk));

  // Without the row order, the same stored bytes are other weights.
  source.tensors.at("model.layers.1.self_attn.q_proj.weight").row_order.clear();
  CHECK(build_model(config, source, tokenizer()).identity.weights_digest != plain.identity.weights_digest);
}

TEST_CASE("build_model: norm weights are converted to f32 exactly") {
  ModelConfig config = test::tiny_config();
  std::vector<test::TestTensor> tensors = test::tiny_tensors(config, kernels::DType::F16, 5);
  // f16 values whose f32 values are known: 1, -2, the smallest subnormal
  // 2^-24, the largest finite 65504, -0.
  const uint16_t f16_bits[] = {0x3C00, 0xC000, 0x0001, 0x7BFF, 0x8000};
  const float f32_values[] = {1.0f, -2.0f, 5.9604644775390625e-08f, 65504.0f, -0.0f};
  test::TestTensor& norm = tensors[1];  // model.layers.0.input_layernorm.weight
  REQUIRE(norm.name == "model.layers.0.input_layernorm.weight");
  for (size_t i = 0; i < 5; ++i) std::memcpy(&norm.bytes[2 * i], &f16_bits[i], 2);
  // bf16: f32 bits are the bf16 bits shifted up 16.
  std::vector<test::TestTensor> bf = test::tiny_tensors(config, kernels::DType::BF16, 5);
  const test::TestTensor& final_norm = bf[bf.size() - 2];
  REQUIRE(final_norm.name == "model.norm.weight");
  tensors[tensors.size() - 2] = final_norm;

  const Model model = build_model(config, source_from(tensors), tokenizer());
  REQUIRE(model.weights.layers[0].attn_norm.size() == 64);
  CHECK(std::memcmp(model.weights.layers[0].attn_norm.data(), f32_values, sizeof f32_values) == 0);
  for (size_t i = 0; i < 64; ++i) {
    uint16_t h;
    std::memcpy(&h, &final_norm.bytes[2 * i], 2);
    const uint32_t expected = uint32_t{h} << 16;
    uint32_t got;
    std::memcpy(&got, &model.weights.final_norm[i], 4);
    CHECK(got == expected);
  }
}

TEST_CASE("build_model: tied embeddings reuse the embedding as lm_head") {
  ModelConfig config = test::tiny_config();
  config.tied_embeddings = true;
  const std::vector<test::TestTensor> tensors = test::tiny_tensors(config, kernels::DType::F32, 9);
  REQUIRE(tensors.back().name == "model.norm.weight");  // no lm_head in the canonical list
  const Model model = build_model(config, source_from(tensors), tokenizer());
  const kernels::PackedMatrix embedding =
      kernels::pack_matrix(kernels::DType::F32, tensors[0].bytes.data(), config.vocab_size, config.dim);
  CHECK(same_packed(model.weights.lm_head, embedding));
  CHECK(model.weights.tok_embeddings.data == tensors[0].bytes.data());
  CHECK(model.weights.tok_embeddings.rows == config.vocab_size);
  CHECK(model.identity.weights_digest == documented_digest(tensors));

  // A checkpoint that also carries lm_head.weight: ignored, as transformers does.
  std::vector<test::TestTensor> with_head = tensors;
  test::TestTensor head = tensors[0];
  head.name = "lm_head.weight";
  head.bytes[0] ^= 0xff;
  with_head.push_back(head);
  CHECK(build_model(config, source_from(with_head), tokenizer()).identity.weights_digest ==
        model.identity.weights_digest);
}

TEST_CASE("build_model: every tensor is checked against the config") {
  const ModelConfig config = test::tiny_config();
  const std::vector<test::TestTensor> tensors = test::tiny_tensors(config, kernels::DType::F32, 1);
  const auto fails = [&](const std::function<void(TensorSource&)>& edit, const std::string& path,
                         const std::string& fragment) {
    TensorSource source = source_from(tensors);
    edit(source);
    CHECK_FILE_ERROR(build_model(config, source, tokenizer()), path, fragment);
  };
  const std::string up = "model.layers.1.mlp.up_proj.weight";
  fails([&](TensorSource& s) { s.tensors.erase(up); }, kOrigin, "missing tensor " + up);
  fails([&](TensorSource& s) { s.tensors.erase("lm_head.weight"); }, kOrigin, "missing tensor lm_head.weight");
  fails([&](TensorSource& s) { std::swap(s.tensors.at(up).view.rows, s.tensors.at(up).view.cols); },
        "file-of-" + up, "tensor " + up + " has shape [64,96], expected [96,64]");
  fails([&](TensorSource& s) { s.tensors.at("model.norm.weight").rank = 2; }, "file-of-model.norm.weight",
        "tensor model.norm.weight has shape [1,64], expected [64]");
  fails([&](TensorSource& s) { s.tensors.at(up).nbytes -= 4; }, "file-of-" + up, "has 24572 bytes, expected 24576");
  fails([&](TensorSource& s) { s.tensors.at(up).view.dtype = kernels::DType::Q8_0; }, "file-of-" + up,
        "has 24576 bytes, expected 6528");  // 96 rows of 2 blocks of 34 bytes
  fails([&](TensorSource& s) { s.tensors["model.layers.0.self_attn.q_proj.bias"] = s.tensors.at(up); },
        "file-of-" + up, "unexpected tensor model.layers.0.self_attn.q_proj.bias");
  fails([&](TensorSource& s) { s.tensors["model.layers.2.mlp.up_proj.weight"] = s.tensors.at(up); },
        "file-of-" + up, "unexpected tensor model.layers.2.mlp.up_proj.weight");
  const std::string q = "model.layers.0.self_attn.q_proj.weight";
  fails([&](TensorSource& s) { s.tensors.at(q).row_order = std::vector<int32_t>(64, 0); }, "file-of-" + q,
        "not a permutation");
  fails([&](TensorSource& s) { s.tensors.at(q).row_order = {0, 1}; }, "file-of-" + q, "does not fit");
  fails([&](TensorSource& s) {
    std::vector<int32_t> order(static_cast<size_t>(config.vocab_size));
    std::iota(order.begin(), order.end(), 0);
    s.tensors.at("model.embed_tokens.weight").row_order = order;
  }, "file-of-model.embed_tokens.weight", "does not fit");

  // Ignorable extras load.
  TensorSource extra = source_from(tensors);
  extra.tensors["model.layers.0.self_attn.rotary_emb.inv_freq"] = extra.tensors.at("model.norm.weight");
  CHECK_NOTHROW(build_model(config, extra, tokenizer()));

  // A vocabulary bigger than the embedding would let token ids index past it.
  ModelConfig small = config;
  small.vocab_size = 200;
  const std::vector<test::TestTensor> small_tensors = test::tiny_tensors(small, kernels::DType::F32, 1);
  CHECK_FILE_ERROR(build_model(small, source_from(small_tensors), tokenizer()), kOrigin,
                   "pieces but the model only 200 embedding rows");
  ModelConfig bad = config;
  bad.eos_id = config.vocab_size;
  CHECK_FILE_ERROR(build_model(bad, source_from(tensors), tokenizer()), kOrigin, "outside the vocabulary");
}

TEST_CASE("Model::weight_bytes counts every packed matrix, the norms and one embedding row") {
  const ModelConfig config = test::tiny_config();
  const Model model = build_model(config, source_from(test::tiny_tensors(config, kernels::DType::BF16, 2)), tokenizer());
  int64_t expected = 0;
  for (const LayerWeights& l : model.weights.layers) {
    for (const auto* m : {&l.wq, &l.wk, &l.wv, &l.wo, &l.w_gate, &l.w_up, &l.w_down}) expected += int64_t(m->stored_bytes());
    expected += 2 * 64 * 4;
  }
  expected += 64 * 4 + int64_t(model.weights.lm_head.stored_bytes()) + 64 * 2;
  CHECK(model.weight_bytes() == expected);
  // At least the stored matrices (bf16): 2 layers * (q,k,v,o,gate,up,down) + lm_head.
  const int64_t raw = 2 * 2 * (64 * 64 + 32 * 64 * 2 + 64 * 64 + 3 * 96 * 64) + 2 * 320 * 64;
  CHECK(model.weight_bytes() >= raw);
}

TEST_CASE("Progress: counts bytes from every thread and draws nothing when disabled") {
  Progress progress("loading", 1000, false);
  ThreadPool pool(2);
  pool.parallel_for(100, 1, [&](int64_t begin, int64_t end, int) {
    for (int64_t i = begin; i < end; ++i) progress.add(10);
  });
  CHECK(progress.done() == 1000);
  progress.finish();
  progress.add(5);  // after finish: counted, still never drawn
  CHECK(progress.done() == 1005);
  CHECK_FALSE(progress.drew());
}
