#pragma once
// Random-weight Llama models of real shapes (`ree synth`): for benchmarks and
// tests that need a model of a given size without downloading one.
//
// Weights are a pure function of (seed, tensor name, element index): a
// counter-based hash (SplitMix64's finaliser) gives four 16-bit uniforms per
// element, whose centred sum (Irwin-Hall, variance 1/3) is scaled to a
// near-normal value. Only integer operations and one f32 multiply are
// involved, so every machine generates the same bits, in any order and on any
// number of threads. Matrices have standard deviation 0.02 (o_proj 0.005,
// down_proj 0.08: synth.cpp says why), norm weights are 1 + 0.05 z;
// activations stay sane and greedy decoding varies. Values are
// rounded once into the requested dtype. GGUF stores norms in F32 (as
// llama.cpp does), rounded through F16/BF16 first for those dtypes, so an HF
// and a GGUF model of the same shape, seed and dtype hold the same values
// (their weights digests differ for F16/BF16 only because the digest names
// the norms' stored dtype).
//
// The tokenizer is a SentencePiece BPE model of exactly the vocabulary size:
// <unk>, <s>, </s>, the 256 byte pieces <0x00>..<0xFF>, then printable
// pieces with decreasing scores: single characters, common English
// fragments and words (each with all its prefixes, so BPE can always reach
// it), then systematic letter n-grams until the vocabulary is full.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kernels/kernels.h"
#include "runtime/loader/sp_proto.h"
#include "runtime/model.h"

namespace ree {

// tinyllama-1.1b, stories15m, stories110m, test.
std::optional<ModelConfig> synth_shape(std::string_view name);
std::vector<std::string> synth_shape_names();

// The synthetic tokenizer of exactly `vocab_size` pieces (>= 300).
sp::ModelProto synth_tokenizer(int vocab_size);

// Rows [row_begin, row_end) of Hugging Face tensor `hf_name` of a model of
// shape `config`, as f32 (row-major; a norm weight is one row).
void synth_rows(const ModelConfig& config, uint64_t seed, const std::string& hf_name, int64_t row_begin,
                int64_t row_end, float* out);

enum class SynthFormat { Hf, Gguf };

struct SynthOptions {
  std::string shape;                       // one of synth_shape_names()
  kernels::DType dtype = kernels::DType::BF16;
  SynthFormat format = SynthFormat::Hf;
  uint64_t seed = 0;
  std::filesystem::path out;               // directory (hf) or file (gguf)
  bool force = false;                      // replace an existing `out`
  ThreadPool* pool = nullptr;
  bool show_progress = false;              // a bar on a terminal
};

struct SynthResult {
  ModelConfig config;
  std::vector<std::filesystem::path> files;  // what was written
  uint64_t bytes = 0;                        // total size written
};

// Writes the model. Throws ree::Error (exit code 2) for an unknown shape, a
// dtype the format cannot hold (q8_0 with hf), or an existing `out` without
// `force`.
SynthResult write_synth_model(const SynthOptions& options);

}  // namespace ree
