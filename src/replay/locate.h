#pragma once
// --locate: at the first position whose logits differ, run that position
// again with per-layer probes and name the first layer and sub-block
// (attention-norm, attention, mlp-norm, mlp: ProbePoint) whose output
// differs — from the probes recorded in the session (--probe layers), or
// between two engines (another device or mode).
#include <optional>
#include <vector>

#include "replay/replay.h"

namespace ree::replay {

struct LocateRequest {
  const std::vector<int32_t>* tokens = nullptr;  // every token fed, in order (position = index)
  std::optional<StepRef> target;                 // the first step whose logits hash differed
  std::optional<EngineOptions> against;          // compare two engines instead of the record
};

// Uses (and resets) `engine`. Never throws for sessions without probes: the
// result says what is missing.
LocateResult locate_divergence(const trace::SessionReader& session, const Model& model, Engine& engine,
                               const LocateRequest& request);

// The first probe (index = layer * kProbesPerLayer + point) at which two
// probe vectors differ; nullopt when they agree everywhere they overlap.
std::optional<size_t> first_differing_probe(const std::vector<uint64_t>& a, const std::vector<uint64_t>& b);

}  // namespace ree::replay
