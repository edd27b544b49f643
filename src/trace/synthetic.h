#pragma once
// Deterministic, realistic-looking session content without a model: for the
// trace tests (crash test, tamper test), ree-tracebench and the fuzz corpus,
// and for other components' tests that need a session file. Every value is a
// pure function of its arguments, so a test can recompute what was written.
#include <cstdint>
#include <filesystem>

#include "trace/writer.h"

namespace ree::trace {

struct SyntheticShape {
  uint16_t topk_width = 8;
  bool probes = false;
  int layers = 16;           // layer_hashes per step = 4 * layers when probes
  uint64_t seed = 1;
};

SessionHeader synthetic_header(const SyntheticShape& shape);
// The step `index` of turn `turn` (turn/index are set again by the writer).
schema::StepT synthetic_step(const SyntheticShape& shape, uint32_t turn, uint32_t index);
schema::TurnStartT synthetic_turn_start(const SyntheticShape& shape, uint32_t turn);

// A small complete session using every record kind: 2 turns of `steps_per_turn`
// steps, a tool call and result, a checkpoint. Returns what finish() returned.
FinishedSession write_synthetic_session(const std::filesystem::path& path, const SyntheticShape& shape,
                                        uint32_t steps_per_turn, const WriterOptions& options = {});

}  // namespace ree::trace
