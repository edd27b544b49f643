#pragma once
// The recording the crash test's child performs, as a pure function of its
// seed: both the child (which writes it) and the test (which recomputes what
// every complete record must be) walk the same script.
#include <cstdint>
#include <functional>
#include <string>

#include "trace/synthetic.h"

namespace ree::trace::testing {

struct CrashScript {
  uint64_t seed = 1;
  uint32_t turns = 40;            // the child finishes after this many turns
  uint32_t steps_per_turn = 100;

  SyntheticShape shape() const {
    SyntheticShape s;
    s.seed = seed;
    s.topk_width = 8;
    s.probes = seed % 4 == 0;  // some children record per-layer hashes
    s.layers = 8;
    return s;
  }

  // Calls `emit` for every record in order, exactly as the writer receives
  // them, with the fields the writer fills already filled.
  template <typename Emit>
  void walk(Emit&& emit) const {
    SyntheticShape s = shape();
    uint32_t calls = 0;
    for (uint32_t turn = 0; turn < turns; ++turn) {
      emit(synthetic_turn_start(s, turn));
      for (uint32_t i = 0; i < steps_per_turn; ++i) emit(synthetic_step(s, turn, i));
      schema::TurnEndT end;
      end.turn = turn;
      end.steps = steps_per_turn;
      end.stop_reason = schema::StopReason::MaxTokens;
      end.text = "turn " + std::to_string(turn);
      emit(end);
      if (turn % 3 == 1) {
        schema::ToolCallT call;
        call.index = calls;
        call.name = "shell";
        call.arguments = "{\"cmd\": \"echo " + std::to_string(turn) + "\"}";
        call.raw_text = "<tool>" + call.arguments + "</tool>";
        call.well_formed = true;
        emit(call);
        schema::ToolResultT result;
        result.call_index = calls++;
        result.name = "shell";
        result.output = std::to_string(turn) + "\n";
        emit(result);
      }
    }
  }
};

}  // namespace ree::trace::testing
