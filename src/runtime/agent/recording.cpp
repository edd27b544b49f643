#include "runtime/agent/recording.h"

#include <algorithm>

#include "runtime/system_info.h"

namespace ree::agent {

uint16_t topk_width(const Model& model, int record_top_k) {
  return uint16_t(std::clamp<int64_t>(record_top_k, 0, std::min<int64_t>(model.config.vocab_size, 1024)));
}

trace::SessionHeader make_session_header(const Model& model, const Engine& engine, const SessionSettings& s) {
  trace::SessionHeader h;
  auto identity = std::make_unique<schema::ModelIdentityT>();
  identity->name = model.identity.name;
  identity->format = model.identity.format;
  identity->weights_digest = model.identity.weights_digest;
  identity->tokenizer_digest = model.identity.tokenizer_digest;
  identity->chat_template_id = template_id(s.chat_template);
  h.bound.model = std::move(identity);

  auto config = std::make_unique<schema::BoundConfigT>();
  config->mode = mode_record(engine.options().mode);
  config->dtype = static_cast<schema::DType>(model.weights.dtype);
  config->seed = s.sampling.seed;
  config->sampling = std::make_unique<schema::SamplingT>();
  config->sampling->temperature = s.sampling.temperature;
  config->sampling->top_k = s.sampling.top_k;
  config->sampling->top_p = s.sampling.top_p;
  config->max_tokens = s.max_tokens;
  config->topk_width = topk_width(model, s.record_top_k);
  config->probes = s.probes;
  h.bound.config = std::move(config);

  const EngineOptions& o = engine.options();
  h.run.device = o.device == Device::Cuda ? "cuda:0" : "cpu";
  h.run.threads = o.threads;
  h.run.prefill_chunk = s.prefill_chunk;

  const SystemInfo sys = read_system_info();
  h.environment.cpu_model = sys.cpu_model;
  h.environment.simd_path = kernels::simd_name(o.simd);
  h.environment.os = sys.os;
  if (o.device == Device::Cuda) h.environment.gpu_name = engine.device_description();
  return h;
}

schema::StepT step_record(const Step& step, const std::string& piece) {
  schema::StepT r;
  r.turn = step.turn;
  r.index = step.index;
  r.position = step.position;
  r.token = step.token;
  r.logits_hash = step.logits_hash;
  r.topk_ids.reserve(step.top.size());
  r.topk_logits.reserve(step.top.size());
  for (const TopEntry& e : step.top) {
    r.topk_ids.push_back(e.id);
    r.topk_logits.push_back(e.logit);
  }
  r.margin = step.margin;
  r.layer_hashes = step.probes;
  r.piece = piece;
  return r;
}

schema::StopReason stop_reason_record(StopReason r) {
  switch (r) {
    case StopReason::Eos: return schema::StopReason::Eos;
    case StopReason::MaxTokens: return schema::StopReason::MaxTokens;
    case StopReason::ToolCall: return schema::StopReason::ToolCall;
    case StopReason::Interrupted: return schema::StopReason::Interrupted;
    case StopReason::ContextFull: return schema::StopReason::ContextFull;
  }
  return schema::StopReason::Error;
}

schema::Role role_record(ChatRole r) { return static_cast<schema::Role>(static_cast<uint8_t>(r)); }
ChatRole role_from_record(schema::Role r) { return static_cast<ChatRole>(static_cast<uint8_t>(r)); }

schema::ToolStatus tool_status_record(ToolStatus s) {
  return static_cast<schema::ToolStatus>(static_cast<uint8_t>(s));
}
ToolStatus tool_status_from_record(schema::ToolStatus s) { return static_cast<ToolStatus>(static_cast<uint8_t>(s)); }

schema::Mode mode_record(kernels::Mode m) { return static_cast<schema::Mode>(static_cast<uint8_t>(m)); }
kernels::Mode mode_from_record(schema::Mode m) { return static_cast<kernels::Mode>(static_cast<uint8_t>(m)); }

// The enums are numbered alike on purpose; these make sure they stay so.
static_assert(uint8_t(schema::Role::System) == uint8_t(ChatRole::System) &&
              uint8_t(schema::Role::Tool) == uint8_t(ChatRole::Tool));
static_assert(uint8_t(schema::ToolStatus::Timeout) == uint8_t(ToolStatus::Timeout));
static_assert(uint8_t(schema::Mode::Fast) == uint8_t(kernels::Mode::Fast));
static_assert(uint8_t(schema::DType::Q8_0) == uint8_t(kernels::DType::Q8_0));

}  // namespace ree::agent
