// Llama in GGUF (gguf_llama.h): names, the Q/K permutation, config and
// tokenizer from metadata, tensors as canonical-name views.
#include "runtime/loader/gguf_llama.h"

#include <charconv>
#include <limits>
#include <unordered_map>

#include "runtime/error.h"
#include "runtime/loader/json_fields.h"

namespace ree {
namespace gguf {
namespace {

// Per-layer tensors: GGUF suffix after "blk.N." and Hugging Face suffix
// after "model.layers.N.".
struct LayerName {
  const char* gguf;
  const char* hf;
};
constexpr LayerName kLayerNames[] = {
    {"attn_norm.weight", "input_layernorm.weight"},
    {"attn_q.weight", "self_attn.q_proj.weight"},
    {"attn_k.weight", "self_attn.k_proj.weight"},
    {"attn_v.weight", "self_attn.v_proj.weight"},
    {"attn_output.weight", "self_attn.o_proj.weight"},
    {"ffn_norm.weight", "post_attention_layernorm.weight"},
    {"ffn_gate.weight", "mlp.gate_proj.weight"},
    {"ffn_up.weight", "mlp.up_proj.weight"},
    {"ffn_down.weight", "mlp.down_proj.weight"},
};
struct GlobalName {
  const char* gguf;
  const char* hf;
};
constexpr GlobalName kGlobalNames[] = {
    {"token_embd.weight", "model.embed_tokens.weight"},
    {"output_norm.weight", "model.norm.weight"},
    {"output.weight", "lm_head.weight"},
};

// "PREFIX<decimal>." at the start of `name`: the layer number and the rest.
std::optional<std::pair<int, std::string_view>> split_layer(std::string_view name, std::string_view prefix) {
  if (name.substr(0, prefix.size()) != prefix) return std::nullopt;
  name.remove_prefix(prefix.size());
  const size_t dot = name.find('.');
  if (dot == std::string_view::npos || dot == 0 || dot > 6) return std::nullopt;
  if (name[0] < '0' || name[0] > '9') return std::nullopt;
  if (name[0] == '0' && dot > 1) return std::nullopt;  // one spelling per number
  int layer = 0;
  const auto [end, ec] = std::from_chars(name.data(), name.data() + dot, layer);
  if (ec != std::errc() || end != name.data() + dot) return std::nullopt;
  return std::make_pair(layer, name.substr(dot + 1));
}

std::optional<int64_t> required_int(const File& f, const std::string& key, const std::string& origin,
                                    int64_t lo, int64_t hi) {
  const std::optional<int64_t> v = get_int(f, key, origin);
  if (!v) return std::nullopt;
  if (*v < lo || *v > hi) {
    throw file_error(origin, "metadata " + key + " = " + std::to_string(*v) + " is outside [" + std::to_string(lo) +
                                 ", " + std::to_string(hi) + "]");
  }
  return v;
}

int64_t must_int(const File& f, const std::string& key, const std::string& origin, int64_t lo, int64_t hi) {
  const std::optional<int64_t> v = required_int(f, key, origin, lo, hi);
  if (!v) throw file_error(origin, "missing metadata " + key);
  return *v;
}

// Keys that change RoPE in ways ree does not implement.
void reject_rope_scaling(const File& f, const std::string& origin) {
  for (const auto& [key, value] : f.metadata) {
    const bool scaling = key.rfind("llama.rope.scaling.", 0) == 0 || key == "llama.rope.scale_linear";
    if (!scaling) continue;
    if (key == "llama.rope.scaling.type" && value.type == ValueType::String && value.string_value == "none") continue;
    if ((key == "llama.rope.scaling.factor" || key == "llama.rope.scale_linear") && value.is_float() &&
        value.float_value == 1.0) {
      continue;
    }
    throw file_error(origin, "rope scaling (" + printable(key) + ") is not supported");
  }
}

const Value* array_of(const File& f, const std::string& key, ValueType element, const std::string& origin) {
  const Value* v = f.find(key);
  if (v == nullptr) return nullptr;
  if (v->type != ValueType::Array || v->element_type != element) {
    throw file_error(origin, "metadata " + key + " must be an array of " + value_type_name(element));
  }
  return v;
}

std::optional<int32_t> token_id(const File& f, const std::string& key, size_t n_tokens, const std::string& origin) {
  const std::optional<int64_t> id = required_int(f, key, origin, 0, std::numeric_limits<int32_t>::max());
  if (!id) return std::nullopt;
  if (static_cast<uint64_t>(*id) >= n_tokens) {
    throw file_error(origin, "metadata " + key + " = " + std::to_string(*id) + " is outside the vocabulary of " +
                                 std::to_string(n_tokens));
  }
  return static_cast<int32_t>(*id);
}

kernels::DType dtype_of(TensorType type) {
  switch (type) {
    case TensorType::F32: return kernels::DType::F32;
    case TensorType::F16: return kernels::DType::F16;
    case TensorType::Q8_0: return kernels::DType::Q8_0;
    case TensorType::BF16: return kernels::DType::BF16;
  }
  return kernels::DType::F32;
}

}  // namespace

std::optional<std::string> hf_name_for(std::string_view gguf_name) {
  for (const GlobalName& n : kGlobalNames) {
    if (gguf_name == n.gguf) return std::string(n.hf);
  }
  const auto layer = split_layer(gguf_name, "blk.");
  if (!layer) return std::nullopt;
  for (const LayerName& n : kLayerNames) {
    if (layer->second == n.gguf) return "model.layers." + std::to_string(layer->first) + "." + n.hf;
  }
  return std::nullopt;
}

std::optional<std::string> gguf_name_for(std::string_view hf_name) {
  for (const GlobalName& n : kGlobalNames) {
    if (hf_name == n.hf) return std::string(n.gguf);
  }
  const auto layer = split_layer(hf_name, "model.layers.");
  if (!layer) return std::nullopt;
  for (const LayerName& n : kLayerNames) {
    if (layer->second == n.hf) return "blk." + std::to_string(layer->first) + "." + n.gguf;
  }
  return std::nullopt;
}

int rope_permuted_heads(std::string_view hf_name, const ModelConfig& config) {
  const auto layer = split_layer(hf_name, "model.layers.");
  if (!layer) return 0;
  if (layer->second == "self_attn.q_proj.weight") return config.n_heads;
  if (layer->second == "self_attn.k_proj.weight") return config.n_kv_heads;
  return 0;
}

int64_t hf_row_of_gguf_row(int64_t gguf_row, int64_t head_dim) {
  const int64_t half = head_dim / 2;
  const int64_t head = gguf_row / head_dim;
  const int64_t r = gguf_row % head_dim;  // = 2j + s
  return head * head_dim + (r % 2) * half + r / 2;
}

int64_t gguf_row_of_hf_row(int64_t hf_row, int64_t head_dim) {
  const int64_t half = head_dim / 2;
  const int64_t head = hf_row / head_dim;
  const int64_t r = hf_row % head_dim;  // = s*half + j
  return head * head_dim + 2 * (r % half) + r / half;
}

std::vector<int32_t> unpermute_row_order(int64_t rows, int n_heads) {
  std::vector<int32_t> order;
  if (n_heads <= 0 || rows % n_heads != 0 || (rows / n_heads) % 2 != 0) return order;
  const int64_t head_dim = rows / n_heads;
  order.resize(static_cast<size_t>(rows));
  for (int64_t n = 0; n < rows; ++n) order[static_cast<size_t>(n)] = static_cast<int32_t>(gguf_row_of_hf_row(n, head_dim));
  return order;
}

ModelConfig config_from_metadata(const File& f, const std::string& origin) {
  const std::optional<std::string> arch = get_string(f, "general.architecture", origin);
  if (!arch) throw file_error(origin, "missing metadata general.architecture");
  if (*arch != "llama") throw file_error(origin, "unsupported architecture " + printable(*arch));
  reject_rope_scaling(f, origin);
  if (required_int(f, "llama.expert_count", origin, 0, std::numeric_limits<int64_t>::max()).value_or(0) > 0) {
    throw file_error(origin, "mixture-of-experts models (llama.expert_count) are not supported");
  }
  constexpr int64_t kMaxSize = int64_t{1} << 20;  // far above any Llama width, keeps int products safe
  ModelConfig c;
  c.architecture = "llama";
  c.dim = static_cast<int>(must_int(f, "llama.embedding_length", origin, 1, kMaxSize));
  c.hidden_dim = static_cast<int>(must_int(f, "llama.feed_forward_length", origin, 1, kMaxSize));
  c.n_layers = static_cast<int>(must_int(f, "llama.block_count", origin, 1, 65536));
  c.n_heads = static_cast<int>(must_int(f, "llama.attention.head_count", origin, 1, kMaxSize));
  c.n_kv_heads = static_cast<int>(
      required_int(f, "llama.attention.head_count_kv", origin, 1, kMaxSize).value_or(c.n_heads));
  c.max_seq_len = must_int(f, "llama.context_length", origin, 1, int64_t{1} << 31);
  if (c.dim % c.n_heads != 0 || c.n_heads % c.n_kv_heads != 0 || (c.dim / c.n_heads) % 2 != 0) {
    throw file_error(origin, "llama.embedding_length " + std::to_string(c.dim) + " with " + std::to_string(c.n_heads) +
                                 " heads and " + std::to_string(c.n_kv_heads) + " kv heads is not a valid Llama shape");
  }
  c.head_dim = c.dim / c.n_heads;
  for (const char* key : {"llama.rope.dimension_count", "llama.attention.key_length", "llama.attention.value_length"}) {
    const std::optional<int64_t> v = required_int(f, key, origin, 1, kMaxSize);
    if (v && *v != c.head_dim) {
      throw file_error(origin, std::string("metadata ") + key + " = " + std::to_string(*v) +
                                   " differs from the head size " + std::to_string(c.head_dim) + " (not supported)");
    }
  }
  const std::optional<double> eps = get_float(f, "llama.attention.layer_norm_rms_epsilon", origin);
  if (!eps) throw file_error(origin, "missing metadata llama.attention.layer_norm_rms_epsilon");
  if (!(*eps > 0.0 && *eps < 1.0)) throw file_error(origin, "llama.attention.layer_norm_rms_epsilon is out of range");
  c.norm_eps = static_cast<float>(*eps);
  c.rope_theta = get_float(f, "llama.rope.freq_base", origin).value_or(10000.0);
  if (!(c.rope_theta > 0.0 && c.rope_theta < 1e12)) throw file_error(origin, "llama.rope.freq_base is out of range");

  const Value* tokens = array_of(f, "tokenizer.ggml.tokens", ValueType::String, origin);
  const std::optional<int64_t> vocab = required_int(f, "llama.vocab_size", origin, 1, int64_t{1} << 24);
  if (tokens == nullptr && !vocab) throw file_error(origin, "missing metadata tokenizer.ggml.tokens");
  const size_t n_tokens = tokens != nullptr ? tokens->strings.size() : static_cast<size_t>(*vocab);
  if (vocab && static_cast<size_t>(*vocab) != n_tokens) {
    throw file_error(origin, "llama.vocab_size " + std::to_string(*vocab) + " differs from the " +
                                 std::to_string(n_tokens) + " entries of tokenizer.ggml.tokens");
  }
  if (n_tokens == 0 || n_tokens > (size_t{1} << 24)) throw file_error(origin, "tokenizer.ggml.tokens has a bad size");
  c.vocab_size = static_cast<int>(n_tokens);
  c.bos_id = token_id(f, "tokenizer.ggml.bos_token_id", n_tokens, origin).value_or(1);
  c.eos_id = token_id(f, "tokenizer.ggml.eos_token_id", n_tokens, origin).value_or(2);
  c.tied_embeddings = f.find_tensor("output.weight") == nullptr;
  return c;
}

sp::ModelProto tokenizer_from_metadata(const File& f, const std::string& origin) {
  const std::optional<std::string> model = get_string(f, "tokenizer.ggml.model", origin);
  if (!model) throw file_error(origin, "missing metadata tokenizer.ggml.model");
  if (*model != "llama") {
    throw file_error(origin, "unsupported tokenizer model " + printable(*model) +
                                 " (ree reads SentencePiece \"llama\" tokenizers)");
  }
  const Value* tokens = array_of(f, "tokenizer.ggml.tokens", ValueType::String, origin);
  const Value* scores = array_of(f, "tokenizer.ggml.scores", ValueType::Float32, origin);
  const Value* types = array_of(f, "tokenizer.ggml.token_type", ValueType::Int32, origin);
  if (tokens == nullptr || scores == nullptr || types == nullptr) {
    throw file_error(origin, "missing metadata tokenizer.ggml.tokens, .scores or .token_type");
  }
  const size_t n = tokens->strings.size();
  if (n == 0 || scores->floats.size() != n || types->ints.size() != n) {
    throw file_error(origin, "tokenizer.ggml.tokens, .scores and .token_type have different lengths (" +
                                 std::to_string(n) + ", " + std::to_string(scores->floats.size()) + ", " +
                                 std::to_string(types->ints.size()) + ")");
  }
  sp::ModelProto proto;
  proto.pieces.resize(n);
  std::unordered_map<std::string_view, size_t> seen;
  int unknown_count = 0;
  bool has_bytes = false;
  for (size_t i = 0; i < n; ++i) {
    sp::Piece& p = proto.pieces[i];
    p.piece = tokens->strings[i];
    p.score = static_cast<float>(scores->floats[i]);
    if (!sp::is_valid_piece_type(types->ints[i])) {
      throw file_error(origin, "tokenizer.ggml.token_type[" + std::to_string(i) + "] = " +
                                   std::to_string(types->ints[i]) + " is not a token type");
    }
    p.type = static_cast<sp::PieceType>(types->ints[i]);
    if (p.piece.empty()) throw file_error(origin, "tokenizer.ggml.tokens[" + std::to_string(i) + "] is empty");
    if (!seen.emplace(tokens->strings[i], i).second) {
      throw file_error(origin, "tokenizer.ggml.tokens has the piece " + printable(p.piece) + " twice");
    }
    unknown_count += p.type == sp::PieceType::Unknown;
    has_bytes = has_bytes || p.type == sp::PieceType::Byte;
  }
  if (unknown_count != 1) {
    throw file_error(origin, "tokenizer.ggml.token_type marks " + std::to_string(unknown_count) +
                                 " unknown tokens (SentencePiece needs exactly one)");
  }
  sp::TrainerSpec& t = proto.trainer_spec;
  t.model_type = sp::ModelType::Bpe;
  t.vocab_size = static_cast<int32_t>(n);
  t.byte_fallback = has_bytes;
  const auto set_id = [&](const char* key, int32_t fallback, int32_t& id, std::string& piece) {
    id = token_id(f, key, n, origin).value_or(fallback);
    if (id >= 0 && static_cast<size_t>(id) < n) piece = proto.pieces[static_cast<size_t>(id)].piece;
  };
  set_id("tokenizer.ggml.unknown_token_id", 0, t.unk_id, t.unk_piece);
  set_id("tokenizer.ggml.bos_token_id", 1, t.bos_id, t.bos_piece);
  set_id("tokenizer.ggml.eos_token_id", 2, t.eos_id, t.eos_piece);
  set_id("tokenizer.ggml.padding_token_id", -1, t.pad_id, t.pad_piece);
  if (proto.pieces[static_cast<size_t>(t.unk_id)].type != sp::PieceType::Unknown) {
    throw file_error(origin, "tokenizer.ggml.unknown_token_id " + std::to_string(t.unk_id) +
                                 " is not the token marked unknown");
  }
  sp::NormalizerSpec& norm = proto.normalizer_spec;
  norm.name = "identity";
  norm.add_dummy_prefix = get_bool(f, "tokenizer.ggml.add_space_prefix", origin).value_or(true);
  norm.remove_extra_whitespaces = false;
  norm.escape_whitespaces = true;
  return proto;
}

TensorSource tensor_source_from_gguf(const File& f, std::span<const uint8_t> bytes, const ModelConfig& config,
                                     const std::string& origin) {
  TensorSource source;
  source.origin = origin;
  for (const TensorInfo& info : f.tensors) {
    const std::optional<std::string> hf = hf_name_for(info.name);
    if (!hf) throw file_error(origin, "unexpected tensor " + printable(info.name) + " (not part of a Llama model)");
    if (info.ne.size() > 2) {
      throw file_error(origin, "tensor " + printable(info.name) + " has " + std::to_string(info.ne.size()) +
                                   " dimensions; Llama weights have 1 or 2");
    }
    if (info.file_offset > bytes.size() || info.nbytes > bytes.size() - info.file_offset) {
      throw file_error(origin, "tensor " + printable(info.name) + " lies outside the file");  // parse_gguf checked this
    }
    SourceTensor s;
    s.view.dtype = dtype_of(info.type);
    s.view.cols = static_cast<int64_t>(info.ne[0]);
    s.view.rows = info.ne.size() == 2 ? static_cast<int64_t>(info.ne[1]) : 1;
    s.view.data = bytes.data() + info.file_offset;
    s.rank = static_cast<int>(info.ne.size());
    s.nbytes = info.nbytes;
    s.file = origin;
    if (const int heads = rope_permuted_heads(*hf, config); heads > 0 && s.rank == 2) {
      s.row_order = unpermute_row_order(s.view.rows, heads);
    }
    if (!source.tensors.emplace(*hf, std::move(s)).second) {
      throw file_error(origin, "tensor " + printable(info.name) + " appears twice");  // e.g. blk.1 and blk.01
    }
  }
  return source;
}

}  // namespace gguf
}  // namespace ree
