// Deterministic synthetic sessions (synthetic.h).
#include "trace/synthetic.h"

#include <algorithm>
#include <array>
#include <string>

namespace ree::trace {
namespace {

// splitmix64: a tiny, well-mixed generator; content only needs to look varied.
uint64_t mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

constexpr std::array<const char*, 12> kPieces = {" the", " a", "ing", " model", ",", ".", "\n", " of",
                                                 " to", " and", "ree", " token"};

}  // namespace

SessionHeader synthetic_header(const SyntheticShape& shape) {
  SessionHeader h;
  h.bound.contract_version = "repro-v1";
  h.bound.model = std::make_unique<schema::ModelIdentityT>();
  h.bound.model->name = "synthetic-llama";
  h.bound.model->format = "gguf";
  h.bound.model->weights_digest = std::string(64, 'a');
  h.bound.model->tokenizer_digest = std::string(64, 'b');
  h.bound.model->chat_template_id = "llama2";
  h.bound.config = std::make_unique<schema::BoundConfigT>();
  h.bound.config->mode = schema::Mode::Reproducible;
  h.bound.config->dtype = schema::DType::Q8_0;
  h.bound.config->seed = shape.seed;
  h.bound.config->sampling = std::make_unique<schema::SamplingT>();
  h.bound.config->sampling->temperature = 0.7f;
  h.bound.config->sampling->top_k = 40;
  h.bound.config->sampling->top_p = 0.95f;
  h.bound.config->max_tokens = 1 << 20;
  h.bound.config->topk_width = shape.topk_width;
  h.bound.config->probes = shape.probes;
  h.run.device = "cpu";
  h.run.threads = 2;
  h.run.prefill_chunk = 512;
  h.environment.cpu_model = "synthetic";
  h.environment.simd_path = "avx2";
  h.environment.os = "Linux";
  return h;
}

schema::StepT synthetic_step(const SyntheticShape& shape, uint32_t turn, uint32_t index) {
  uint64_t r = mix(shape.seed ^ (uint64_t{turn} << 40) ^ index);
  schema::StepT s;
  s.turn = turn;
  s.index = index;
  s.position = int64_t{turn} * 100000 + 32 + index;
  s.logits_hash = mix(r);
  s.topk_ids.resize(shape.topk_width);
  s.topk_logits.resize(shape.topk_width);
  float logit = 20.0f + static_cast<float>(r % 1000) / 100.0f;
  for (uint16_t k = 0; k < shape.topk_width; ++k) {
    s.topk_ids[k] = static_cast<int32_t>(mix(r + k) % 32000);
    s.topk_logits[k] = logit;
    logit -= 0.25f + static_cast<float>(mix(r + k + 100) % 100) / 50.0f;
  }
  s.token = shape.topk_width ? s.topk_ids[0] : static_cast<int32_t>(r % 32000);
  s.margin = shape.topk_width > 1 ? s.topk_logits[0] - s.topk_logits[1] : 0.0f;
  if (shape.probes) {
    s.layer_hashes.resize(static_cast<size_t>(4 * std::max(shape.layers, 1)));
    for (size_t i = 0; i < s.layer_hashes.size(); ++i) s.layer_hashes[i] = mix(r + 1000 + i);
  }
  s.piece = kPieces[r % kPieces.size()];
  return s;
}

schema::TurnStartT synthetic_turn_start(const SyntheticShape& shape, uint32_t turn) {
  schema::TurnStartT t;
  t.turn = turn;
  t.role = turn % 2 == 0 ? schema::Role::User : schema::Role::Tool;
  t.content = "synthetic message " + std::to_string(turn) + " (seed " + std::to_string(shape.seed) + ")";
  for (int32_t i = 0; i < 32; ++i) t.prompt_tokens.push_back(static_cast<int32_t>(mix(turn * 64 + i) % 32000));
  return t;
}

FinishedSession write_synthetic_session(const std::filesystem::path& path, const SyntheticShape& shape,
                                        uint32_t steps_per_turn, const WriterOptions& options) {
  SessionWriter writer(path, synthetic_header(shape), options);
  for (uint32_t turn = 0; turn < 2; ++turn) {
    writer.begin_turn(synthetic_turn_start(shape, turn));
    std::string text;
    for (uint32_t i = 0; i < steps_per_turn; ++i) {
      schema::StepT step = synthetic_step(shape, turn, i);
      text += step.piece;
      writer.step(step);
    }
    schema::TurnEndT end;
    end.stop_reason = turn == 0 ? schema::StopReason::ToolCall : schema::StopReason::Eos;
    end.text = text;
    writer.end_turn(end);
    if (turn == 0) {
      schema::ToolCallT call;
      call.name = "calculator";
      call.arguments = R"({"expression": "6*7"})";
      call.raw_text = R"(<tool>calculator {"expression": "6*7"}</tool>)";
      call.well_formed = true;
      uint32_t index = writer.tool_call(call);
      schema::ToolResultT result;
      result.call_index = index;
      result.name = "calculator";
      result.output = std::to_string(6 * 7);
      result.status = schema::ToolStatus::Ok;
      writer.tool_result(result, std::chrono::microseconds(1234));
      schema::CheckpointT checkpoint;
      checkpoint.label = "after-tool";
      checkpoint.data = R"({"note": "synthetic"})";
      checkpoint.kv_hash = 0x0123456789abcdefull;
      checkpoint.position = 32 + steps_per_turn;
      writer.checkpoint(checkpoint);
    }
  }
  return writer.finish();
}

}  // namespace ree::trace
