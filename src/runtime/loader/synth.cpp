// Synthetic models (synth.h): shapes, the deterministic weight generator,
// the synthetic SentencePiece vocabulary, and writing HF or GGUF files.
#include "runtime/loader/synth.h"

#include <algorithm>
#include <fstream>
#include <unordered_set>

#include <nlohmann/json.hpp>

#include "kernels/thread_pool.h"
#include "runtime/error.h"
#include "runtime/loader/gguf_writer.h"
#include "runtime/loader/hf_config.h"
#include "runtime/loader/progress.h"
#include "runtime/loader/row_encode.h"
#include "runtime/loader/safetensors_writer.h"

namespace ree {
namespace {

struct NamedShape {
  const char* name;
  int dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size;
  int64_t max_seq_len;
  bool tied;
};

// The published shapes of these models (TinyLlama-1.1B; llama2.c's
// stories15M and stories110M) and a tiny one for tests.
constexpr NamedShape kShapes[] = {
    {"tinyllama-1.1b", 2048, 5632, 22, 32, 4, 32000, 2048, false},
    {"stories15m", 288, 768, 6, 6, 6, 32000, 256, true},
    {"stories110m", 768, 2048, 12, 12, 12, 32000, 1024, true},
    {"test", 64, 160, 2, 4, 2, 512, 512, false},
};

// ---- weights ----------------------------------------------------------------

uint64_t splitmix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

uint64_t fnv1a(const std::string& text) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (const char c : text) h = (h ^ static_cast<uint8_t>(c)) * 0x100000001b3ull;
  return h;
}

// Sum of four 16-bit uniforms, centred: mean 0, variance 4 * (65536^2 - 1) / 12.
// The integer is exact in f32 (|value| < 2^18), so the only rounding is the
// caller's one multiply.
float centred_sum(uint64_t h) {
  const int64_t sum = static_cast<int64_t>(h & 0xffff) + static_cast<int64_t>((h >> 16) & 0xffff) +
                      static_cast<int64_t>((h >> 32) & 0xffff) + static_cast<int64_t>(h >> 48);
  return static_cast<float>(sum - 2 * 65535);  // 4 * 32767.5
}

// sqrt(3) / 65536 turns centred_sum into (nearly) unit variance.
constexpr double kUnitScale = 1.7320508075688772 / 65536.0;
constexpr float kMatrixScale = static_cast<float>(0.02 * kUnitScale);
constexpr float kNormScale = static_cast<float>(0.05 * kUnitScale);
// The two projections back into the residual stream are scaled apart so the
// MLP's output (a function of the current token alone) dominates the
// attention's (an average over the context). With 0.02 everywhere, greedy
// decoding locks onto one token ("gr gr gr ..." on stories15m: the context
// average favours whatever it already holds, and with tied embeddings so does
// the current token's own embedding). Measured over 3 prompts x 40 greedy
// tokens (distinct tokens out of 120): 0.02 everywhere: test 12, stories15m
// 11; o_proj 0.005 and down_proj 0.08: test 102, stories15m 118, stories110m
// 117, tinyllama-1.1b 120.
constexpr float kAttnOutScale = static_cast<float>(0.005 * kUnitScale);
constexpr float kMlpDownScale = static_cast<float>(0.08 * kUnitScale);

float matrix_scale(const std::string& hf_name) {
  if (hf_name.ends_with("o_proj.weight")) return kAttnOutScale;
  if (hf_name.ends_with("down_proj.weight")) return kMlpDownScale;
  return kMatrixScale;
}

bool is_norm(const std::string& hf_name) {
  return hf_name.ends_with("layernorm.weight") || hf_name == "model.norm.weight";
}

int64_t cols_of(const ModelConfig& c, const std::string& hf_name) {
  if (hf_name.ends_with("o_proj.weight")) return int64_t{c.n_heads} * c.head_dim;
  if (hf_name.ends_with("down_proj.weight")) return c.hidden_dim;
  return c.dim;
}

// ---- vocabulary ---------------------------------------------------------------

const std::string kSpace = "\xE2\x96\x81";  // U+2581, SentencePiece's space marker

// Characters first: every multi-character piece is made of these.
const char kSingleChars[] =
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,!?'\";:-()/&%$#@*+=<>[]_";

// Fragments that occur inside words, most common first.
const char* const kFragments[] = {
    "th", "he", "in", "er", "an", "re", "on", "at", "en", "nd", "ti", "es", "or", "te", "of", "ed",
    "is", "it", "al", "ar", "st", "to", "nt", "ng", "se", "ha", "as", "ou", "io", "le", "ve", "co",
    "me", "de", "hi", "ri", "ro", "ic", "ne", "ea", "ra", "ce", "ing", "ion", "tion", "ly", "ent",
    "ers", "ter", "est", "ness", "ment", "able", "ous", "ive", "ful", "less", "ity", "ally", "ation",
};

// Common English words (and the words of children's stories), each written
// with the space marker as SentencePiece sees a word after a space.
const char* const kWords[] = {
    "the", "of", "and", "to", "a", "in", "is", "it", "you", "that", "he", "was", "for", "on", "are",
    "with", "as", "I", "his", "they", "be", "at", "one", "have", "this", "from", "or", "had", "by",
    "not", "but", "what", "some", "we", "can", "out", "other", "were", "all", "there", "when", "up",
    "use", "your", "how", "said", "an", "each", "she", "which", "do", "their", "time", "if", "will",
    "way", "about", "many", "then", "them", "would", "write", "like", "so", "these", "her", "long",
    "make", "thing", "see", "him", "two", "has", "look", "more", "day", "could", "go", "come", "did",
    "my", "sound", "no", "most", "number", "who", "over", "know", "water", "than", "call", "first",
    "people", "may", "down", "side", "been", "now", "find", "any", "new", "work", "part", "take",
    "get", "place", "made", "live", "where", "after", "back", "little", "only", "round", "man",
    "year", "came", "show", "every", "good", "me", "give", "our", "under", "name", "very", "through",
    "just", "form", "much", "great", "think", "say", "help", "low", "line", "before", "turn",
    "cause", "same", "mean", "differ", "move", "right", "boy", "old", "too", "does", "tell",
    "sentence", "set", "three", "want", "air", "well", "also", "play", "small", "end", "put", "home",
    "read", "hand", "port", "large", "spell", "add", "even", "land", "here", "must", "big", "high",
    "such", "follow", "act", "why", "ask", "men", "change", "went", "light", "kind", "off", "need",
    "house", "picture", "try", "us", "again", "animal", "point", "mother", "world", "near", "build",
    "self", "earth", "father", "Once", "upon", "The", "She", "He", "They", "It", "One", "girl",
    "named", "Lily", "Tim", "Ben", "Sue", "loved", "happy", "sad", "friend", "friends", "park",
    "tree", "ball", "dog", "cat", "bird", "sun", "sky", "smiled", "played", "wanted", "saw",
    "found", "together", "Hello", "hello", "yes", "thank", "thanks", "please", "answer", "question",
    "result", "compute", "number", "file", "today", "time", "what", "is", "model", "token",
};

class VocabBuilder {
 public:
  explicit VocabBuilder(int limit) : limit_(static_cast<size_t>(limit)) {}

  bool full() const { return model_.pieces.size() >= limit_; }

  void add(const std::string& piece, sp::PieceType type, float score) {
    if (full() || !seen_.insert(piece).second) return;
    model_.pieces.push_back({piece, score, type});
  }

  // A printable piece with the next (lower) score.
  void add_normal(const std::string& piece) {
    if (full() || seen_.count(piece) != 0) return;
    add(piece, sp::PieceType::Normal, -static_cast<float>(next_rank_++));
  }

  // Every prefix of `word` of two or more characters, then the word itself:
  // BPE can then always merge the leftmost symbol with its neighbour, so the
  // word is reachable from its characters.
  void add_with_prefixes(const std::string& word) {
    size_t chars = 0;
    for (size_t i = 0; i < word.size(); ++i) {
      const bool starts_char = (static_cast<uint8_t>(word[i]) & 0xc0) != 0x80;
      if (!starts_char) continue;
      if (chars >= 2) add_normal(word.substr(0, i));
      ++chars;
    }
    add_normal(word);
  }

  sp::ModelProto take() { return std::move(model_); }

 private:
  size_t limit_;
  sp::ModelProto model_;
  std::unordered_set<std::string> seen_;
  int64_t next_rank_ = 0;
};

char hex_digit(int v) { return static_cast<char>(v < 10 ? '0' + v : 'A' + v - 10); }

void add_ngrams(VocabBuilder& v) {
  const std::string letters = "abcdefghijklmnopqrstuvwxyz";
  for (const char a : letters) {
    for (const char b : letters) v.add_normal(std::string{a, b});
  }
  for (const char a : std::string("ABCDEFGHIJKLMNOPQRSTUVWXYZ")) {
    v.add_normal(kSpace + a);
    for (const char b : letters) v.add_normal(kSpace + std::string{a, b});
  }
  for (const char a : letters) {
    v.add_normal(kSpace + a);
    for (const char b : letters) v.add_normal(kSpace + std::string{a, b});
  }
  for (const char a : letters) {
    for (const char b : letters) {
      for (const char c : letters) {
        v.add_normal(std::string{a, b, c});
        v.add_normal(kSpace + std::string{a, b, c});
      }
    }
  }
}

}  // namespace

std::optional<ModelConfig> synth_shape(std::string_view name) {
  for (const NamedShape& s : kShapes) {
    if (name != s.name) continue;
    ModelConfig c;
    c.architecture = "llama";
    c.dim = s.dim;
    c.hidden_dim = s.hidden_dim;
    c.n_layers = s.n_layers;
    c.n_heads = s.n_heads;
    c.n_kv_heads = s.n_kv_heads;
    c.head_dim = s.dim / s.n_heads;
    c.vocab_size = s.vocab_size;
    c.max_seq_len = s.max_seq_len;
    c.norm_eps = 1e-5f;
    c.rope_theta = 10000.0;
    c.tied_embeddings = s.tied;
    c.bos_id = 1;
    c.eos_id = 2;
    return c;
  }
  return std::nullopt;
}

std::vector<std::string> synth_shape_names() {
  std::vector<std::string> names;
  for (const NamedShape& s : kShapes) names.emplace_back(s.name);
  return names;
}

sp::ModelProto synth_tokenizer(int vocab_size) {
  const int minimum = 3 + 256 + 1 + static_cast<int>(sizeof kSingleChars - 1);
  if (vocab_size < minimum) {
    throw Error("synthetic tokenizer: a vocabulary of " + std::to_string(vocab_size) + " is below the minimum of " +
                std::to_string(minimum));
  }
  VocabBuilder v(vocab_size);
  v.add("<unk>", sp::PieceType::Unknown, 0.0f);
  v.add("<s>", sp::PieceType::Control, 0.0f);
  v.add("</s>", sp::PieceType::Control, 0.0f);
  for (int b = 0; b < 256; ++b) {
    v.add(std::string("<0x") + hex_digit(b >> 4) + hex_digit(b & 15) + ">", sp::PieceType::Byte, 0.0f);
  }
  v.add_normal(kSpace);
  for (const char* c = kSingleChars; *c != '\0'; ++c) v.add_normal(std::string(1, *c));
  for (const char* f : kFragments) v.add_with_prefixes(f);
  for (const char* w : kWords) v.add_with_prefixes(kSpace + w);
  add_ngrams(v);
  if (!v.full()) throw Error("synthetic tokenizer: cannot fill a vocabulary of " + std::to_string(vocab_size));

  sp::ModelProto model = v.take();
  sp::TrainerSpec& t = model.trainer_spec;
  t.model_type = sp::ModelType::Bpe;
  t.vocab_size = vocab_size;
  t.byte_fallback = true;
  t.unk_id = 0;
  t.bos_id = 1;
  t.eos_id = 2;
  t.pad_id = -1;
  sp::NormalizerSpec& n = model.normalizer_spec;
  n.name = "identity";
  n.add_dummy_prefix = true;
  n.remove_extra_whitespaces = false;
  n.escape_whitespaces = true;
  return model;
}

void synth_rows(const ModelConfig& config, uint64_t seed, const std::string& hf_name, int64_t row_begin,
                int64_t row_end, float* out) {
  const uint64_t key = splitmix64(seed ^ fnv1a(hf_name));
  const bool norm = is_norm(hf_name);
  const float scale = matrix_scale(hf_name);
  const int64_t cols = cols_of(config, hf_name);
  for (int64_t r = row_begin; r < row_end; ++r) {
    float* row = out + (r - row_begin) * cols;
    const uint64_t base = static_cast<uint64_t>(r) * static_cast<uint64_t>(cols);
    for (int64_t c = 0; c < cols; ++c) {
      const uint64_t h = splitmix64(key + (base + static_cast<uint64_t>(c) + 1) * 0x9e3779b97f4a7c15ull);
      row[c] = norm ? 1.0f + centred_sum(h) * kNormScale : centred_sum(h) * scale;
    }
  }
}

namespace {

// ---- writing ------------------------------------------------------------------

struct HfTensor {
  std::string name;
  int64_t rows;
  int64_t cols;
  int rank;
};

std::vector<HfTensor> hf_tensors(const ModelConfig& c) {
  std::vector<HfTensor> out;
  const int64_t q_rows = int64_t{c.n_heads} * c.head_dim;
  const int64_t kv_rows = int64_t{c.n_kv_heads} * c.head_dim;
  out.push_back({"model.embed_tokens.weight", c.vocab_size, c.dim, 2});
  for (int l = 0; l < c.n_layers; ++l) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    out.push_back({p + "input_layernorm.weight", 1, c.dim, 1});
    out.push_back({p + "self_attn.q_proj.weight", q_rows, c.dim, 2});
    out.push_back({p + "self_attn.k_proj.weight", kv_rows, c.dim, 2});
    out.push_back({p + "self_attn.v_proj.weight", kv_rows, c.dim, 2});
    out.push_back({p + "self_attn.o_proj.weight", c.dim, q_rows, 2});
    out.push_back({p + "post_attention_layernorm.weight", 1, c.dim, 1});
    out.push_back({p + "mlp.gate_proj.weight", c.hidden_dim, c.dim, 2});
    out.push_back({p + "mlp.up_proj.weight", c.hidden_dim, c.dim, 2});
    out.push_back({p + "mlp.down_proj.weight", c.dim, c.hidden_dim, 2});
  }
  out.push_back({"model.norm.weight", 1, c.dim, 1});
  if (!c.tied_embeddings) out.push_back({"lm_head.weight", c.vocab_size, c.dim, 2});
  return out;
}

// One tensor's bytes in `dtype`, generated in parallel blocks of rows.
std::vector<uint8_t> generate_tensor(const ModelConfig& config, uint64_t seed, const HfTensor& t,
                                     kernels::DType dtype, ThreadPool* pool) {
  const uint64_t row_bytes = encoded_row_bytes(dtype, t.cols);
  std::vector<uint8_t> bytes(static_cast<size_t>(row_bytes * static_cast<uint64_t>(t.rows)));
  const int64_t block = std::max<int64_t>(1, 65536 / t.cols);
  const int64_t n_blocks = (t.rows + block - 1) / block;
  parallel_for(pool, n_blocks, 1, [&](int64_t b0, int64_t b1, int) {
    std::vector<float> rows(static_cast<size_t>(block * t.cols));
    for (int64_t b = b0; b < b1; ++b) {
      const int64_t r0 = b * block;
      const int64_t r1 = std::min(t.rows, r0 + block);
      synth_rows(config, seed, t.name, r0, r1, rows.data());
      for (int64_t r = r0; r < r1; ++r) {
        encode_row(dtype, rows.data() + (r - r0) * t.cols, t.cols, bytes.data() + r * row_bytes);
      }
    }
  });
  return bytes;
}

const char* torch_dtype_name(kernels::DType dtype) {
  switch (dtype) {
    case kernels::DType::F16: return "float16";
    case kernels::DType::BF16: return "bfloat16";
    default: return "float32";
  }
}

void write_text_file(const std::filesystem::path& path, const std::string& text) {
  const std::filesystem::path tmp = path.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
    if (!out) throw file_error(path.string(), "cannot write");
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) throw file_error(path.string(), "cannot write: " + ec.message());
}

std::string config_json(const ModelConfig& config, kernels::DType dtype) {
  nlohmann::ordered_json json = nlohmann::ordered_json::parse(hf_config_json(config));
  json["torch_dtype"] = torch_dtype_name(dtype);
  return json.dump(2) + "\n";
}

std::string tokenizer_config_json(const ModelConfig& config) {
  nlohmann::ordered_json json;
  json["tokenizer_class"] = "LlamaTokenizer";
  json["bos_token"] = "<s>";
  json["eos_token"] = "</s>";
  json["unk_token"] = "<unk>";
  json["add_bos_token"] = true;
  json["add_eos_token"] = false;
  json["model_max_length"] = config.max_seq_len;
  return json.dump(2) + "\n";
}

uint64_t file_size_or_zero(const std::filesystem::path& path) {
  std::error_code ec;
  const uint64_t size = std::filesystem::file_size(path, ec);
  return ec ? 0 : size;
}

SynthResult write_hf(const SynthOptions& o, const ModelConfig& config, const sp::ModelProto& tokenizer) {
  const std::string origin = o.out.string();
  std::error_code ec;
  std::filesystem::create_directories(o.out, ec);
  if (ec) throw file_error(origin, "cannot create directory: " + ec.message());

  const std::vector<HfTensor> tensors = hf_tensors(config);
  uint64_t total = 0;
  for (const HfTensor& t : tensors) total += encoded_row_bytes(o.dtype, t.cols) * static_cast<uint64_t>(t.rows);
  std::vector<std::vector<uint8_t>> buffers;
  std::vector<TensorToWrite> to_write;
  {
    Progress progress("synth " + o.shape, total, progress_wanted(o.show_progress));
    for (const HfTensor& t : tensors) {
      buffers.push_back(generate_tensor(config, o.seed, t, o.dtype, o.pool));
      progress.add(buffers.back().size());
    }
  }
  for (size_t i = 0; i < tensors.size(); ++i) {
    const HfTensor& t = tensors[i];
    std::vector<int64_t> shape = t.rank == 1 ? std::vector<int64_t>{t.cols} : std::vector<int64_t>{t.rows, t.cols};
    to_write.push_back({t.name, o.dtype, std::move(shape), buffers[i]});
  }
  SynthResult result;
  result.config = config;
  const std::vector<std::pair<std::filesystem::path, std::string>> texts = {
      {o.out / "config.json", config_json(config, o.dtype)},
      {o.out / "tokenizer.model", sp::encode_model_proto(tokenizer)},
      {o.out / "tokenizer_config.json", tokenizer_config_json(config)},
  };
  for (const auto& [path, text] : texts) {
    write_text_file(path, text);
    result.files.push_back(path);
  }
  const std::filesystem::path weights = o.out / "model.safetensors";
  write_safetensors(weights, to_write, {{"format", "pt"}});
  result.files.push_back(weights);
  for (const auto& path : result.files) result.bytes += file_size_or_zero(path);
  return result;
}

SynthResult write_gguf_file(const SynthOptions& o, const ModelConfig& config, const sp::ModelProto& tokenizer) {
  gguf::LlamaGgufSpec spec;
  spec.config = config;
  spec.tokenizer = tokenizer;
  spec.dtype = o.dtype;
  spec.name = "ree-synth-" + o.shape;
  const uint64_t seed = o.seed;
  // GGUF keeps norms in F32; rounding them through F16/BF16 first makes the
  // GGUF model hold the same values as the HF one of the same dtype.
  const kernels::DType norm_dtype =
      o.dtype == kernels::DType::F16 || o.dtype == kernels::DType::BF16 ? o.dtype : kernels::DType::F32;
  const gguf::F32RowSource source = [&config, seed, norm_dtype](const std::string& name, int64_t r0, int64_t r1,
                                                                float* out) {
    synth_rows(config, seed, name, r0, r1, out);
    if (is_norm(name) && norm_dtype != kernels::DType::F32) {
      std::vector<uint8_t> stored(encoded_row_bytes(norm_dtype, config.dim));
      encode_row(norm_dtype, out, config.dim, stored.data());
      kernels::row_to_f32(norm_dtype, stored.data(), config.dim, out);
    }
  };
  uint64_t total = 0;
  for (const gguf::TensorPlan& t : gguf::llama_tensor_plan(spec)) total += gguf::tensor_nbytes(t);
  Progress progress("synth " + o.shape, total, progress_wanted(o.show_progress));
  gguf::write_llama_gguf(o.out, spec, source, o.pool, &progress);
  progress.finish();
  SynthResult result;
  result.config = config;
  result.files.push_back(o.out);
  result.bytes = file_size_or_zero(o.out);
  return result;
}

void check_destination(const SynthOptions& o) {
  const std::string origin = o.out.string();
  std::error_code ec;
  const auto status = std::filesystem::symlink_status(o.out, ec);
  if (!std::filesystem::exists(status)) return;
  if (!o.force) throw file_error(origin, "already exists (use --force to replace it)");
  const bool is_dir = std::filesystem::is_directory(status);
  if (o.format == SynthFormat::Hf && !is_dir) throw file_error(origin, "exists and is not a directory");
  if (o.format == SynthFormat::Gguf && !std::filesystem::is_regular_file(status)) {
    throw file_error(origin, "exists and is not a regular file");
  }
}

}  // namespace

SynthResult write_synth_model(const SynthOptions& o) {
  const std::optional<ModelConfig> config = synth_shape(o.shape);
  if (!config) {
    std::string names;
    for (const std::string& n : synth_shape_names()) names += (names.empty() ? "" : ", ") + n;
    throw Error("unknown shape \"" + o.shape + "\" (known: " + names + ")");
  }
  if (o.format == SynthFormat::Hf && o.dtype == kernels::DType::Q8_0) {
    throw Error("q8_0 cannot be stored in safetensors: use --format gguf for q8_0");
  }
  check_destination(o);
  const sp::ModelProto tokenizer = synth_tokenizer(config->vocab_size);
  return o.format == SynthFormat::Hf ? write_hf(o, *config, tokenizer) : write_gguf_file(o, *config, tokenizer);
}

}  // namespace ree
