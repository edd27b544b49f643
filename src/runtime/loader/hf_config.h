#pragma once
// config.json of a Hugging Face Llama-family checkpoint -> ModelConfig.
//
// Accepted: architectures[0] LlamaForCausalLM or MistralForCausalLM, or (with
// no architectures) model_type "llama" / "mistral". Anything that would make
// the model compute something ree does not implement is rejected with a
// message naming the field: rope_scaling, attention/mlp biases, an
// activation other than silu, a head_dim other than hidden/heads.
//
// Defaults for absent fields are those of transformers' LlamaConfig:
// num_key_value_heads = num_attention_heads, rope_theta = 10000,
// rms_norm_eps = 1e-6, max_position_embeddings = 2048, tie_word_embeddings
// = false, bos_token_id = 1, eos_token_id = 2.
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/model.h"

namespace ree {

struct HfConfig {
  ModelConfig config;
  std::vector<int32_t> eos_ids;  // every id of eos_token_id (config.eos_id is the first)
};

// Parses config.json text; `origin` names the file in errors.
HfConfig parse_hf_config(std::string_view json_text, const std::string& origin);
HfConfig read_hf_config(const std::filesystem::path& path);

// config.json text for `config` (what `ree convert` writes next to the
// safetensors); parse_hf_config of it gives `config` back.
std::string hf_config_json(const ModelConfig& config);

// tokenizer_config.json's "chat_template" (a string, or the "default" entry
// of a list of {name, template}); empty when the file or field is absent.
// A present but malformed file is an error: it would silently change how
// chats are rendered.
std::string read_chat_template_hint(const std::filesystem::path& tokenizer_config_path);

}  // namespace ree
