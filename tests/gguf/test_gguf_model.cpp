// load_gguf: the Q/K permutation against numpy's definition, the same
// weights loaded from a Hugging Face directory and from GGUF (synth and
// convert) giving identical packed weights, digests and tokenizations, and
// every malformed model-level input giving a clear error.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <numeric>

#include "gguf_test_support.h"
#include "loader/error_check.h"
#include "loader/loader_test_support.h"
#include "runtime/loader/convert.h"
#include "runtime/loader/gguf_model.h"
#include "runtime/loader/synth.h"
#include "runtime/model.h"
#include "runtime/tokenizer.h"
#include "test_util.h"

using namespace ree;

namespace {

// llama.cpp's converter: w.reshape(n_head, 2, hd/2, cols).swapaxes(1, 2).reshape(w.shape),
// written as numpy's index arithmetic: output row (h, j, s) in shape
// (n_head, hd/2, 2) comes from input row (h, s, j) in shape (n_head, 2, hd/2).
std::vector<float> numpy_permute(const std::vector<float>& w, int64_t rows, int64_t cols, int n_head) {
  const int64_t hd = rows / n_head, half = hd / 2;
  std::vector<float> out(w.size());
  for (int64_t h = 0; h < n_head; ++h) {
    for (int64_t j = 0; j < half; ++j) {
      for (int64_t s = 0; s < 2; ++s) {
        const int64_t out_row = (h * half + j) * 2 + s;
        const int64_t in_row = (h * 2 + s) * half + j;
        std::copy_n(w.begin() + in_row * cols, cols, out.begin() + out_row * cols);
      }
    }
  }
  return out;
}

bool same_matrix(const kernels::PackedMatrix& a, const kernels::PackedMatrix& b) {
  return a.dtype == b.dtype && a.rows == b.rows && a.cols == b.cols && a.nbytes == b.nbytes &&
         std::memcmp(a.data.get(), b.data.get(), a.nbytes) == 0;
}

bool same_floats(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

const std::vector<std::string> kTexts = {
    "Hello world", "Once upon a time there was a little girl named Lily.", "  leading and  double spaces",
    "café naïve über 日本語", "<|user|>what is 12*7?<|end|><|assistant|>", "numbers 1234 and symbols #@!",
    "", "\ttab\nnewline",
};

// Everything the runtime reads from a model, compared bit for bit.
void check_same_model(const Model& a, const Model& b, bool same_digest) {
  const ModelConfig &ca = a.config, &cb = b.config;
  CHECK(ca.dim == cb.dim);
  CHECK(ca.hidden_dim == cb.hidden_dim);
  CHECK(ca.n_layers == cb.n_layers);
  CHECK(ca.n_heads == cb.n_heads);
  CHECK(ca.n_kv_heads == cb.n_kv_heads);
  CHECK(ca.head_dim == cb.head_dim);
  CHECK(ca.vocab_size == cb.vocab_size);
  CHECK(ca.max_seq_len == cb.max_seq_len);
  CHECK(ca.norm_eps == cb.norm_eps);
  CHECK(ca.rope_theta == cb.rope_theta);
  CHECK(ca.tied_embeddings == cb.tied_embeddings);
  CHECK(ca.bos_id == cb.bos_id);
  CHECK(ca.eos_id == cb.eos_id);
  const ModelWeights &wa = a.weights, &wb = b.weights;
  REQUIRE(wa.layers.size() == wb.layers.size());
  for (size_t l = 0; l < wa.layers.size(); ++l) {
    CAPTURE(l);
    const LayerWeights &x = wa.layers[l], &y = wb.layers[l];
    CHECK(same_floats(x.attn_norm, y.attn_norm));
    CHECK(same_matrix(x.wq, y.wq));
    CHECK(same_matrix(x.wk, y.wk));
    CHECK(same_matrix(x.wv, y.wv));
    CHECK(same_matrix(x.wo, y.wo));
    CHECK(same_floats(x.ffn_norm, y.ffn_norm));
    CHECK(same_matrix(x.w_gate, y.w_gate));
    CHECK(same_matrix(x.w_up, y.w_up));
    CHECK(same_matrix(x.w_down, y.w_down));
  }
  CHECK(same_floats(wa.final_norm, wb.final_norm));
  CHECK(same_matrix(wa.lm_head, wb.lm_head));
  const RawTensor &ea = wa.tok_embeddings, &eb = wb.tok_embeddings;
  REQUIRE(ea.dtype == eb.dtype);
  REQUIRE(ea.rows == eb.rows);
  REQUIRE(ea.cols == eb.cols);
  CHECK(std::memcmp(ea.data, eb.data, *stored_tensor_bytes(ea.dtype, ea.rows, ea.cols)) == 0);
  if (same_digest) {
    CHECK(a.identity.weights_digest == b.identity.weights_digest);
  } else {
    CHECK(a.identity.weights_digest != b.identity.weights_digest);
  }
  for (const std::string& text : kTexts) {
    CAPTURE(text);
    CHECK(a.tokenizer.encode(text) == b.tokenizer.encode(text));
  }
}

Model load(const std::filesystem::path& path) {
  LoadOptions options;
  options.show_progress = false;
  return load_model(path, options);
}

SynthResult synth(const std::filesystem::path& out, kernels::DType dtype, SynthFormat format, uint64_t seed = 3) {
  SynthOptions o;
  o.shape = "test";
  o.dtype = dtype;
  o.format = format;
  o.seed = seed;
  o.out = out;
  return write_synth_model(o);
}

ConvertResult convert(const std::filesystem::path& in, const std::filesystem::path& out,
                      std::optional<kernels::DType> dtype = std::nullopt) {
  ConvertOptions o;
  o.in = in;
  o.out = out;
  o.dtype = dtype;
  return convert_hf_to_gguf(o);
}

}  // namespace

TEST_CASE("Q/K permutation: matches numpy's reshape/swapaxes and is undone by the row order") {
  for (const auto& [n_head, hd] : {std::pair{4, 16}, std::pair{2, 2}, std::pair{6, 48}, std::pair{1, 64}}) {
    const int64_t rows = int64_t{n_head} * hd, cols = 3;
    std::vector<float> w(static_cast<size_t>(rows * cols));
    std::iota(w.begin(), w.end(), 0.0f);
    const std::vector<float> permuted = numpy_permute(w, rows, cols, n_head);
    const std::vector<int32_t> order = gguf::unpermute_row_order(rows, n_head);
    REQUIRE(order.size() == static_cast<size_t>(rows));
    std::vector<bool> seen(static_cast<size_t>(rows), false);
    for (int64_t g = 0; g < rows; ++g) {
      const int64_t hf = gguf::hf_row_of_gguf_row(g, hd);
      CHECK(gguf::gguf_row_of_hf_row(hf, hd) == g);
      CHECK(std::equal(permuted.begin() + g * cols, permuted.begin() + (g + 1) * cols, w.begin() + hf * cols));
      seen[static_cast<size_t>(hf)] = true;
    }
    CHECK(std::all_of(seen.begin(), seen.end(), [](bool b) { return b; }));
    // Reading GGUF row order[n] for every HF row n gives the original matrix.
    for (int64_t n = 0; n < rows; ++n) {
      CHECK(std::equal(w.begin() + n * cols, w.begin() + (n + 1) * cols, permuted.begin() + order[n] * cols));
    }
  }
  CHECK(gguf::unpermute_row_order(10, 4).empty());  // not whole heads: left to the shape check
  CHECK(gguf::unpermute_row_order(12, 4).empty());  // odd head size
}

TEST_CASE("tensor names map both ways") {
  CHECK(gguf::hf_name_for("blk.12.attn_q.weight") == "model.layers.12.self_attn.q_proj.weight");
  CHECK(gguf::hf_name_for("blk.0.ffn_norm.weight") == "model.layers.0.post_attention_layernorm.weight");
  CHECK(gguf::hf_name_for("output.weight") == "lm_head.weight");
  CHECK(gguf::gguf_name_for("model.embed_tokens.weight") == "token_embd.weight");
  CHECK(gguf::gguf_name_for("model.layers.3.mlp.down_proj.weight") == "blk.3.ffn_down.weight");
  CHECK_FALSE(gguf::hf_name_for("blk.01.attn_q.weight"));
  CHECK_FALSE(gguf::hf_name_for("blk.-1.attn_q.weight"));
  CHECK_FALSE(gguf::hf_name_for("blk.1.attn_qkv.weight"));
  CHECK_FALSE(gguf::hf_name_for("rope_freqs.weight"));
}

TEST_CASE("HF and GGUF synth models of the same seed load identically") {
  test::TempDir dir("ree-gguf");
  SUBCASE("f32: identical down to the weights digest and the tokenizer digest") {
    synth(dir / "hf", kernels::DType::F32, SynthFormat::Hf);
    synth(dir / "m.gguf", kernels::DType::F32, SynthFormat::Gguf);
    const Model hf = load(dir / "hf"), gg = load(dir / "m.gguf");
    CHECK(hf.identity.format == "hf");
    CHECK(gg.identity.format == "gguf");
    check_same_model(hf, gg, true);
    CHECK(hf.identity.tokenizer_digest == gg.identity.tokenizer_digest);
  }
  SUBCASE("bf16: identical values (norms are stored F32 in GGUF, so the digest differs)") {
    synth(dir / "hf", kernels::DType::BF16, SynthFormat::Hf);
    synth(dir / "m.gguf", kernels::DType::BF16, SynthFormat::Gguf);
    check_same_model(load(dir / "hf"), load(dir / "m.gguf"), false);
  }
}

TEST_CASE("convert: HF directory -> GGUF loads to the same model") {
  test::TempDir dir("ree-gguf");
  SUBCASE("f32 synth model: identical packed weights, digest and encodings") {
    synth(dir / "hf", kernels::DType::F32, SynthFormat::Hf);
    const ConvertResult r = convert(dir / "hf", dir / "c.gguf");
    CHECK(r.dtype == kernels::DType::F32);
    check_same_model(load(dir / "hf"), load(dir / "c.gguf"), true);
  }
  SUBCASE("f16 keeps its bits") {
    synth(dir / "hf", kernels::DType::F16, SynthFormat::Hf);
    convert(dir / "hf", dir / "c.gguf");
    check_same_model(load(dir / "hf"), load(dir / "c.gguf"), false);
  }
  SUBCASE("a tokenizer trained by SentencePiece (no dummy prefix, user symbols, padded vocabulary)") {
    const ModelConfig config = test::tiny_config();
    test::write_tiny_model(dir / "tiny", config, test::tiny_tensors(config, kernels::DType::F32, 11));
    convert(dir / "tiny", dir / "tiny.gguf");
    const Model hf = load(dir / "tiny"), gg = load(dir / "tiny.gguf");
    check_same_model(hf, gg, true);
    CHECK(gg.tokenizer.encode("<|user|>") == hf.tokenizer.encode("<|user|>"));
    CHECK(gg.tokenizer.encode("<|user|>").size() == 1);
  }
  SUBCASE("q8_0 from f32 equals synth's q8_0 of the same seed") {
    synth(dir / "hf", kernels::DType::F32, SynthFormat::Hf);
    convert(dir / "hf", dir / "c.gguf", kernels::DType::Q8_0);
    synth(dir / "s.gguf", kernels::DType::Q8_0, SynthFormat::Gguf);
    const Model c = load(dir / "c.gguf"), s = load(dir / "s.gguf");
    CHECK(c.weights.dtype == kernels::DType::Q8_0);
    check_same_model(c, s, true);
  }
  SUBCASE("refuses to overwrite without force") {
    synth(dir / "hf", kernels::DType::F32, SynthFormat::Hf);
    test::write_text(dir / "c.gguf", "x");
    CHECK_FILE_ERROR(convert(dir / "hf", dir / "c.gguf"), (dir / "c.gguf").string(), "already exists");
    ConvertOptions o;
    o.in = dir / "hf";
    o.out = dir / "c.gguf";
    o.force = true;
    convert_hf_to_gguf(o);
    CHECK(load(dir / "c.gguf").identity.format == "gguf");
  }
  SUBCASE("not a directory") {
    CHECK_FILE_ERROR(convert(dir / "missing", dir / "c.gguf"), (dir / "missing").string(), "not a directory");
  }
}

namespace {

// The test-shape GGUF with its metadata and tensor list edited by `edit`;
// weights are zeros (the errors come before they matter).
std::filesystem::path edited_file(const test::TempDir& dir, const std::function<void(gguf::Metadata&)>& edit_metadata,
                                  const std::function<void(std::vector<gguf::TensorPlan>&)>& edit_tensors = {}) {
  const gguf::LlamaGgufSpec spec = test::test_spec(kernels::DType::F32);
  gguf::Metadata m = gguf::llama_metadata(spec, "test");
  std::vector<gguf::TensorPlan> plan = gguf::llama_tensor_plan(spec);
  edit_metadata(m);
  if (edit_tensors) edit_tensors(plan);
  const std::filesystem::path path = dir / "edited.gguf";
  test::write_file(path, gguf::gguf_bytes(m, plan, [](size_t, std::span<uint8_t> dst) {
                     std::fill(dst.begin(), dst.end(), 0);
                   }));
  return path;
}

gguf::Value& value_of(gguf::Metadata& m, const std::string& key) {
  for (auto& [k, v] : m) {
    if (k == key) return v;
  }
  FAIL("no key " << key);
  throw std::logic_error("unreachable");
}

void erase_key(gguf::Metadata& m, const std::string& key) {
  m.erase(std::remove_if(m.begin(), m.end(), [&](const auto& kv) { return kv.first == key; }), m.end());
}

void erase_tensor(std::vector<gguf::TensorPlan>& plan, const std::string& name) {
  plan.erase(std::remove_if(plan.begin(), plan.end(), [&](const auto& t) { return t.name == name; }), plan.end());
}

}  // namespace

TEST_CASE("load_gguf: a zero-weight edited file loads when nothing is edited") {
  test::TempDir dir("ree-gguf");
  const auto path = edited_file(dir, [](gguf::Metadata&) {});
  const Model m = load(path);
  CHECK(m.config.vocab_size == 512);
  CHECK_FALSE(m.config.tied_embeddings);
}

TEST_CASE("load_gguf: model-level errors name the file and the problem") {
  test::TempDir dir("ree-gguf");
  const auto check = [&](const std::function<void(gguf::Metadata&)>& edit, const std::string& fragment,
                         const std::function<void(std::vector<gguf::TensorPlan>&)>& edit_tensors = {}) {
    const auto path = edited_file(dir, edit, edit_tensors);
    CHECK_FILE_ERROR(load(path), path.string(), fragment);
  };
  const auto none = [](gguf::Metadata&) {};
  SUBCASE("architecture") {
    check([](auto& m) { value_of(m, "general.architecture").string_value = "gpt2"; }, "unsupported architecture gpt2");
    check([](auto& m) { erase_key(m, "general.architecture"); }, "missing metadata general.architecture");
  }
  SUBCASE("config metadata") {
    check([](auto& m) { erase_key(m, "llama.embedding_length"); }, "missing metadata llama.embedding_length");
    check([](auto& m) { value_of(m, "llama.attention.head_count").int_value = 5; }, "not a valid Llama shape");
    check([](auto& m) { value_of(m, "llama.block_count") = gguf::string_value("2"); }, "expected an integer");
    check([](auto& m) { value_of(m, "llama.rope.dimension_count").int_value = 8; }, "differs from the head size");
    check([](auto& m) { m.emplace_back("llama.rope.scaling.type", gguf::string_value("linear")); },
          "rope scaling (llama.rope.scaling.type)");
    check([](auto& m) { m.emplace_back("llama.rope.scaling.factor", gguf::float32_value(4.0f)); }, "rope scaling");
    check([](auto& m) { value_of(m, "llama.vocab_size").int_value = 600; }, "differs from the 512 entries");
    check([](auto& m) { erase_key(m, "llama.attention.layer_norm_rms_epsilon"); }, "layer_norm_rms_epsilon");
  }
  SUBCASE("tensors") {
    check(none, "missing tensor blk.1.ffn_up.weight", [](auto& p) { erase_tensor(p, "blk.1.ffn_up.weight"); });
    check(none, "unexpected tensor rope_freqs.weight",
          [](auto& p) { p.push_back({"rope_freqs.weight", {8}, gguf::TensorType::F32}); });
    check(none, "unexpected tensor", [](auto& p) { p.push_back({"blk.2.attn_q.weight", {64, 64}, gguf::TensorType::F32}); });
    check(none, "has shape [100,64], expected [160,64]", [](auto& p) {
      for (auto& t : p) {
        if (t.name == "blk.1.ffn_up.weight") t.ne = {64, 100};
      }
    });
    check(none, "3 dimensions", [](auto& p) { p[0].ne = {64, 256, 2}; });
  }
  SUBCASE("tokenizer arrays") {
    check([](auto& m) { value_of(m, "tokenizer.ggml.model").string_value = "gpt2"; }, "unsupported tokenizer model gpt2");
    check([](auto& m) { erase_key(m, "tokenizer.ggml.scores"); }, "missing metadata tokenizer.ggml.tokens, .scores");
    check([](auto& m) { value_of(m, "tokenizer.ggml.scores").floats.pop_back(); }, "different lengths");
    check([](auto& m) { value_of(m, "tokenizer.ggml.token_type") = gguf::float32_array({1.0f}); },
          "tokenizer.ggml.token_type must be an array of int32");
    check([](auto& m) { value_of(m, "tokenizer.ggml.token_type").ints[7] = 9; }, "token_type[7] = 9");
    check([](auto& m) { value_of(m, "tokenizer.ggml.token_type").ints[0] = 1; }, "0 unknown tokens");
    check([](auto& m) { value_of(m, "tokenizer.ggml.tokens").strings[300] = "<s>"; }, "the piece <s> twice");
    check([](auto& m) { value_of(m, "tokenizer.ggml.tokens").strings[300] = ""; }, "tokens[300] is empty");
    check([](auto& m) { value_of(m, "tokenizer.ggml.bos_token_id").int_value = 512; }, "outside the vocabulary");
    check([](auto& m) { value_of(m, "tokenizer.ggml.unknown_token_id").int_value = 1; }, "not the token marked unknown");
    check([](auto& m) { value_of(m, "tokenizer.ggml.tokens").strings[100] = "<0xZZ>"; }, "unreadable tokenizer");
  }
}

TEST_CASE("load_gguf: tokenizer settings from metadata") {
  test::TempDir dir("ree-gguf");
  SUBCASE("add_space_prefix false drops the dummy prefix") {
    const Model with = load(edited_file(dir, [](gguf::Metadata&) {}));
    const Model without = load(edited_file(dir, [](auto& m) { value_of(m, "tokenizer.ggml.add_space_prefix").int_value = 0; }));
    const std::vector<int32_t> a = with.tokenizer.encode("the"), b = without.tokenizer.encode("the");
    REQUIRE(!a.empty());
    REQUIRE(!b.empty());
    CHECK(with.tokenizer.piece(a[0]) == "\xE2\x96\x81the");
    CHECK(without.tokenizer.piece(b[0]).rfind("\xE2\x96\x81", 0) != 0);
  }
  SUBCASE("without llama.vocab_size the token list sets the vocabulary; ids come from metadata") {
    const Model m = load(edited_file(dir, [](auto& m) {
      erase_key(m, "llama.vocab_size");
      value_of(m, "tokenizer.ggml.eos_token_id").int_value = 7;
    }));
    CHECK(m.config.vocab_size == 512);
    CHECK(m.config.eos_id == 7);
  }
  SUBCASE("a chat template travels to the model") {
    const Model m = load(edited_file(dir, [](auto& m) {
      m.emplace_back("tokenizer.chat_template", gguf::string_value("{{ messages }}"));
    }));
    CHECK(m.chat_template_hint == "{{ messages }}");
  }
}

namespace {

// The smallest useful Llama GGUF: dim 32, one layer, an 8-piece tokenizer.
// Committed as a fuzz seed (fuzz/corpus/fuzz_gguf/); REE_FUZZ_SEED_DIR=dir
// writes it there again.
gguf::LlamaGgufSpec shrunken_spec(kernels::DType dtype) {
  gguf::LlamaGgufSpec spec;
  ModelConfig& c = spec.config;
  c.dim = 32;
  c.hidden_dim = 32;
  c.n_layers = 1;
  c.n_heads = 2;
  c.n_kv_heads = 1;
  c.head_dim = 16;
  c.vocab_size = 8;
  c.max_seq_len = 16;
  c.bos_id = 1;
  c.eos_id = 2;
  const std::string s = "\xE2\x96\x81";
  sp::ModelProto& t = spec.tokenizer;
  t.pieces = {{"<unk>", 0, sp::PieceType::Unknown}, {"<s>", 0, sp::PieceType::Control},
              {"</s>", 0, sp::PieceType::Control},  {s, -1, sp::PieceType::Normal},
              {"a", -2, sp::PieceType::Normal},     {"b", -3, sp::PieceType::Normal},
              {s + "a", -4, sp::PieceType::Normal}, {"ab", -5, sp::PieceType::Normal}};
  t.trainer_spec.model_type = sp::ModelType::Bpe;
  t.normalizer_spec.name = "identity";
  t.normalizer_spec.remove_extra_whitespaces = false;
  spec.dtype = dtype;
  spec.name = "shrunken";
  return spec;
}

std::vector<uint8_t> shrunken_gguf(kernels::DType dtype) {
  const gguf::LlamaGgufSpec spec = shrunken_spec(dtype);
  return gguf::llama_gguf_bytes(spec, test::synth_source(spec.config, 1), nullptr);
}

}  // namespace

TEST_CASE("fuzz seeds: the shrunken GGUF files are loadable models") {
  test::TempDir dir("ree-gguf");
  const char* seed_dir = std::getenv("REE_FUZZ_SEED_DIR");
  for (const auto& [dtype, name] : {std::pair{kernels::DType::Q8_0, "shrunken_q8_0.gguf"},
                                    std::pair{kernels::DType::F16, "shrunken_f16.gguf"}}) {
    const std::vector<uint8_t> bytes = shrunken_gguf(dtype);
    CHECK(bytes.size() < 20000);
    test::write_file(dir / name, bytes);
    const Model m = load(dir / name);
    CHECK(m.config.dim == 32);
    // BPE by hand: "▁a" (score -4) beats "ab" (-5), so ▁a b ▁a.
    CHECK(m.tokenizer.encode("ab a") == std::vector<int32_t>{6, 5, 6});
    if (seed_dir != nullptr) test::write_file(std::filesystem::path(seed_dir) / name, bytes);
  }
  // The tokenizer alone, a seed for the ModelProto decoder the target also runs.
  const std::string proto = sp::encode_model_proto(shrunken_spec(kernels::DType::F32).tokenizer);
  CHECK(Tokenizer::from_serialized_proto(proto, "shrunken").vocab_size() == 8);
  if (seed_dir != nullptr) {
    test::write_file(std::filesystem::path(seed_dir) / "tokenizer_8_pieces.model",
                     std::vector<uint8_t>(proto.begin(), proto.end()));
  }
}
