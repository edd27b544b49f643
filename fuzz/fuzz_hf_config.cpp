// libFuzzer target: config.json parsing on arbitrary text.
// Properties beyond "no crash, no sanitizer report":
//  - every error is a ree::Error with a one-line message naming the file;
//  - an accepted config is self-consistent (heads divide the width, kv
//    heads divide heads, ids inside the vocabulary, positive sizes);
//  - hf_config_json() of it parses back to the same config.
#include <cstdint>
#include <cstring>
#include <string_view>

#include "runtime/error.h"
#include "runtime/loader/hf_config.h"

namespace {

bool consistent(const ree::ModelConfig& c) {
  return c.dim > 0 && c.hidden_dim > 0 && c.n_layers > 0 && c.n_heads > 0 && c.n_kv_heads > 0 &&
         c.n_heads % c.n_kv_heads == 0 && c.head_dim * c.n_heads == c.dim && c.head_dim % 2 == 0 &&
         c.vocab_size > 0 && c.max_seq_len > 0 && c.norm_eps > 0.0f && c.rope_theta > 0.0 &&
         c.bos_id >= 0 && c.bos_id < c.vocab_size && c.eos_id >= 0 && c.eos_id < c.vocab_size;
}

bool same(const ree::ModelConfig& a, const ree::ModelConfig& b) {
  return a.architecture == b.architecture && a.dim == b.dim && a.hidden_dim == b.hidden_dim &&
         a.n_layers == b.n_layers && a.n_heads == b.n_heads && a.n_kv_heads == b.n_kv_heads &&
         a.head_dim == b.head_dim && a.vocab_size == b.vocab_size && a.max_seq_len == b.max_seq_len &&
         std::memcmp(&a.norm_eps, &b.norm_eps, sizeof(float)) == 0 && a.rope_theta == b.rope_theta &&
         a.tied_embeddings == b.tied_embeddings && a.bos_id == b.bos_id && a.eos_id == b.eos_id;
}

void check_error(const ree::Error& e) {
  const char* message = e.what();
  if (std::strchr(message, '\n') != nullptr || std::strncmp(message, "config.json: ", 13) != 0) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  ree::HfConfig parsed;
  try {
    parsed = ree::parse_hf_config(text, "config.json");
  } catch (const ree::Error& e) {
    check_error(e);
    return 0;
  }
  if (!consistent(parsed.config)) __builtin_trap();
  try {
    const ree::HfConfig again = ree::parse_hf_config(ree::hf_config_json(parsed.config), "config.json");
    if (!same(parsed.config, again.config)) __builtin_trap();
  } catch (const ree::Error&) {
    __builtin_trap();  // what ree writes, ree must read
  }
  return 0;
}
