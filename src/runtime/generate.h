#pragma once
// Generation: feed a prompt (in prefill chunks), then choose tokens one by
// one until a stop token or the token limit. Each chosen token is reported
// as a Step, the unit that sessions record and replays compare.
#include <atomic>
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "runtime/engine.h"
#include "runtime/sampler.h"

namespace ree {

enum class StopReason : uint8_t { Eos = 0, MaxTokens = 1, ToolCall = 2, Interrupted = 3, ContextFull = 4 };
const char* stop_reason_name(StopReason);

// One generated token and what produced it.
struct Step {
  uint32_t turn = 0;
  uint32_t index = 0;           // step within the turn, from 0
  int64_t position = 0;         // absolute position whose logits chose the token
  int32_t token = 0;
  uint64_t logits_hash = 0;
  std::vector<TopEntry> top;    // recorded top-k (contract order)
  float margin = 0.0f;          // top1 - top2 logit (inf when vocab has one token)
  std::vector<uint64_t> probes; // per-layer activation hashes, when asked
};

struct GenerateOptions {
  uint32_t turn = 0;
  int64_t max_tokens = 128;
  int64_t prefill_chunk = 0;          // 0: the engine's max batch
  int record_top_k = 8;
  bool probes = false;
  SamplingParams sampling;
  std::vector<int32_t> stop_tokens;   // usually the model's EOS
  bool feed_last = false;             // also feed the final token into the cache
  const std::atomic<bool>* interrupt = nullptr;  // set by a signal handler
};

struct GenerateResult {
  std::vector<int32_t> tokens;
  StopReason stop = StopReason::MaxTokens;
};

// `on_step` runs for every step as soon as its token is chosen (streaming).
GenerateResult generate(Engine& engine, std::span<const int32_t> prompt, const GenerateOptions& options,
                        const std::function<void(const Step&)>& on_step);

}  // namespace ree
