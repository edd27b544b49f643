// load_model() on Hugging Face directories: round trips and every way a
// directory can be wrong.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstring>
#include <nlohmann/json.hpp>

#include "error_check.h"
#include "kernels/thread_pool.h"
#include "loader_test_support.h"
#include "runtime/loader/hf_config.h"
#include "runtime/loader/model_builder.h"
#include "runtime/loader/safetensors_writer.h"
#include "runtime/model.h"
#include "test_util.h"

using namespace ree;
using ree::test::TempDir;

namespace {

const LoadOptions kQuiet{nullptr, false};

Model load(const std::filesystem::path& dir) { return load_model(dir, kQuiet); }

// A directory holding a valid tiny model; tests then break one thing.
struct TinyModelDir {
  TempDir tmp;
  std::filesystem::path dir = tmp / "tiny-llama";
  ModelConfig config = test::tiny_config();
  std::vector<test::TestTensor> tensors = test::tiny_tensors(config, kernels::DType::BF16, 2024);
  TinyModelDir() { test::write_tiny_model(dir, config, tensors); }
  std::filesystem::path file(const std::string& name) const { return dir / name; }
  void rewrite_config(const std::function<void(nlohmann::json&)>& edit) const {
    nlohmann::json j = nlohmann::json::parse(test::read_text(file("config.json")));
    edit(j);
    test::write_text(file("config.json"), j.dump());
  }
};

}  // namespace

TEST_CASE("load_model: a Hugging Face directory round-trips") {
  TinyModelDir m;
  test::write_text(m.file("tokenizer_config.json"), R"({"chat_template": "{{ messages }}"})");
  const Model model = load(m.dir);
  CHECK(model.config.dim == m.config.dim);
  CHECK(model.config.n_layers == m.config.n_layers);
  CHECK(model.config.n_kv_heads == m.config.n_kv_heads);
  CHECK(model.config.vocab_size == m.config.vocab_size);
  CHECK(model.identity.format == "hf");
  CHECK(model.identity.name == "tiny-llama");
  CHECK(model.identity.weights_digest.size() == 64);
  const std::string& proto = test::tiny_tokenizer_proto();
  CHECK(model.identity.tokenizer_digest == test::blake2b_hex(proto.data(), proto.size()));
  CHECK(model.chat_template_hint == "{{ messages }}");
  CHECK(model.source == m.dir);
  CHECK(model.mappings.size() == 1);
  CHECK(model.tokenizer.vocab_size() <= model.config.vocab_size);
  // The embedding is a view of the mapped file holding the original bytes.
  CHECK(model.weights.tok_embeddings.dtype == kernels::DType::BF16);
  CHECK(std::memcmp(model.weights.tok_embeddings.data, m.tensors[0].bytes.data(), m.tensors[0].bytes.size()) == 0);
  CHECK(model.weights.layers.size() == 2);
  CHECK(model.weights.layers[1].w_down.rows == 64);
  CHECK(model.weights.layers[1].w_down.cols == 96);

  // Loading again, or with the caller's own pool, gives the same identity.
  ThreadPool pool(2);
  CHECK(load_model(m.dir, LoadOptions{&pool, false}).identity.weights_digest == model.identity.weights_digest);
  CHECK(load(m.dir.string() + "/").identity.name == "tiny-llama");

  // The digest is the builder's over the same tensors.
  TensorSource source;
  for (const auto& t : m.tensors) {
    SourceTensor s;
    s.view = {t.dtype, t.shape.size() == 2 ? t.shape[0] : 1, t.shape.back(), t.bytes.data()};
    s.rank = int(t.shape.size());
    s.nbytes = t.bytes.size();
    source.tensors[t.name] = s;
  }
  CHECK(compute_weights_digest(m.config, source, {}) == model.identity.weights_digest);
}

TEST_CASE("load_model: the digest is about the weights, not the file layout") {
  TinyModelDir m;
  const std::string digest = load(m.dir).identity.weights_digest;

  // Same tensors, reversed order in the file.
  std::vector<test::TestTensor> reversed(m.tensors.rbegin(), m.tensors.rend());
  test::write_tensors(m.file("model.safetensors"), reversed);
  CHECK(load(m.dir).identity.weights_digest == digest);

  // Same tensors in three shards behind an index.
  std::filesystem::remove(m.file("model.safetensors"));
  nlohmann::json map;
  std::vector<test::TestTensor> shard[3];
  for (size_t i = 0; i < m.tensors.size(); ++i) {
    shard[i % 3].push_back(m.tensors[i]);
    map[m.tensors[i].name] = "model-0000" + std::to_string(i % 3 + 1) + "-of-00003.safetensors";
  }
  for (int s = 0; s < 3; ++s) {
    test::write_tensors(m.file("model-0000" + std::to_string(s + 1) + "-of-00003.safetensors"), shard[s]);
  }
  test::write_text(m.file("model.safetensors.index.json"), nlohmann::json{{"weight_map", map}}.dump());
  const Model sharded = load(m.dir);
  CHECK(sharded.identity.weights_digest == digest);
  CHECK(sharded.mappings.size() == 3);

  // One changed bit is another model.
  m.tensors[7].bytes[3] ^= 0x10;
  test::write_tiny_model(m.dir, m.config, m.tensors);
  CHECK(load(m.dir).identity.weights_digest != digest);
}

TEST_CASE("load_model: broken directories give one-line errors naming the file") {
  const std::string up = "model.layers.1.mlp.up_proj.weight";

  SUBCASE("missing tensor") {
    TinyModelDir m;
    std::erase_if(m.tensors, [&](const test::TestTensor& t) { return t.name == up; });
    test::write_tensors(m.file("model.safetensors"), m.tensors);
    CHECK_FILE_ERROR(load(m.dir), m.dir.string(), "missing tensor " + up);
  }
  SUBCASE("shape mismatch") {
    TinyModelDir m;
    for (auto& t : m.tensors) {
      if (t.name == up) t.shape = {64, 96};
    }
    test::write_tensors(m.file("model.safetensors"), m.tensors);
    CHECK_FILE_ERROR(load(m.dir), m.file("model.safetensors").string(),
                     "tensor " + up + " has shape [64,96], expected [96,64]");
  }
  SUBCASE("config disagrees with the tensors") {
    TinyModelDir m;
    m.rewrite_config([](nlohmann::json& j) { j["num_hidden_layers"] = 3; });
    CHECK_FILE_ERROR(load(m.dir), m.dir.string(), "missing tensor model.layers.2.input_layernorm.weight");
    m.rewrite_config([](nlohmann::json& j) { j["num_hidden_layers"] = 1; });
    CHECK_FILE_ERROR(load(m.dir), m.file("model.safetensors").string(), "unexpected tensor model.layers.1.");
  }
  SUBCASE("unknown architecture") {
    TinyModelDir m;
    m.rewrite_config([](nlohmann::json& j) { j["architectures"] = {"FalconForCausalLM"}; });
    CHECK_FILE_ERROR(load(m.dir), m.file("config.json").string(), "unsupported architecture FalconForCausalLM");
  }
  SUBCASE("unknown dtype") {
    TinyModelDir m;
    const std::string header = R"({"model.norm.weight":{"dtype":"F64","shape":[64],"data_offsets":[0,512]}})";
    test::write_raw_safetensors(m.file("model.safetensors"), header, std::vector<uint8_t>(512, 0));
    CHECK_FILE_ERROR(load(m.dir), m.file("model.safetensors").string(),
                     "unsupported dtype F64 for tensor model.norm.weight");
  }
  SUBCASE("rank 3 tensor") {
    TinyModelDir m;
    for (auto& t : m.tensors) {
      if (t.name == up) t.shape = {96, 8, 8};
    }
    test::write_tensors(m.file("model.safetensors"), m.tensors);
    CHECK_FILE_ERROR(load(m.dir), m.file("model.safetensors").string(), "has shape [96,8,8]; Llama weights have rank 1 or 2");
  }
  SUBCASE("missing or unreadable tokenizer") {
    TinyModelDir m;
    std::filesystem::remove(m.file("tokenizer.model"));
    CHECK_FILE_ERROR(load(m.dir), m.file("tokenizer.model").string(), "unreadable tokenizer");
    test::write_text(m.file("tokenizer.model"), "\x0a\xff\xff\xff\xff garbage");
    CHECK_FILE_ERROR(load(m.dir), m.file("tokenizer.model").string(), "unreadable tokenizer");
  }
  SUBCASE("tokenizer larger than the embedding") {
    TinyModelDir m;
    ModelConfig small = m.config;
    small.vocab_size = 100;
    test::write_tiny_model(m.dir, small, test::tiny_tensors(small, kernels::DType::F32, 1));
    CHECK_FILE_ERROR(load(m.dir), m.dir.string(), "pieces but the model only 100 embedding rows");
  }
  SUBCASE("truncated weights") {
    TinyModelDir m;
    const auto file = m.file("model.safetensors");
    std::filesystem::resize_file(file, std::filesystem::file_size(file) - 100);
    CHECK_FILE_ERROR(load(m.dir), file.string(), "lie outside the data section");
    std::filesystem::resize_file(file, 6);
    CHECK_FILE_ERROR(load(m.dir), file.string(), "truncated: 6 bytes");
  }
  SUBCASE("wrong header") {
    TinyModelDir m;
    const auto file = m.file("model.safetensors");
    test::write_raw_safetensors(file, "{}", {}, uint64_t{1} << 33);
    CHECK_FILE_ERROR(load(m.dir), file.string(), "header length 8589934592 is not sane");
    test::write_raw_safetensors(file, "{\"a\":", {});
    CHECK_FILE_ERROR(load(m.dir), file.string(), "safetensors header is not valid JSON");
  }
  SUBCASE("offsets outside the file") {
    TinyModelDir m;
    const std::string header = R"({"model.norm.weight":{"dtype":"F32","shape":[64],"data_offsets":[256,512]}})";
    test::write_raw_safetensors(m.file("model.safetensors"), header, std::vector<uint8_t>(300, 0));
    CHECK_FILE_ERROR(load(m.dir), m.file("model.safetensors").string(), "lie outside the data section (300 bytes");
  }
  SUBCASE("sharded index pointing to a missing shard") {
    TinyModelDir m;
    std::filesystem::remove(m.file("model.safetensors"));
    test::write_text(m.file("model.safetensors.index.json"),
                     R"({"weight_map":{"model.norm.weight":"model-00002-of-00002.safetensors"}})");
    CHECK_FILE_ERROR(load(m.dir), m.file("model.safetensors.index.json").string(),
                     "names shard model-00002-of-00002.safetensors, which does not exist");
  }
  SUBCASE("missing files and paths that are no model") {
    TinyModelDir m;
    std::filesystem::remove(m.file("model.safetensors"));
    CHECK_FILE_ERROR(load(m.dir), m.dir.string(), "no model.safetensors or model.safetensors.index.json");
    std::filesystem::remove(m.file("config.json"));
    CHECK_FILE_ERROR(load(m.dir), m.file("config.json").string(), "missing");
    CHECK_FILE_ERROR(load(m.dir / "nothing-here"), (m.dir / "nothing-here").string(), "does not exist");
    CHECK_FILE_ERROR(load(m.file("tokenizer.model")), m.file("tokenizer.model").string(), "not a model");
  }
}

