#pragma once
// Opening the two sessions of a comparison. Each reader verifies its whole
// file (FlatBuffers verifier, order rules, receipt chain), which is most of
// the time a diff takes, so the two are opened on two threads.
#include <filesystem>
#include <utility>

#include "trace/reader.h"

namespace ree::diff {

struct SessionPair {
  trace::SessionReader a;
  trace::SessionReader b;
};

// Throws ree::Error when a file cannot be opened or mapped (content problems
// are in each reader's report()).
SessionPair open_pair(const std::filesystem::path& a, const std::filesystem::path& b);

}  // namespace ree::diff
