// Conformance against a reference no one here wrote: Hugging Face
// transformers' float64 logits for a tiny random Llama saved with
// save_pretrained (tests/fixtures/hf-tiny, made by
// samples/scripts/make_hf_fixture.py on the GPU machine). ree's reproducible
// f32 logits must match to a normwise relative error of 1e-5 and give the
// same greedy tokens; the tokenizer must encode like sentencepiece-python;
// the same weights converted to GGUF must give the same bits.
#include <doctest/doctest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "runtime/engine.h"
#include "runtime/generate.h"
#include "runtime/model.h"
#include "test_util.h"

using namespace ree;
namespace fs = std::filesystem;

namespace {

const fs::path kFixture = fs::path(REE_SOURCE_DIR) / "tests/fixtures/hf-tiny";

nlohmann::json read_json(const fs::path& p) {
  std::ifstream in(p);
  REQUIRE_MESSAGE(in.good(), "cannot read " << p);
  return nlohmann::json::parse(in);
}

std::vector<double> read_f64(const fs::path& p, size_t count) {
  std::ifstream in(p, std::ios::binary);
  REQUIRE_MESSAGE(in.good(), "cannot read " << p);
  std::vector<double> v(count);
  in.read(reinterpret_cast<char*>(v.data()), std::streamsize(count * sizeof(double)));
  REQUIRE(in.gcount() == std::streamsize(count * sizeof(double)));
  return v;
}

// max |ree - ref| / max |ref| over one row.
double row_error(const float* got, const double* ref, size_t n) {
  double num = 0.0, den = 0.0;
  for (size_t i = 0; i < n; ++i) {
    num = std::max(num, std::fabs(double(got[i]) - ref[i]));
    den = std::max(den, std::fabs(ref[i]));
  }
  return num / den;
}

std::unique_ptr<Engine> cpu_engine(const Model& m, int threads = 2) {
  EngineOptions o;
  o.threads = threads;
  o.context = 512;
  o.max_batch = 512;
  return make_engine(m, o);
}

}  // namespace

TEST_CASE("logits match transformers' float64 reference; greedy tokens agree") {
  const auto fixture = read_json(kFixture / "fixture.json");
  std::map<std::string, Model> models;
  double worst = 0.0;
  for (const auto& c : fixture["cases"]) {
    const std::string name = c["name"];
    CAPTURE(name);
    const std::string dir = c["model_dir"];
    if (!models.count(dir)) models.emplace(dir, load_model(kFixture / dir, LoadOptions{nullptr, false}));
    const Model& m = models.at(dir);
    const auto ids = c["ids"].get<std::vector<int32_t>>();
    const size_t V = size_t(m.config.vocab_size);
    REQUIRE(c["vocab_size"].get<size_t>() == V);

    // Every prompt position.
    auto engine = cpu_engine(m);
    ForwardRequest all;
    all.all_positions = true;
    all.full_logits = true;
    const ForwardResult fr = engine->forward(ids, all);
    const auto ref = read_f64(kFixture / c["logits_file"].get<std::string>(), ids.size() * V);
    for (size_t t = 0; t < ids.size(); ++t) {
      const double e = row_error(fr.logits.data() + t * V, ref.data() + t * V, V);
      worst = std::max(worst, e);
      CHECK(e < 1e-5);
    }

    // The 16-token greedy continuation (EOS does not stop it), and its logits.
    engine->reset();
    GenerateOptions g;
    g.max_tokens = 16;
    std::vector<int32_t> tokens;
    std::vector<float> cont_logits;
    GenerateOptions opts = g;
    generate(*engine, ids, opts, [&](const Step& s) { tokens.push_back(s.token); });
    CHECK(tokens == c["continuation_ids"].get<std::vector<int32_t>>());
    // Logits of the continuation rows, by teacher forcing the expected tokens.
    engine->reset();
    std::vector<int32_t> forced = ids;
    const auto expected = c["continuation_ids"].get<std::vector<int32_t>>();
    forced.insert(forced.end(), expected.begin(), expected.end() - 1);
    const ForwardResult fc = engine->forward(forced, all);
    const auto cref = read_f64(kFixture / c["continuation_logits_file"].get<std::string>(), expected.size() * V);
    for (size_t i = 0; i < expected.size(); ++i) {
      const double e = row_error(fc.logits.data() + (ids.size() - 1 + i) * V, cref.data() + i * V, V);
      worst = std::max(worst, e);
      CHECK(e < 1e-5);
    }
  }
  MESSAGE("worst normwise relative error against transformers float64: " << worst);
}

TEST_CASE("the tokenizer encodes like sentencepiece-python") {
  const auto fixture = read_json(kFixture / "fixture.json");
  const Model m = load_model(kFixture / "model", LoadOptions{nullptr, false});
  for (const auto& c : fixture["cases"]) {
    if (c["model_dir"] != "model") continue;
    CAPTURE(c["name"].get<std::string>());
    CHECK(m.tokenizer.encode(c["prompt"].get<std::string>()) == c["sp_ids"].get<std::vector<int32_t>>());
  }
  for (const auto& c : read_json(kFixture / fixture["tokenizer_cases_file"].get<std::string>())) {
    const std::string text = c["text"];
    CAPTURE(text);
    const auto ids = m.tokenizer.encode(text);
    CHECK(ids == c["ids"].get<std::vector<int32_t>>());
    CHECK(m.tokenizer.decode(ids) == c["decoded"].get<std::string>());
  }
}

TEST_CASE("the fixture converted to GGUF gives the same bits as the safetensors load") {
  test::TempDir dir;
  const fs::path gguf = dir / "hf-tiny.gguf";
  const auto r = test::run_ree("convert " + test::quote(kFixture / "model") + " --out " + test::quote(gguf));
  REQUIRE_MESSAGE(r.exit_code == 0, r.output);
  const Model hf = load_model(kFixture / "model", LoadOptions{nullptr, false});
  const Model gg = load_model(gguf, LoadOptions{nullptr, false});
  CHECK(gg.identity.weights_digest == hf.identity.weights_digest);
  const auto fixture = read_json(kFixture / "fixture.json");
  for (const auto& c : fixture["cases"]) {
    if (c["model_dir"] != "model") continue;
    const auto ids = c["ids"].get<std::vector<int32_t>>();
    ForwardRequest all;
    all.all_positions = true;
    const auto a = cpu_engine(hf)->forward(ids, all);
    const auto b = cpu_engine(gg, 3)->forward(ids, all);
    CHECK(a.logits_hash == b.logits_hash);
    CHECK(gg.tokenizer.encode(c["prompt"].get<std::string>()) == hf.tokenizer.encode(c["prompt"].get<std::string>()));
  }
}
