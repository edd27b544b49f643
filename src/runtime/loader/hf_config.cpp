#include "runtime/loader/hf_config.h"

#include <cmath>
#include <fstream>
#include <limits>
#include <sstream>

#include <nlohmann/json.hpp>

#include "runtime/error.h"
#include "runtime/loader/json_fields.h"

namespace ree {

namespace {

using nlohmann::json;

// Limits far above any real Llama-family model; they keep later size
// arithmetic (dim * vocab, heads * head_dim) far from overflow.
constexpr int64_t kMaxDim = 1 << 20;
constexpr int64_t kMaxHiddenDim = 1 << 22;
constexpr int64_t kMaxHeads = 1 << 12;
constexpr int64_t kMaxLayers = 1 << 12;
constexpr int64_t kMaxVocab = 1 << 24;
constexpr int64_t kMaxPositions = int64_t{1} << 30;

std::string architecture_of(const json& config, const std::string& origin) {
  const auto arch_it = config.find("architectures");
  if (arch_it != config.end() && !arch_it->is_null()) {
    if (!arch_it->is_array() || arch_it->empty() || !(*arch_it)[0].is_string()) {
      throw file_error(origin, "architectures must be a non-empty list of strings");
    }
    const std::string& arch = (*arch_it)[0].get_ref<const std::string&>();
    if (arch == "LlamaForCausalLM") return "llama";
    if (arch == "MistralForCausalLM") return "mistral";
    throw file_error(origin, "unsupported architecture " + printable(arch, 60) +
                                 " (supported: LlamaForCausalLM, MistralForCausalLM)");
  }
  const std::optional<std::string> model_type = string_field(config, "model_type", origin);
  if (!model_type) throw file_error(origin, "neither architectures nor model_type says what the model is");
  if (*model_type == "llama" || *model_type == "mistral") return *model_type;
  throw file_error(origin, "unsupported architecture " + printable(*model_type, 60) +
                               " (supported model_type: llama, mistral)");
}

int require_int(const json& config, const std::string& key, const std::string& origin, int64_t hi) {
  const std::optional<int64_t> v = int_field(config, key, origin, 1, hi);
  if (!v) throw file_error(origin, "missing " + key);
  return static_cast<int>(*v);
}

// A token id field: an integer or a list of them (the first is the one
// used). Absent or null gives `fallback`.
std::vector<int32_t> token_ids(const json& config, const std::string& key, const std::string& origin,
                               int32_t fallback, int vocab_size) {
  const auto it = config.find(key);
  if (it == config.end() || it->is_null()) return {fallback};
  std::vector<int32_t> ids;
  const auto add = [&](const json& value) {
    const std::optional<int64_t> id = as_int(value, 0, vocab_size - 1);
    if (!id) {
      throw file_error(origin, key + " must be a token id in [0, " + std::to_string(vocab_size) +
                                   "), got " + short_dump(value));
    }
    ids.push_back(static_cast<int32_t>(*id));
  };
  if (it->is_array()) {
    for (const json& value : *it) add(value);
    if (ids.empty()) throw file_error(origin, key + " is an empty list");
  } else {
    add(*it);
  }
  return ids;
}

// Fields whose presence would change the arithmetic in ways ree does not
// implement; refusing them is better than producing a wrong model.
void reject_unsupported_features(const json& config, const std::string& origin) {
  const auto scaling = config.find("rope_scaling");
  if (scaling != config.end() && !scaling->is_null()) {
    throw file_error(origin, "rope_scaling " + short_dump(*scaling) + " is not supported");
  }
  if (bool_field(config, "attention_bias", origin).value_or(false)) {
    throw file_error(origin, "attention_bias = true is not supported");
  }
  if (bool_field(config, "mlp_bias", origin).value_or(false)) {
    throw file_error(origin, "mlp_bias = true is not supported");
  }
  const std::optional<std::string> act = string_field(config, "hidden_act", origin);
  if (act && *act != "silu") {
    throw file_error(origin, "hidden_act " + printable(*act, 40) + " is not supported (only silu)");
  }
}

double positive_number(const json& config, const std::string& key, const std::string& origin,
                       double fallback) {
  const double v = number_field(config, key, origin).value_or(fallback);
  if (!std::isfinite(v) || v <= 0.0) throw file_error(origin, key + " must be a positive finite number");
  return v;
}

void read_attention_shape(const json& config, const std::string& origin, ModelConfig* c) {
  c->n_heads = require_int(config, "num_attention_heads", origin, kMaxHeads);
  c->n_kv_heads = static_cast<int>(
      int_field(config, "num_key_value_heads", origin, 1, kMaxHeads).value_or(c->n_heads));
  if (c->n_heads % c->n_kv_heads != 0) {
    throw file_error(origin, "num_attention_heads (" + std::to_string(c->n_heads) +
                                 ") is not a multiple of num_key_value_heads (" +
                                 std::to_string(c->n_kv_heads) + ")");
  }
  if (c->dim % c->n_heads != 0) {
    throw file_error(origin, "hidden_size (" + std::to_string(c->dim) + ") is not a multiple of num_attention_heads (" +
                                 std::to_string(c->n_heads) + ")");
  }
  c->head_dim = c->dim / c->n_heads;
  const std::optional<int64_t> head_dim = int_field(config, "head_dim", origin, 1, kMaxDim);
  if (head_dim && *head_dim != c->head_dim) {
    throw file_error(origin, "head_dim " + std::to_string(*head_dim) + " differs from hidden_size / num_attention_heads = " +
                                 std::to_string(c->head_dim) + " (not supported)");
  }
  if (c->head_dim % 2 != 0) {
    throw file_error(origin, "head size " + std::to_string(c->head_dim) + " is odd; RoPE needs pairs");
  }
}

}  // namespace

HfConfig parse_hf_config(std::string_view json_text, const std::string& origin) {
  const json config = parse_json(json_text, origin, "config");
  if (!config.is_object()) throw file_error(origin, "config is not a JSON object");
  HfConfig out;
  ModelConfig& c = out.config;
  c.architecture = architecture_of(config, origin);
  reject_unsupported_features(config, origin);
  c.dim = require_int(config, "hidden_size", origin, kMaxDim);
  c.hidden_dim = require_int(config, "intermediate_size", origin, kMaxHiddenDim);
  c.n_layers = require_int(config, "num_hidden_layers", origin, kMaxLayers);
  c.vocab_size = require_int(config, "vocab_size", origin, kMaxVocab);
  read_attention_shape(config, origin, &c);
  c.max_seq_len = int_field(config, "max_position_embeddings", origin, 1, kMaxPositions).value_or(2048);
  // Mistral's sliding window only differs from full causal attention past
  // the window, so a context capped at the window is computed exactly.
  const std::optional<int64_t> window = int_field(config, "sliding_window", origin, 1, kMaxPositions);
  if (window && *window < c.max_seq_len) c.max_seq_len = *window;
  // Checked before the cast: converting a double beyond float's range is
  // undefined behaviour, and one that rounds to 0 would divide by zero.
  const double eps = positive_number(config, "rms_norm_eps", origin, 1e-6);
  if (eps > std::numeric_limits<float>::max() || static_cast<float>(eps) <= 0.0f) {
    throw file_error(origin, "rms_norm_eps is not representable as a positive float");
  }
  c.norm_eps = static_cast<float>(eps);
  c.rope_theta = positive_number(config, "rope_theta", origin, 10000.0);
  c.tied_embeddings = bool_field(config, "tie_word_embeddings", origin).value_or(false);
  c.bos_id = token_ids(config, "bos_token_id", origin, 1, c.vocab_size).front();
  out.eos_ids = token_ids(config, "eos_token_id", origin, 2, c.vocab_size);
  c.eos_id = out.eos_ids.front();
  return out;
}

namespace {
std::string read_whole_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw file_error(path.string(), "cannot open");
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw file_error(path.string(), "read failed");
  return text.str();
}
}  // namespace

HfConfig read_hf_config(const std::filesystem::path& path) {
  return parse_hf_config(read_whole_file(path), path.string());
}

std::string hf_config_json(const ModelConfig& c) {
  nlohmann::ordered_json config;
  const bool mistral = c.architecture == "mistral";
  config["architectures"] = {mistral ? "MistralForCausalLM" : "LlamaForCausalLM"};
  config["model_type"] = mistral ? "mistral" : "llama";
  config["hidden_size"] = c.dim;
  config["intermediate_size"] = c.hidden_dim;
  config["num_hidden_layers"] = c.n_layers;
  config["num_attention_heads"] = c.n_heads;
  config["num_key_value_heads"] = c.n_kv_heads;
  config["head_dim"] = c.head_dim;
  config["vocab_size"] = c.vocab_size;
  config["max_position_embeddings"] = c.max_seq_len;
  // The float's exact value as a double: parsing it back and rounding to
  // float gives the same float.
  config["rms_norm_eps"] = static_cast<double>(c.norm_eps);
  config["rope_theta"] = c.rope_theta;
  config["rope_scaling"] = nullptr;
  config["hidden_act"] = "silu";
  config["tie_word_embeddings"] = c.tied_embeddings;
  config["bos_token_id"] = c.bos_id;
  config["eos_token_id"] = c.eos_id;
  return config.dump(2) + "\n";
}

std::string read_chat_template_hint(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return "";
  const std::string origin = path.string();
  const json config = parse_json(read_whole_file(path), origin, "tokenizer config");
  if (!config.is_object()) throw file_error(origin, "tokenizer config is not a JSON object");
  const auto it = config.find("chat_template");
  if (it == config.end() || it->is_null()) return "";
  if (it->is_string()) return it->get<std::string>();
  if (it->is_array()) {
    // [{"name": "default", "template": "..."}, {"name": "tool_use", ...}]
    std::string first;
    for (const json& entry : *it) {
      const std::optional<std::string> name = string_field(entry, "name", origin);
      const std::optional<std::string> text = string_field(entry, "template", origin);
      if (!text) continue;
      if (name && *name == "default") return *text;
      if (first.empty()) first = *text;
    }
    return first;
  }
  throw file_error(origin, "chat_template must be a string or a list of {name, template}");
}

}  // namespace ree
