#pragma once
// Between the runtime's values and session records: the header an agent
// writes, the record form of a step, and the enum conversions. Replay uses
// the same functions in the other direction, so both sides agree on what a
// field means.
#include <cstdint>
#include <string>

#include "runtime/agent/chat_template.h"
#include "runtime/agent/tools.h"
#include "runtime/engine.h"
#include "runtime/generate.h"
#include "runtime/model.h"
#include "runtime/sampler.h"
#include "trace/schema.h"
#include "trace/writer.h"

namespace ree::agent {

// What determines a session's content besides the model and the messages
// (the header's bound config) plus how it was run (volatile run settings).
struct SessionSettings {
  SamplingParams sampling;          // temperature 0: greedy
  int64_t max_tokens = 256;         // per generated message
  int record_top_k = 8;             // top-k entries recorded per step (capped at the vocabulary)
  bool probes = false;              // per-layer activation hashes in every step
  TemplateKind chat_template = TemplateKind::ChatMl;
  int64_t prefill_chunk = 0;        // volatile: tokens per forward pass when feeding prompts
};

// The header for a session of `model` run by `engine` with `settings`.
trace::SessionHeader make_session_header(const Model& model, const Engine& engine, const SessionSettings& settings);

// Top-k width recorded in every step: record_top_k, at most the vocabulary.
uint16_t topk_width(const Model& model, int record_top_k);

schema::StepT step_record(const Step& step, const std::string& piece);
schema::StopReason stop_reason_record(StopReason reason);
schema::Role role_record(ChatRole role);
ChatRole role_from_record(schema::Role role);
schema::ToolStatus tool_status_record(ToolStatus status);
ToolStatus tool_status_from_record(schema::ToolStatus status);
schema::Mode mode_record(kernels::Mode mode);
kernels::Mode mode_from_record(schema::Mode mode);

// The label of the checkpoint written at the end of every turn.
constexpr const char* kTurnEndCheckpoint = "turn-end";

}  // namespace ree::agent
