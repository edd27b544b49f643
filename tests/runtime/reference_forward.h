#pragma once
// A float64 Llama forward pass written for tests only: plain loops, libm,
// no KV cache, no kernels of ree's. It is the "tight error" reference that
// ree's f32 reproducible logits are compared with.
#include <filesystem>
#include <vector>

#include "runtime/model.h"

namespace ree::test {

// Logits ([T][vocab], float64) for every position of `tokens`, using the
// safetensors weights in `model_dir` and the shapes in `config`.
std::vector<double> reference_logits(const std::filesystem::path& model_dir, const ModelConfig& config,
                                     const std::vector<int32_t>& tokens);

}  // namespace ree::test
