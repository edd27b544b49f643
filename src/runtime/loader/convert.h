#pragma once
// `ree convert`: a Hugging Face Llama directory (config.json, safetensors,
// tokenizer.model) to one GGUF v3 file laid out as llama.cpp's converter
// lays it out (gguf_writer.h). With --dtype same the weights keep their
// bits (F32/F16/BF16 -> f32 -> the same type is exact), so the HF directory
// and the GGUF file load to identical packed weights and the same digest.
#include <cstdint>
#include <filesystem>
#include <optional>

#include "kernels/kernels.h"
#include "runtime/model.h"

namespace ree {

struct ConvertOptions {
  std::filesystem::path in;                  // Hugging Face directory
  std::filesystem::path out;                 // .gguf file
  std::optional<kernels::DType> dtype;       // nullopt: the source's dtype
  bool force = false;                        // replace an existing `out`
  ThreadPool* pool = nullptr;
  bool show_progress = false;
};

struct ConvertResult {
  ModelConfig config;
  kernels::DType dtype = kernels::DType::F32;  // of the written matrices
  uint64_t bytes = 0;                          // size of the written file
};

// Throws ree::Error (exit code 2) for unreadable input, a tokenizer GGUF
// cannot represent, or an existing `out` without `force`.
ConvertResult convert_hf_to_gguf(const ConvertOptions& options);

}  // namespace ree
