#pragma once
// Tiny Hugging Face checkpoints for the loader tests: a SentencePiece
// tokenizer trained in-process, seeded random weights, and helpers that
// write config.json / model.safetensors / tokenizer.model into a directory.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "kernels/kernels.h"
#include "runtime/model.h"

namespace ree::test {

// The chat-template markers every test tokenizer knows as single pieces.
extern const std::vector<std::string> kUserSymbols;

// A BPE SentencePiece model (vocab 320, byte_fallback, identity
// normalisation, no dummy prefix, kUserSymbols), trained once per process.
const std::string& tiny_tokenizer_proto();

// dim 64, 4 heads / 2 kv heads of 16, hidden 96, 2 layers, vocab 320.
ModelConfig tiny_config();

struct TestTensor {
  std::string name;
  kernels::DType dtype = kernels::DType::F32;
  std::vector<int64_t> shape;
  std::vector<uint8_t> bytes;
};

// Every tensor `config` needs, in canonical order, random values of `dtype`
// drawn from `seed` (norm weights near 1).
std::vector<TestTensor> tiny_tensors(const ModelConfig& config, kernels::DType dtype, uint64_t seed);

// Writes `tensors` (in the order given) as one model.safetensors file.
void write_tensors(const std::filesystem::path& file, const std::vector<TestTensor>& tensors);

// config.json + model.safetensors + tokenizer.model in `dir`.
void write_tiny_model(const std::filesystem::path& dir, const ModelConfig& config,
                      const std::vector<TestTensor>& tensors);

// A "safetensors" file with an arbitrary header text and data section, for
// files the writer refuses to produce.
void write_raw_safetensors(const std::filesystem::path& file, const std::string& header,
                           const std::vector<uint8_t>& data, uint64_t header_length_field);
void write_raw_safetensors(const std::filesystem::path& file, const std::string& header,
                           const std::vector<uint8_t>& data);

void write_text(const std::filesystem::path& file, const std::string& text);
std::string read_text(const std::filesystem::path& file);

// Hex BLAKE2b-256 of `bytes`, straight from libsodium.
std::string blake2b_hex(const void* bytes, size_t n);

}  // namespace ree::test
