// `ree synth` as a library: the synthetic tokenizer (loads in
// libsentencepiece, round-trips text, whole words as single pieces), the
// weight generator (deterministic, order-free, the promised statistics),
// every dtype and format of the `test` shape, and greedy decoding that
// varies. The big shapes are benchmarked, not tested here.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <set>

#include "gguf_test_support.h"
#include "loader/error_check.h"
#include "runtime/engine.h"
#include "runtime/generate.h"
#include "runtime/loader/synth.h"
#include "runtime/model.h"
#include "runtime/tokenizer.h"
#include "test_util.h"

using namespace ree;

namespace {

const std::vector<std::string> kTexts = {
    "Once upon a time there was a little girl named Lily.", " leading space", "two  spaces",
    "café naïve über 日本語", "tabs\tand\nnewlines", "emoji \xF0\x9F\x98\x80", "1234567890", "", "!?#@",
};

Tokenizer synth_tokenizer_loaded(int vocab) {
  return Tokenizer::from_serialized_proto(sp::encode_model_proto(synth_tokenizer(vocab)), "synth");
}

Model load(const std::filesystem::path& path) {
  LoadOptions options;
  options.show_progress = false;
  return load_model(path, options);
}

}  // namespace

TEST_CASE("synth tokenizer: exact size, special and byte pieces, loads in SentencePiece") {
  for (const int vocab : {512, 32000}) {
    CAPTURE(vocab);
    const sp::ModelProto m = synth_tokenizer(vocab);
    REQUIRE(m.pieces.size() == static_cast<size_t>(vocab));
    CHECK(m.pieces[0].piece == "<unk>");
    CHECK(m.pieces[0].type == sp::PieceType::Unknown);
    CHECK(m.pieces[1].piece == "<s>");
    CHECK(m.pieces[2].piece == "</s>");
    CHECK(m.pieces[3].piece == "<0x00>");
    CHECK(m.pieces[258].piece == "<0xFF>");
    std::set<std::string> unique;
    float previous_score = 1.0f;
    for (size_t i = 259; i < m.pieces.size(); ++i) {
      CHECK(m.pieces[i].type == sp::PieceType::Normal);
      CHECK(m.pieces[i].score < previous_score);  // strictly decreasing
      previous_score = m.pieces[i].score;
    }
    for (const sp::Piece& p : m.pieces) unique.insert(p.piece);
    CHECK(unique.size() == m.pieces.size());

    const Tokenizer t = synth_tokenizer_loaded(vocab);
    CHECK(t.vocab_size() == vocab);
    CHECK(t.bos_id() == 1);
    CHECK(t.eos_id() == 2);
    for (const std::string& text : kTexts) {
      CAPTURE(text);
      const std::vector<int32_t> ids = t.encode(text);
      for (const int32_t id : ids) CHECK((id >= 3 && id < vocab));  // never <unk>: bytes cover everything
      CHECK(t.decode(ids) == text);
    }
  }
}

TEST_CASE("synth tokenizer: common words are single pieces at 32000") {
  const Tokenizer t = synth_tokenizer_loaded(32000);
  const std::vector<int32_t> ids = t.encode("Once upon a time there was a little girl");
  std::vector<std::string> pieces;
  for (const int32_t id : ids) pieces.push_back(t.piece(id));
  const std::string s = "\xE2\x96\x81";
  CHECK(pieces == std::vector<std::string>{s + "Once", s + "upon", s + "a", s + "time", s + "there", s + "was",
                                           s + "a", s + "little", s + "girl"});
  // Unknown words still compress: fewer pieces than letters.
  CHECK(t.encode("zebra xylophone").size() < 14);
}

TEST_CASE("synth weights: deterministic, independent of chunking, with the promised statistics") {
  const ModelConfig c = *synth_shape("test");
  const std::string name = "model.layers.1.mlp.gate_proj.weight";
  std::vector<float> all(static_cast<size_t>(c.hidden_dim * c.dim)), part(static_cast<size_t>(10 * c.dim));
  synth_rows(c, 5, name, 0, c.hidden_dim, all.data());
  synth_rows(c, 5, name, 37, 47, part.data());
  CHECK(std::memcmp(part.data(), all.data() + 37 * c.dim, part.size() * 4) == 0);
  synth_rows(c, 6, name, 37, 47, part.data());
  CHECK(std::memcmp(part.data(), all.data() + 37 * c.dim, part.size() * 4) != 0);  // the seed matters

  // Statistics over a large matrix (tinyllama's embedding, first 512 rows).
  const ModelConfig big = *synth_shape("tinyllama-1.1b");
  std::vector<float> m(static_cast<size_t>(512 * big.dim));
  synth_rows(big, 0, "model.embed_tokens.weight", 0, 512, m.data());
  double sum = 0, sq = 0, max_abs = 0;
  for (const float v : m) {
    sum += v;
    sq += static_cast<double>(v) * v;
    max_abs = std::max(max_abs, std::fabs(static_cast<double>(v)));
  }
  const double mean = sum / static_cast<double>(m.size());
  const double stddev = std::sqrt(sq / static_cast<double>(m.size()) - mean * mean);
  CHECK(std::fabs(mean) < 2e-4);
  CHECK(stddev == doctest::Approx(0.02).epsilon(0.01));
  CHECK(max_abs <= 0.02 * 2 * std::sqrt(3.0) + 1e-6);  // Irwin-Hall(4) is bounded at 2*sqrt(3) sigma

  std::vector<float> norm(static_cast<size_t>(big.dim));
  synth_rows(big, 0, "model.layers.0.input_layernorm.weight", 0, 1, norm.data());
  double nsum = 0;
  for (const float v : norm) nsum += v;
  CHECK(nsum / big.dim == doctest::Approx(1.0).epsilon(0.01));
  CHECK(*std::min_element(norm.begin(), norm.end()) > 0.8f);
}

TEST_CASE("synth: every dtype and format of the test shape loads with the shape's config") {
  test::TempDir dir("ree-synth");
  const ModelConfig expected = *synth_shape("test");
  struct Case {
    kernels::DType dtype;
    SynthFormat format;
  };
  const Case cases[] = {{kernels::DType::F32, SynthFormat::Hf},   {kernels::DType::F16, SynthFormat::Hf},
                        {kernels::DType::BF16, SynthFormat::Hf},  {kernels::DType::F32, SynthFormat::Gguf},
                        {kernels::DType::F16, SynthFormat::Gguf}, {kernels::DType::BF16, SynthFormat::Gguf},
                        {kernels::DType::Q8_0, SynthFormat::Gguf}};
  std::set<std::string> digests;
  int index = 0;
  for (const Case& c : cases) {
    CAPTURE(kernels::dtype_name(c.dtype));
    CAPTURE(c.format == SynthFormat::Hf);
    SynthOptions o;
    o.shape = "test";
    o.dtype = c.dtype;
    o.format = c.format;
    std::string name = "m";
    name += std::to_string(index++);
    if (c.format == SynthFormat::Gguf) name += ".gguf";
    o.out = dir / name;
    const SynthResult r = write_synth_model(o);
    CHECK(r.bytes > 0);
    const Model m = load(o.out);
    CHECK(m.config.dim == expected.dim);
    CHECK(m.config.hidden_dim == expected.hidden_dim);
    CHECK(m.config.n_layers == expected.n_layers);
    CHECK(m.config.n_heads == expected.n_heads);
    CHECK(m.config.n_kv_heads == expected.n_kv_heads);
    CHECK(m.config.vocab_size == expected.vocab_size);
    CHECK(m.config.max_seq_len == expected.max_seq_len);
    CHECK(m.config.tied_embeddings == expected.tied_embeddings);
    CHECK(m.weights.dtype == c.dtype);
    CHECK(m.tokenizer.vocab_size() == expected.vocab_size);
    digests.insert(m.identity.weights_digest);
  }
  // f32 HF and GGUF are the same tensors, so they share a digest; F16/BF16
  // norms are stored F16/BF16 in HF but F32 in GGUF, which the digest sees.
  CHECK(digests.size() == 6);
}

TEST_CASE("synth: same seed same digest, other seed other digest") {
  test::TempDir dir("ree-synth");
  const auto digest = [&](uint64_t seed, const std::string& out) {
    SynthOptions o;
    o.shape = "test";
    o.dtype = kernels::DType::BF16;
    o.format = SynthFormat::Gguf;
    o.seed = seed;
    o.out = dir / out;
    write_synth_model(o);
    return load(o.out).identity.weights_digest;
  };
  CHECK(digest(1, "a.gguf") == digest(1, "b.gguf"));
  CHECK(digest(1, "a2.gguf") != digest(2, "c.gguf"));
}

TEST_CASE("synth: errors") {
  test::TempDir dir("ree-synth");
  SynthOptions o;
  o.shape = "test";
  o.dtype = kernels::DType::F32;
  o.out = dir / "hf";
  SUBCASE("unknown shape") {
    o.shape = "llama-7b";
    CHECK_THROWS_WITH_AS(write_synth_model(o), doctest::Contains("unknown shape"), Error);
  }
  SUBCASE("q8_0 in safetensors") {
    o.dtype = kernels::DType::Q8_0;
    CHECK_THROWS_WITH_AS(write_synth_model(o), doctest::Contains("q8_0 cannot be stored in safetensors"), Error);
  }
  SUBCASE("existing output needs force") {
    write_synth_model(o);
    CHECK_FILE_ERROR(write_synth_model(o), o.out.string(), "already exists");
    o.force = true;
    CHECK_NOTHROW(write_synth_model(o));
    o.format = SynthFormat::Gguf;  // a directory is not replaced by a file
    CHECK_FILE_ERROR(write_synth_model(o), o.out.string(), "not a regular file");
  }
}

TEST_CASE("synth: greedy decoding on the test shape produces varied tokens") {
  test::TempDir dir("ree-synth");
  SynthOptions o;
  o.shape = "test";
  o.dtype = kernels::DType::BF16;
  o.format = SynthFormat::Gguf;
  o.out = dir / "m.gguf";
  write_synth_model(o);
  const Model model = load(o.out);
  EngineOptions eo;
  eo.threads = 1;
  const std::unique_ptr<Engine> engine = make_cpu_engine(model, eo);
  std::vector<int32_t> prompt = {model.config.bos_id};
  for (const int32_t id : model.tokenizer.encode("Once upon a time")) prompt.push_back(id);
  GenerateOptions g;
  g.max_tokens = 32;
  const GenerateResult r = generate(*engine, prompt, g, [](const Step&) {});
  REQUIRE(r.tokens.size() == 32);
  const std::set<int32_t> distinct(r.tokens.begin(), r.tokens.end());
  CHECK(distinct.size() >= 16);
}
