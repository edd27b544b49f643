#pragma once
// GGUF v3 writer (the reader's counterpart, gguf.h), in two layers:
//  - write_gguf(): any metadata and tensors; each tensor's bytes come from a
//    callback when it is written, so a 2 GB model never has to sit in memory.
//  - write_llama_gguf(): a Llama model as llama.cpp's converter lays it out
//    (names, llama.* and tokenizer.ggml.* metadata, Q/K rows permuted,
//    norms in F32, matrices in the requested dtype), from f32 rows under
//    Hugging Face names. Used by `ree synth` and `ree convert`.
// Files are written to "<path>.tmp" and renamed into place when complete.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "kernels/kernels.h"
#include "runtime/loader/gguf.h"
#include "runtime/loader/sp_proto.h"
#include "runtime/model.h"

namespace ree {
class Progress;
}

namespace ree::gguf {

using Metadata = std::vector<std::pair<std::string, Value>>;

Value uint32_value(uint32_t v);
Value int32_value(int32_t v);
Value float32_value(float v);
Value bool_value(bool v);
Value string_value(std::string v);
Value string_array(std::vector<std::string> v);
Value float32_array(const std::vector<float>& v);
Value int32_array(const std::vector<int32_t>& v);

struct TensorPlan {
  std::string name;
  std::vector<uint64_t> ne;  // ggml order: ne[0] = columns
  TensorType type = TensorType::F32;
};

// Fills the bytes of tensors[index] (exactly tensor_nbytes of it).
using FillTensor = std::function<void(size_t index, std::span<uint8_t> dst)>;

struct WriteOptions {
  uint32_t alignment = kDefaultAlignment;
  Progress* progress = nullptr;  // advanced by each tensor's bytes as it is written
};

uint64_t tensor_nbytes(const TensorPlan& tensor);

// Throws ree::file_error(path, ...) on a bad plan (duplicate name, Q8_0 row
// not a whole number of blocks) or an I/O failure; leaves no file behind then.
void write_gguf(const std::filesystem::path& path, const Metadata& metadata,
                const std::vector<TensorPlan>& tensors, const FillTensor& fill,
                const WriteOptions& options = {});

// The same file as bytes (tests, fuzz seeds).
std::vector<uint8_t> gguf_bytes(const Metadata& metadata, const std::vector<TensorPlan>& tensors,
                                const FillTensor& fill, uint32_t alignment = kDefaultAlignment);

// ---- Llama models -----------------------------------------------------------

// Rows [row_begin, row_end) of the tensor with Hugging Face name `hf_name`,
// as f32, row-major, in Hugging Face row order. Called from several threads
// at once: it must be thread-safe.
using F32RowSource = std::function<void(const std::string& hf_name, int64_t row_begin, int64_t row_end,
                                        float* out)>;

struct LlamaGgufSpec {
  ModelConfig config;
  sp::ModelProto tokenizer;                 // its pieces become tokenizer.ggml.*
  kernels::DType dtype = kernels::DType::F32;  // matrices and embedding; norms are F32
  std::string name;                         // general.name
  std::string chat_template;                // tokenizer.chat_template (omitted when empty)
};

// The metadata llama.cpp's converter writes for a Llama model. Throws
// ree::Error when the tokenizer cannot be carried by GGUF's llama tokenizer
// (not BPE, a normaliser other than identity, whitespace options GGUF cannot
// express, more pieces than the vocabulary).
Metadata llama_metadata(const LlamaGgufSpec& spec, const std::string& origin);

// Tensor names, shapes and types in llama.cpp's order.
std::vector<TensorPlan> llama_tensor_plan(const LlamaGgufSpec& spec);

// Writes the model; rows are encoded in parallel on `pool` (may be null).
void write_llama_gguf(const std::filesystem::path& path, const LlamaGgufSpec& spec,
                      const F32RowSource& source, ThreadPool* pool, Progress* progress);

// The same, as bytes.
std::vector<uint8_t> llama_gguf_bytes(const LlamaGgufSpec& spec, const F32RowSource& source,
                                      ThreadPool* pool);

}  // namespace ree::gguf
