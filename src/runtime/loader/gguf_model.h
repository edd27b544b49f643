#pragma once
// A Llama model stored in GGUF the way llama.cpp's converter stores it,
// loaded into ree's Model: config and tokenizer from the metadata, tensors
// renamed to canonical Hugging Face names with the Q/K row permutation
// undone through SourceTensor::row_order (gguf_llama.h), then the shared
// build_model().
#include <filesystem>

#include "runtime/loader/gguf_llama.h"
#include "runtime/model.h"

namespace ree {

// Loads a GGUF v3 (or v2) Llama file. Throws ree::Error ("PATH: what is
// wrong", exit code 2) for anything it cannot load.
Model load_gguf(const std::filesystem::path& path, const LoadOptions& options);

}  // namespace ree
