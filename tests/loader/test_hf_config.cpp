// config.json -> ModelConfig, and tokenizer_config.json's chat_template.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "error_check.h"
#include "loader_test_support.h"
#include "runtime/loader/hf_config.h"
#include "test_util.h"

using namespace ree;
using nlohmann::json;

namespace {

// A TinyLlama-like config.json as transformers writes it.
json llama_config() {
  return json::parse(R"({
    "architectures": ["LlamaForCausalLM"], "attention_bias": false, "bos_token_id": 1,
    "eos_token_id": 2, "hidden_act": "silu", "hidden_size": 2048, "initializer_range": 0.02,
    "intermediate_size": 5632, "max_position_embeddings": 2048, "model_type": "llama",
    "num_attention_heads": 32, "num_hidden_layers": 22, "num_key_value_heads": 4,
    "pretraining_tp": 1, "rms_norm_eps": 1e-05, "rope_scaling": null, "rope_theta": 10000.0,
    "tie_word_embeddings": false, "torch_dtype": "bfloat16", "transformers_version": "4.35.0",
    "use_cache": true, "vocab_size": 32000})");
}

HfConfig parse(const json& j) { return parse_hf_config(j.dump(), "dir/config.json"); }

}  // namespace

TEST_CASE("config.json: a Llama config gives the model's shape") {
  const HfConfig hf = parse(llama_config());
  const ModelConfig& c = hf.config;
  CHECK(c.architecture == "llama");
  CHECK(c.dim == 2048);
  CHECK(c.hidden_dim == 5632);
  CHECK(c.n_layers == 22);
  CHECK(c.n_heads == 32);
  CHECK(c.n_kv_heads == 4);
  CHECK(c.head_dim == 64);
  CHECK(c.vocab_size == 32000);
  CHECK(c.max_seq_len == 2048);
  CHECK(c.norm_eps == 1e-05f);
  CHECK(c.rope_theta == 10000.0);
  CHECK_FALSE(c.tied_embeddings);
  CHECK(c.bos_id == 1);
  CHECK(c.eos_id == 2);
  CHECK(hf.eos_ids == std::vector<int32_t>{2});
}

TEST_CASE("config.json: defaults, lists and Mistral") {
  json j = llama_config();
  for (const char* key : {"num_key_value_heads", "rope_theta", "rms_norm_eps", "max_position_embeddings",
                          "tie_word_embeddings", "bos_token_id", "eos_token_id", "architectures"}) {
    j.erase(key);
  }
  ModelConfig c = parse(j).config;
  CHECK(c.n_kv_heads == 32);
  CHECK(c.rope_theta == 10000.0);
  CHECK(c.norm_eps == 1e-6f);
  CHECK(c.max_seq_len == 2048);
  CHECK(c.bos_id == 1);
  CHECK(c.eos_id == 2);

  j = llama_config();
  j["eos_token_id"] = {128001, 128008, 128009};
  j["vocab_size"] = 128256;
  j["tie_word_embeddings"] = true;
  j["head_dim"] = 64;
  j["num_key_value_heads"] = nullptr;
  const HfConfig hf = parse(j);
  CHECK(hf.config.eos_id == 128001);
  CHECK(hf.eos_ids == std::vector<int32_t>{128001, 128008, 128009});
  CHECK(hf.config.tied_embeddings);
  CHECK(hf.config.n_kv_heads == 32);

  j = llama_config();
  j["architectures"] = {"MistralForCausalLM"};
  j["model_type"] = "mistral";
  j["max_position_embeddings"] = 32768;
  j["sliding_window"] = 4096;
  c = parse(j).config;
  CHECK(c.architecture == "mistral");
  CHECK(c.max_seq_len == 4096);  // capped: full attention equals the window up to here
  j["sliding_window"] = nullptr;
  CHECK(parse(j).config.max_seq_len == 32768);
}

TEST_CASE("config.json: hf_config_json round-trips a ModelConfig") {
  ModelConfig c = test::tiny_config();
  c.norm_eps = 1e-5f;
  c.rope_theta = 500000.0;
  c.tied_embeddings = true;
  c.architecture = "mistral";
  const ModelConfig back = parse_hf_config(hf_config_json(c), "x").config;
  CHECK(back.architecture == c.architecture);
  CHECK(back.dim == c.dim);
  CHECK(back.hidden_dim == c.hidden_dim);
  CHECK(back.n_layers == c.n_layers);
  CHECK(back.n_heads == c.n_heads);
  CHECK(back.n_kv_heads == c.n_kv_heads);
  CHECK(back.head_dim == c.head_dim);
  CHECK(back.vocab_size == c.vocab_size);
  CHECK(back.max_seq_len == c.max_seq_len);
  CHECK(std::memcmp(&back.norm_eps, &c.norm_eps, sizeof(float)) == 0);
  CHECK(back.rope_theta == c.rope_theta);
  CHECK(back.tied_embeddings == c.tied_embeddings);
  CHECK(back.bos_id == c.bos_id);
  CHECK(back.eos_id == c.eos_id);
}

TEST_CASE("config.json: what ree cannot run is refused with the reason") {
  const std::string path = "dir/config.json";
  const auto refused = [&](const std::function<void(json&)>& edit, const std::string& fragment) {
    json j = llama_config();
    edit(j);
    CHECK_FILE_ERROR(parse(j), path, fragment);
  };
  refused([](json& j) { j["architectures"] = {"GPT2LMHeadModel"}; }, "unsupported architecture GPT2LMHeadModel");
  refused([](json& j) { j.erase("architectures"); j["model_type"] = "qwen2"; }, "unsupported architecture qwen2");
  refused([](json& j) { j.erase("architectures"); j.erase("model_type"); }, "neither architectures nor model_type");
  refused([](json& j) { j["architectures"] = json::array(); }, "architectures must be a non-empty list");
  refused([](json& j) { j["rope_scaling"] = {{"type", "linear"}, {"factor", 2.0}}; }, "rope_scaling {\"factor\":2.0,\"type\":\"linear\"} is not supported");
  refused([](json& j) { j["head_dim"] = 128; }, "head_dim 128 differs from hidden_size / num_attention_heads = 64");
  refused([](json& j) { j["attention_bias"] = true; }, "attention_bias = true is not supported");
  refused([](json& j) { j["mlp_bias"] = true; }, "mlp_bias = true is not supported");
  refused([](json& j) { j["hidden_act"] = "gelu"; }, "hidden_act gelu is not supported");
  refused([](json& j) { j.erase("hidden_size"); }, "missing hidden_size");
  refused([](json& j) { j["hidden_size"] = "2048"; }, "hidden_size must be an integer");
  refused([](json& j) { j["hidden_size"] = 2048.5; }, "hidden_size must be an integer");
  refused([](json& j) { j["hidden_size"] = -1; }, "hidden_size must be an integer in [1,");
  refused([](json& j) { j["num_hidden_layers"] = 0; }, "num_hidden_layers must be an integer in [1,");
  refused([](json& j) { j["vocab_size"] = 1e12; }, "vocab_size must be an integer");
  refused([](json& j) { j["num_key_value_heads"] = 5; }, "not a multiple of num_key_value_heads (5)");
  refused([](json& j) { j["num_attention_heads"] = 30; j["num_key_value_heads"] = 2; }, "hidden_size (2048) is not a multiple of num_attention_heads (30)");
  refused([](json& j) { j["num_attention_heads"] = 2048; j["num_key_value_heads"] = 2048; }, "is odd");
  refused([](json& j) { j["rms_norm_eps"] = 0; }, "rms_norm_eps must be a positive finite number");
  refused([](json& j) { j["rms_norm_eps"] = 1e-50; }, "not representable as a positive float");
  refused([](json& j) { j["rope_theta"] = -1.0; }, "rope_theta must be a positive finite number");
  refused([](json& j) { j["tie_word_embeddings"] = 1; }, "tie_word_embeddings must be true or false");
  refused([](json& j) { j["eos_token_id"] = 32000; }, "eos_token_id must be a token id in [0, 32000), got 32000");
  refused([](json& j) { j["eos_token_id"] = json::array(); }, "eos_token_id is an empty list");
  refused([](json& j) { j["bos_token_id"] = "<s>"; }, "bos_token_id must be a token id");
  CHECK_FILE_ERROR(parse_hf_config("{\"hidden_size\": ", path), path, "config is not valid JSON");
  CHECK_FILE_ERROR(parse_hf_config("[]", path), path, "config is not a JSON object");
  CHECK_FILE_ERROR(read_hf_config("/nonexistent/config.json"), "/nonexistent/config.json", "cannot open");
}

TEST_CASE("tokenizer_config.json: chat_template hint") {
  test::TempDir dir;
  const auto path = dir / "tokenizer_config.json";
  CHECK(read_chat_template_hint(path).empty());  // absent file: no hint
  test::write_text(path, R"({"chat_template": "{% for m in messages %}{{ m.content }}{% endfor %}"})");
  CHECK(read_chat_template_hint(path) == "{% for m in messages %}{{ m.content }}{% endfor %}");
  test::write_text(path, R"({"chat_template": [{"name": "tool_use", "template": "T"}, {"name": "default", "template": "D"}]})");
  CHECK(read_chat_template_hint(path) == "D");
  test::write_text(path, R"({"bos_token": "<s>"})");
  CHECK(read_chat_template_hint(path).empty());
  test::write_text(path, R"({"chat_template": 3})");
  CHECK_FILE_ERROR(read_chat_template_hint(path), path.string(), "chat_template must be a string");
  test::write_text(path, "{");
  CHECK_FILE_ERROR(read_chat_template_hint(path), path.string(), "tokenizer config is not valid JSON");
}
