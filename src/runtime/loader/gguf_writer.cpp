// GGUF writer (gguf_writer.h): serialisation of metadata and tensor infos,
// streaming of tensor data, and the Llama layout llama.cpp's converter uses.
#include "runtime/loader/gguf_writer.h"

#include <algorithm>
#include <bit>
#include <cstdio>
#include <cstdint>
#include <set>

#include "kernels/thread_pool.h"
#include "runtime/error.h"
#include "runtime/loader/gguf_llama.h"
#include "runtime/loader/progress.h"
#include "runtime/loader/row_encode.h"

namespace ree::gguf {
namespace {

using Sink = std::function<void(const uint8_t* data, size_t n)>;

class HeaderBuilder {
 public:
  void uint(uint64_t v, int n_bytes) {
    for (int i = 0; i < n_bytes; ++i) out_.push_back(static_cast<uint8_t>(v >> (8 * i)));
  }
  void u32(uint32_t v) { uint(v, 4); }
  void u64(uint64_t v) { uint(v, 8); }
  void string(const std::string& s) {
    u64(s.size());
    out_.insert(out_.end(), s.begin(), s.end());
  }
  void float_of(ValueType type, double v) {
    if (type == ValueType::Float32) {
      u32(std::bit_cast<uint32_t>(static_cast<float>(v)));
    } else {
      u64(std::bit_cast<uint64_t>(v));
    }
  }
  void integer_of(ValueType type, int64_t v) {
    const uint64_t bits = static_cast<uint64_t>(v);
    switch (type) {
      case ValueType::Uint8: case ValueType::Int8: case ValueType::Bool: uint(bits, 1); break;
      case ValueType::Uint16: case ValueType::Int16: uint(bits, 2); break;
      case ValueType::Uint32: case ValueType::Int32: uint(bits, 4); break;
      default: uint(bits, 8); break;
    }
  }
  void value(const Value& v) {
    switch (v.type) {
      case ValueType::String: string(v.string_value); break;
      case ValueType::Float32: case ValueType::Float64: float_of(v.type, v.float_value); break;
      case ValueType::Array: array(v); break;
      default: integer_of(v.type, v.int_value); break;
    }
  }
  void array(const Value& v) {
    u32(static_cast<uint32_t>(v.element_type));
    u64(v.array_size());
    for (const std::string& s : v.strings) string(s);
    for (const Value& a : v.arrays) array(a);
    for (double f : v.floats) float_of(v.element_type, f);
    for (int64_t i : v.ints) integer_of(v.element_type, i);
  }
  std::vector<uint8_t>& bytes() { return out_; }

 private:
  std::vector<uint8_t> out_;
};

uint64_t align_up(uint64_t v, uint64_t alignment) { return (v + alignment - 1) / alignment * alignment; }

Metadata with_alignment(const Metadata& metadata, uint32_t alignment) {
  Metadata out = metadata;
  const bool present = std::any_of(out.begin(), out.end(), [](const auto& kv) { return kv.first == "general.alignment"; });
  if (!present && alignment != kDefaultAlignment) out.emplace_back("general.alignment", uint32_value(alignment));
  return out;
}

void check_plan(const std::vector<TensorPlan>& tensors, uint32_t alignment, const std::string& origin) {
  if (alignment == 0 || (alignment & (alignment - 1)) != 0) throw file_error(origin, "alignment must be a power of two");
  std::set<std::string> names;
  for (const TensorPlan& t : tensors) {
    if (!names.insert(t.name).second) throw file_error(origin, "duplicate tensor " + t.name);
    if (t.ne.empty() || t.ne.size() > kMaxDims) throw file_error(origin, "tensor " + t.name + " has a bad rank");
    if (!tensor_row_bytes(t.type, t.ne[0])) {
      throw file_error(origin, "tensor " + t.name + " rows are not whole " + tensor_type_name(t.type) + " blocks");
    }
  }
}

// Header, metadata, tensor infos (offsets assigned in order, aligned) and
// the padding before the data section.
std::vector<uint8_t> header_bytes(const Metadata& metadata, const std::vector<TensorPlan>& tensors,
                                  uint32_t alignment) {
  HeaderBuilder h;
  h.u32(kMagic);
  h.u32(3);
  h.u64(tensors.size());
  h.u64(metadata.size());
  for (const auto& [key, value] : metadata) {
    h.string(key);
    h.u32(static_cast<uint32_t>(value.type));
    h.value(value);
  }
  uint64_t offset = 0;
  for (const TensorPlan& t : tensors) {
    h.string(t.name);
    h.u32(static_cast<uint32_t>(t.ne.size()));
    for (uint64_t ne : t.ne) h.u64(ne);
    h.u32(static_cast<uint32_t>(t.type));
    h.u64(offset);
    offset = align_up(offset + tensor_nbytes(t), alignment);
  }
  std::vector<uint8_t>& bytes = h.bytes();
  bytes.resize(align_up(bytes.size(), alignment), 0);
  return std::move(bytes);
}

void emit(const Metadata& metadata, const std::vector<TensorPlan>& tensors, const FillTensor& fill,
          uint32_t alignment, Progress* progress, const Sink& sink) {
  const Metadata full = with_alignment(metadata, alignment);
  const std::vector<uint8_t> header = header_bytes(full, tensors, alignment);
  sink(header.data(), header.size());
  std::vector<uint8_t> buffer;
  for (size_t i = 0; i < tensors.size(); ++i) {
    const uint64_t nbytes = tensor_nbytes(tensors[i]);
    const uint64_t padded = align_up(nbytes, alignment);
    buffer.assign(static_cast<size_t>(padded), 0);
    fill(i, std::span<uint8_t>(buffer.data(), static_cast<size_t>(nbytes)));
    sink(buffer.data(), buffer.size());
    if (progress != nullptr) progress->add(nbytes);
  }
}

}  // namespace

Value uint32_value(uint32_t v) {
  Value out;
  out.type = ValueType::Uint32;
  out.int_value = v;
  return out;
}
Value int32_value(int32_t v) {
  Value out;
  out.type = ValueType::Int32;
  out.int_value = v;
  return out;
}
Value float32_value(float v) {
  Value out;
  out.type = ValueType::Float32;
  out.float_value = v;
  return out;
}
Value bool_value(bool v) {
  Value out;
  out.type = ValueType::Bool;
  out.int_value = v ? 1 : 0;
  return out;
}
Value string_value(std::string v) {
  Value out;
  out.type = ValueType::String;
  out.string_value = std::move(v);
  return out;
}
Value string_array(std::vector<std::string> v) {
  Value out;
  out.type = ValueType::Array;
  out.element_type = ValueType::String;
  out.strings = std::move(v);
  return out;
}
Value float32_array(const std::vector<float>& v) {
  Value out;
  out.type = ValueType::Array;
  out.element_type = ValueType::Float32;
  out.floats.assign(v.begin(), v.end());
  return out;
}
Value int32_array(const std::vector<int32_t>& v) {
  Value out;
  out.type = ValueType::Array;
  out.element_type = ValueType::Int32;
  out.ints.assign(v.begin(), v.end());
  return out;
}

uint64_t tensor_nbytes(const TensorPlan& t) {
  uint64_t rows = 1;
  for (size_t d = 1; d < t.ne.size(); ++d) rows *= t.ne[d];
  return tensor_row_bytes(t.type, t.ne.empty() ? 0 : t.ne[0]).value_or(0) * rows;
}

void write_gguf(const std::filesystem::path& path, const Metadata& metadata,
                const std::vector<TensorPlan>& tensors, const FillTensor& fill, const WriteOptions& options) {
  const std::string origin = path.string();
  check_plan(tensors, options.alignment, origin);
  const std::filesystem::path tmp = origin + ".tmp";
  std::FILE* out = std::fopen(tmp.c_str(), "wb");
  if (out == nullptr) throw file_error(origin, "cannot create " + tmp.string());
  bool ok = true;
  try {
    emit(metadata, tensors, fill, options.alignment, options.progress, [&](const uint8_t* data, size_t n) {
      ok = ok && std::fwrite(data, 1, n, out) == n;
    });
  } catch (...) {
    std::fclose(out);
    std::error_code ec;
    std::filesystem::remove(tmp, ec);
    throw;
  }
  ok = (std::fclose(out) == 0) && ok;
  std::error_code ec;
  if (ok) std::filesystem::rename(tmp, path, ec);
  if (!ok || ec) {
    std::filesystem::remove(tmp, ec);
    throw file_error(origin, "write failed (disk full or not writable?)");
  }
}

std::vector<uint8_t> gguf_bytes(const Metadata& metadata, const std::vector<TensorPlan>& tensors,
                                const FillTensor& fill, uint32_t alignment) {
  check_plan(tensors, alignment, "<memory>");
  std::vector<uint8_t> out;
  emit(metadata, tensors, fill, alignment, nullptr,
       [&](const uint8_t* data, size_t n) { out.insert(out.end(), data, data + n); });
  return out;
}

// ---- Llama ----------------------------------------------------------------

namespace {

// llama.cpp's LLAMA_FTYPE numbers for general.file_type.
uint32_t file_type_of(kernels::DType dtype) {
  switch (dtype) {
    case kernels::DType::F32: return 0;   // ALL_F32
    case kernels::DType::F16: return 1;   // MOSTLY_F16
    case kernels::DType::Q8_0: return 7;  // MOSTLY_Q8_0
    case kernels::DType::BF16: return 32; // MOSTLY_BF16
  }
  return 0;
}

TensorType tensor_type_of(kernels::DType dtype) {
  switch (dtype) {
    case kernels::DType::F32: return TensorType::F32;
    case kernels::DType::F16: return TensorType::F16;
    case kernels::DType::Q8_0: return TensorType::Q8_0;
    case kernels::DType::BF16: return TensorType::BF16;
  }
  return TensorType::F32;
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

// Settings of a SentencePiece model that GGUF's llama tokenizer cannot
// carry: converting would silently change how text is tokenized.
void check_tokenizer_representable(const sp::ModelProto& tok, int vocab_size, const std::string& origin) {
  const auto reject = [&](const std::string& what) {
    throw file_error(origin, "tokenizer cannot be stored in GGUF: " + what);
  };
  if (tok.trainer_spec.model_type != sp::ModelType::Bpe) reject("model type is not BPE");
  if (!tok.normalizer_spec.precompiled_charsmap.empty()) {
    reject("it normalises text (" + tok.normalizer_spec.name + ")");
  }
  if (tok.normalizer_spec.remove_extra_whitespaces) reject("remove_extra_whitespaces is set");
  if (!tok.normalizer_spec.escape_whitespaces) reject("escape_whitespaces is off");
  if (tok.trainer_spec.treat_whitespace_as_suffix) reject("treat_whitespace_as_suffix is set");
  if (tok.trainer_spec.allow_whitespace_only_pieces) reject("allow_whitespace_only_pieces is set");
  if (tok.pieces.empty()) reject("it has no pieces");
  if (tok.pieces.size() > static_cast<size_t>(vocab_size)) {
    reject(std::to_string(tok.pieces.size()) + " pieces for a vocabulary of " + std::to_string(vocab_size));
  }
}

struct LlamaTensor {
  std::string hf_name;
  TensorPlan plan;
  int permuted_heads = 0;  // > 0: Q/K rows are permuted by this many heads
};

std::vector<LlamaTensor> llama_tensors(const LlamaGgufSpec& spec) {
  const ModelConfig& c = spec.config;
  const TensorType matrix = tensor_type_of(spec.dtype);
  const auto dim = static_cast<uint64_t>(c.dim);
  const auto hidden = static_cast<uint64_t>(c.hidden_dim);
  const auto q_rows = static_cast<uint64_t>(c.n_heads) * c.head_dim;
  const auto kv_rows = static_cast<uint64_t>(c.n_kv_heads) * c.head_dim;
  std::vector<LlamaTensor> out;
  const auto add = [&](const std::string& hf, std::vector<uint64_t> ne, TensorType type) {
    out.push_back({hf, {*gguf_name_for(hf), std::move(ne), type}, rope_permuted_heads(hf, c)});
  };
  add("model.embed_tokens.weight", {dim, static_cast<uint64_t>(c.vocab_size)}, matrix);
  for (int l = 0; l < c.n_layers; ++l) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    add(p + "input_layernorm.weight", {dim}, TensorType::F32);
    add(p + "self_attn.q_proj.weight", {dim, q_rows}, matrix);
    add(p + "self_attn.k_proj.weight", {dim, kv_rows}, matrix);
    add(p + "self_attn.v_proj.weight", {dim, kv_rows}, matrix);
    add(p + "self_attn.o_proj.weight", {q_rows, dim}, matrix);
    add(p + "post_attention_layernorm.weight", {dim}, TensorType::F32);
    add(p + "mlp.gate_proj.weight", {dim, hidden}, matrix);
    add(p + "mlp.up_proj.weight", {dim, hidden}, matrix);
    add(p + "mlp.down_proj.weight", {hidden, dim}, matrix);
  }
  add("model.norm.weight", {dim}, TensorType::F32);
  if (!c.tied_embeddings) add("lm_head.weight", {dim, static_cast<uint64_t>(c.vocab_size)}, matrix);
  return out;
}

// Rows per parallel work item: about 64K floats, and for permuted tensors a
// whole number of heads (the permutation stays inside a head).
int64_t block_rows_for(int64_t cols, int64_t rows, int64_t head_dim, bool permuted) {
  int64_t block = std::max<int64_t>(1, 65536 / std::max<int64_t>(1, cols));
  if (permuted) block = std::max<int64_t>(1, block / head_dim) * head_dim;
  return std::min(block, rows);
}

void fill_llama_tensor(const LlamaTensor& t, const ModelConfig& config, const F32RowSource& source,
                       ThreadPool* pool, std::span<uint8_t> dst) {
  const auto cols = static_cast<int64_t>(t.plan.ne[0]);
  const auto rows = static_cast<int64_t>(tensor_nbytes(t.plan) / *tensor_row_bytes(t.plan.type, t.plan.ne[0]));
  const kernels::DType dtype = dtype_of(t.plan.type);
  const uint64_t row_bytes = encoded_row_bytes(dtype, cols);
  const int64_t head_dim = config.head_dim;
  const bool permuted = t.permuted_heads > 0;
  const int64_t block = block_rows_for(cols, rows, head_dim, permuted);
  const int64_t n_blocks = (rows + block - 1) / block;
  parallel_for(pool, n_blocks, 1, [&](int64_t b0, int64_t b1, int) {
    std::vector<float> rows_f32(static_cast<size_t>(block * cols));
    for (int64_t b = b0; b < b1; ++b) {
      const int64_t r0 = b * block;
      const int64_t r1 = std::min(rows, r0 + block);
      source(t.hf_name, r0, r1, rows_f32.data());
      for (int64_t g = r0; g < r1; ++g) {
        // GGUF row g holds Hugging Face row hf (same head, so inside this block).
        const int64_t hf = permuted ? hf_row_of_gguf_row(g, head_dim) : g;
        encode_row(dtype, rows_f32.data() + (hf - r0) * cols, cols, dst.data() + g * row_bytes);
      }
    }
  });
}

FillTensor llama_filler(const LlamaGgufSpec& spec, const std::vector<LlamaTensor>& tensors,
                        const F32RowSource& source, ThreadPool* pool) {
  return [&spec, &tensors, &source, pool](size_t index, std::span<uint8_t> dst) {
    fill_llama_tensor(tensors[index], spec.config, source, pool, dst);
  };
}

std::vector<TensorPlan> plans_of(const std::vector<LlamaTensor>& tensors) {
  std::vector<TensorPlan> out;
  for (const LlamaTensor& t : tensors) out.push_back(t.plan);
  return out;
}

void check_spec(const LlamaGgufSpec& spec, const std::string& origin) {
  const ModelConfig& c = spec.config;
  if (c.dim <= 0 || c.n_heads <= 0 || c.n_kv_heads <= 0 || c.head_dim <= 0 || c.head_dim % 2 != 0 ||
      c.n_heads * c.head_dim != c.dim || c.n_layers <= 0 || c.hidden_dim <= 0 || c.vocab_size <= 0) {
    throw file_error(origin, "cannot write GGUF: inconsistent model shape");
  }
  if (c.max_seq_len <= 0 || c.max_seq_len > UINT32_MAX || c.bos_id < 0 || c.eos_id < 0) {
    throw file_error(origin, "cannot write GGUF: context length or bos/eos id out of range");
  }
  if (spec.dtype == kernels::DType::Q8_0 && (c.dim % 32 != 0 || c.hidden_dim % 32 != 0)) {
    throw file_error(origin, "cannot write Q8_0: dim and hidden_dim must be multiples of 32");
  }
}

}  // namespace

Metadata llama_metadata(const LlamaGgufSpec& spec, const std::string& origin) {
  const ModelConfig& c = spec.config;
  const sp::ModelProto& tok = spec.tokenizer;
  check_tokenizer_representable(tok, c.vocab_size, origin);
  Metadata m;
  m.emplace_back("general.architecture", string_value("llama"));
  m.emplace_back("general.name", string_value(spec.name));
  m.emplace_back("llama.block_count", uint32_value(static_cast<uint32_t>(c.n_layers)));
  m.emplace_back("llama.context_length", uint32_value(static_cast<uint32_t>(c.max_seq_len)));
  m.emplace_back("llama.embedding_length", uint32_value(static_cast<uint32_t>(c.dim)));
  m.emplace_back("llama.feed_forward_length", uint32_value(static_cast<uint32_t>(c.hidden_dim)));
  m.emplace_back("llama.attention.head_count", uint32_value(static_cast<uint32_t>(c.n_heads)));
  m.emplace_back("llama.attention.head_count_kv", uint32_value(static_cast<uint32_t>(c.n_kv_heads)));
  m.emplace_back("llama.rope.freq_base", float32_value(static_cast<float>(c.rope_theta)));
  m.emplace_back("llama.attention.layer_norm_rms_epsilon", float32_value(c.norm_eps));
  m.emplace_back("general.file_type", uint32_value(file_type_of(spec.dtype)));
  m.emplace_back("llama.vocab_size", uint32_value(static_cast<uint32_t>(c.vocab_size)));
  m.emplace_back("llama.rope.dimension_count", uint32_value(static_cast<uint32_t>(c.head_dim)));
  if (spec.dtype == kernels::DType::Q8_0) m.emplace_back("general.quantization_version", uint32_value(2));

  // The vocabulary, padded to the model's size the way llama.cpp's converter
  // pads it (unused pieces are never produced by encoding).
  std::vector<std::string> tokens;
  std::vector<float> scores;
  std::vector<int32_t> types;
  for (const sp::Piece& p : tok.pieces) {
    tokens.push_back(p.piece);
    scores.push_back(p.score);
    types.push_back(static_cast<int32_t>(p.type));
  }
  for (int id = static_cast<int>(tok.pieces.size()); id < c.vocab_size; ++id) {
    tokens.push_back("[PAD" + std::to_string(id) + "]");
    scores.push_back(-1000.0f);
    types.push_back(static_cast<int32_t>(sp::PieceType::Unused));
  }
  m.emplace_back("tokenizer.ggml.model", string_value("llama"));
  m.emplace_back("tokenizer.ggml.tokens", string_array(std::move(tokens)));
  m.emplace_back("tokenizer.ggml.scores", float32_array(scores));
  m.emplace_back("tokenizer.ggml.token_type", int32_array(types));
  const auto add_id = [&](const char* key, int64_t id) {
    if (id >= 0 && id < c.vocab_size) m.emplace_back(key, uint32_value(static_cast<uint32_t>(id)));
  };
  add_id("tokenizer.ggml.bos_token_id", c.bos_id);
  add_id("tokenizer.ggml.eos_token_id", c.eos_id);
  add_id("tokenizer.ggml.unknown_token_id", tok.trainer_spec.unk_id);
  add_id("tokenizer.ggml.padding_token_id", tok.trainer_spec.pad_id);
  m.emplace_back("tokenizer.ggml.add_bos_token", bool_value(true));
  m.emplace_back("tokenizer.ggml.add_eos_token", bool_value(false));
  m.emplace_back("tokenizer.ggml.add_space_prefix", bool_value(tok.normalizer_spec.add_dummy_prefix));
  if (!spec.chat_template.empty()) m.emplace_back("tokenizer.chat_template", string_value(spec.chat_template));
  return m;
}

std::vector<TensorPlan> llama_tensor_plan(const LlamaGgufSpec& spec) { return plans_of(llama_tensors(spec)); }

void write_llama_gguf(const std::filesystem::path& path, const LlamaGgufSpec& spec, const F32RowSource& source,
                      ThreadPool* pool, Progress* progress) {
  const std::string origin = path.string();
  check_spec(spec, origin);
  const Metadata metadata = llama_metadata(spec, origin);
  const std::vector<LlamaTensor> tensors = llama_tensors(spec);
  WriteOptions options;
  options.progress = progress;
  write_gguf(path, metadata, plans_of(tensors), llama_filler(spec, tensors, source, pool), options);
}

std::vector<uint8_t> llama_gguf_bytes(const LlamaGgufSpec& spec, const F32RowSource& source, ThreadPool* pool) {
  check_spec(spec, "<memory>");
  const Metadata metadata = llama_metadata(spec, "<memory>");
  const std::vector<LlamaTensor> tensors = llama_tensors(spec);
  return gguf_bytes(metadata, plans_of(tensors), llama_filler(spec, tensors, source, pool));
}

}  // namespace ree::gguf
