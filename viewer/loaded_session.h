#pragma once
// One session as the viewer holds it: the verifying reader (the same code as
// `ree verify`) plus per-step figures the panels draw on every frame.
// Opening never throws: a file that cannot be read becomes a session with a
// `problem` and nothing else, which the window shows instead of crashing.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "trace/reader.h"

namespace ree::viewer {

struct StepLocation {
  uint32_t turn = 0;
  uint32_t index = 0;  // within the turn
};

// Vocabularies of Llama-family models stay far below this.
constexpr int32_t kMaxIndexedId = 1 << 22;

struct LoadedSession {
  std::filesystem::path path;
  std::optional<trace::SessionReader> reader;
  // One line for the window when the file is not entirely usable: cannot be
  // opened, has no header, or is truncated/invalid (then the intact prefix
  // is still shown). Empty for a valid file.
  std::string problem;
  // Per step of the intact prefix (index = position in reader->steps()).
  std::vector<float> margin;   // recorded top1 - top2 logit margin
  std::vector<float> entropy;  // entropy (nats) of the softmax over the recorded top-k
  // For each token id some step produced: 1 + the first such step (0: none),
  // to label top-k candidates with their text. Ids at or above
  // kMaxIndexedId are not indexed.
  std::vector<uint32_t> first_step_of_id;

  bool usable() const { return reader.has_value() && reader->has_header(); }
  uint64_t step_count() const { return usable() ? reader->steps().size() : 0; }
  // The Step record of global step `step` (< step_count()); null for a step
  // record of a version this ree does not interpret.
  const schema::Step* step(uint64_t step) const;
  StepLocation locate(uint64_t step) const;
  std::optional<uint64_t> global_step(uint32_t turn, uint32_t index) const;
  // Text of a step for display: its piece, or "<id>" when it has none.
  std::string step_text(uint64_t step) const;
  // The text some step produced for token `id`; nullopt when none did.
  std::optional<std::string> piece_of(int32_t id) const;
};

LoadedSession load_session(const std::filesystem::path& path);

}  // namespace ree::viewer
