#pragma once
// A Hugging Face checkpoint directory -> Model:
//   config.json                              (hf_config.h)
//   model.safetensors, or
//   model.safetensors.index.json + shards    (safetensors.h)
//   tokenizer.model                          (SentencePiece; tokenizer.json alone is not supported)
//   tokenizer_config.json                    (optional: chat_template)
#include <filesystem>
#include <string>

#include "runtime/loader/model_builder.h"
#include "runtime/loader/safetensors.h"
#include "runtime/model.h"

namespace ree {

// Throws ree::file_error naming the missing or malformed file.
Model load_hf_model(const std::filesystem::path& dir, const LoadOptions& options);

// The tensors of a safetensors checkpoint under their own (already
// canonical) names. Ranks other than 1 and 2 are rejected here, since no
// Llama weight has one.
TensorSource tensor_source_from_safetensors(const SafetensorsCheckpoint& checkpoint, const std::string& origin);

// The weights file(s) of `dir`: model.safetensors if present, else the index.
SafetensorsCheckpoint open_hf_weights(const std::filesystem::path& dir);

// A short name for a model path: the directory or file stem.
std::string model_name_of(const std::filesystem::path& path);

}  // namespace ree
