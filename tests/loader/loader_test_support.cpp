#include "loader_test_support.h"

#include <sentencepiece_trainer.h>
#include <sodium.h>

#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>

#include "runtime/loader/hf_config.h"
#include "runtime/loader/model_builder.h"
#include "runtime/loader/safetensors_writer.h"

namespace ree::test {

const std::vector<std::string> kUserSymbols = {"<|system|>", "<|user|>", "<|assistant|>", "<|tool|>",
                                               "<|end|>",    "<tool_call>", "</tool_call>"};

namespace {

// Sentences for the trainer, generated from a fixed word list so that BPE
// finds enough merges for a ~300 piece vocabulary.
class CorpusIterator : public sentencepiece::SentenceIterator {
 public:
  CorpusIterator() {
    const char* words[] = {"the", "model", "token", "replay", "record", "trace", "weights", "tensor",
                           "layer", "head", "attention", "norm", "the quick brown fox", "jumps over",
                           "lazy dog", "hello", "world", "deterministic", "bits", "session", "diff",
                           "café", "naïve", "über", "日本語", "テスト"};
    std::mt19937 rng(7);
    for (int i = 0; i < 400; ++i) {
      std::string s;
      for (int w = 0; w < 8; ++w) s += std::string(w ? " " : "") + words[rng() % std::size(words)];
      sentences_.push_back(s);
    }
  }
  bool done() const override { return index_ >= sentences_.size(); }
  void Next() override { ++index_; }
  const std::string& value() const override { return sentences_[index_]; }
  sentencepiece::util::Status status() const override { return {}; }

 private:
  std::vector<std::string> sentences_;
  size_t index_ = 0;
};

std::string train_tokenizer() {
  std::string symbols;
  for (const std::string& s : kUserSymbols) symbols += (symbols.empty() ? "" : ",") + s;
  const std::unordered_map<std::string, std::string> args = {
      {"model_type", "bpe"},        {"vocab_size", "320"},
      {"byte_fallback", "true"},    {"normalization_rule_name", "identity"},
      {"add_dummy_prefix", "false"}, {"user_defined_symbols", symbols},
      {"character_coverage", "1.0"}, {"hard_vocab_limit", "false"},
      {"remove_extra_whitespaces", "false"},
      {"num_threads", "1"},          {"minloglevel", "2"}};
  CorpusIterator corpus;
  std::string proto;
  const auto status = sentencepiece::SentencePieceTrainer::Train(args, &corpus, &proto);
  if (!status.ok()) throw std::runtime_error("tokenizer training failed: " + status.ToString());
  return proto;
}

uint16_t to_bf16_bits(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, 4);
  return static_cast<uint16_t>(bits >> 16);  // truncation: any bf16 value will do
}

uint16_t to_f16_bits(float f) {
  // Values in [-2, 2): a normal f16 with a 10-bit mantissa taken from f.
  uint32_t bits;
  std::memcpy(&bits, &f, 4);
  const uint32_t sign = bits >> 31;
  const int exp = static_cast<int>((bits >> 23) & 0xff) - 127;
  if (exp < -14) return static_cast<uint16_t>(sign << 15);
  return static_cast<uint16_t>((sign << 15) | (static_cast<uint32_t>(exp + 15) << 10) | ((bits >> 13) & 0x3ff));
}

std::vector<uint8_t> random_values(kernels::DType dtype, int64_t n, bool near_one, std::mt19937_64& rng) {
  std::uniform_real_distribution<float> dist(near_one ? 0.5f : -1.0f, near_one ? 1.5f : 1.0f);
  std::vector<uint8_t> out;
  for (int64_t i = 0; i < n; ++i) {
    const float v = dist(rng);
    if (dtype == kernels::DType::F32) {
      uint8_t b[4];
      std::memcpy(b, &v, 4);
      out.insert(out.end(), b, b + 4);
    } else {
      const uint16_t h = dtype == kernels::DType::BF16 ? to_bf16_bits(v) : to_f16_bits(v);
      out.push_back(static_cast<uint8_t>(h));
      out.push_back(static_cast<uint8_t>(h >> 8));
    }
  }
  return out;
}

}  // namespace

const std::string& tiny_tokenizer_proto() {
  static const std::string proto = train_tokenizer();
  return proto;
}

ModelConfig tiny_config() {
  ModelConfig c;
  c.architecture = "llama";
  c.dim = 64;
  c.hidden_dim = 96;
  c.n_layers = 2;
  c.n_heads = 4;
  c.n_kv_heads = 2;
  c.head_dim = 16;
  c.vocab_size = 320;
  c.max_seq_len = 128;
  c.norm_eps = 1e-5f;
  c.rope_theta = 10000.0;
  c.tied_embeddings = false;
  c.bos_id = 1;
  c.eos_id = 2;
  return c;
}

std::vector<TestTensor> tiny_tensors(const ModelConfig& config, kernels::DType dtype, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<TestTensor> tensors;
  const int64_t q_rows = int64_t{config.n_heads} * config.head_dim;
  const int64_t kv_rows = int64_t{config.n_kv_heads} * config.head_dim;
  for (const std::string& name : canonical_tensor_names(config)) {
    TestTensor t;
    t.name = name;
    t.dtype = dtype;
    const auto has = [&](const char* part) { return name.find(part) != std::string::npos; };
    if (has("norm")) t.shape = {config.dim};
    else if (has("q_proj")) t.shape = {q_rows, config.dim};
    else if (has("k_proj") || has("v_proj")) t.shape = {kv_rows, config.dim};
    else if (has("o_proj")) t.shape = {config.dim, q_rows};
    else if (has("gate_proj") || has("up_proj")) t.shape = {config.hidden_dim, config.dim};
    else if (has("down_proj")) t.shape = {config.dim, config.hidden_dim};
    else t.shape = {config.vocab_size, config.dim};  // embed_tokens, lm_head
    int64_t n = 1;
    for (const int64_t d : t.shape) n *= d;
    t.bytes = random_values(dtype, n, has("norm"), rng);
    tensors.push_back(std::move(t));
  }
  return tensors;
}

void write_tensors(const std::filesystem::path& file, const std::vector<TestTensor>& tensors) {
  std::vector<TensorToWrite> out;
  for (const TestTensor& t : tensors) out.push_back({t.name, t.dtype, t.shape, t.bytes});
  write_safetensors(file, out);
}

void write_tiny_model(const std::filesystem::path& dir, const ModelConfig& config,
                      const std::vector<TestTensor>& tensors) {
  std::filesystem::create_directories(dir);
  write_text(dir / "config.json", hf_config_json(config));
  write_tensors(dir / "model.safetensors", tensors);
  write_text(dir / "tokenizer.model", tiny_tokenizer_proto());
}

void write_raw_safetensors(const std::filesystem::path& file, const std::string& header,
                           const std::vector<uint8_t>& data, uint64_t header_length_field) {
  std::ofstream out(file, std::ios::binary);
  for (int i = 0; i < 8; ++i) out.put(static_cast<char>(header_length_field >> (8 * i)));
  out << header;
  out.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
}

void write_raw_safetensors(const std::filesystem::path& file, const std::string& header,
                           const std::vector<uint8_t>& data) {
  write_raw_safetensors(file, header, data, header.size());
}

void write_text(const std::filesystem::path& file, const std::string& text) {
  std::ofstream out(file, std::ios::binary);
  out << text;
  if (!out) throw std::runtime_error("cannot write " + file.string());
}

std::string read_text(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string blake2b_hex(const void* bytes, size_t n) {
  if (sodium_init() < 0) throw std::runtime_error("sodium_init failed");
  unsigned char digest[32];
  crypto_generichash(digest, 32, static_cast<const unsigned char*>(bytes), n, nullptr, 0);
  char hex[65];
  for (int i = 0; i < 32; ++i) std::snprintf(hex + 2 * i, 3, "%02x", digest[i]);
  return std::string(hex, 64);
}

}  // namespace ree::test
