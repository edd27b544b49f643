#pragma once
// Where the bundled sample model is: beside an installed ree
// (<prefix>/share/ree/sample-model, found from the executable's own path),
// or in the source tree this ree was built from.
#include <filesystem>
#include <vector>

namespace ree::agent {

// The places looked at, in order.
std::vector<std::filesystem::path> sample_model_candidates();

// The first candidate holding a model; throws ree::Error (exit code 2)
// naming every place looked at when there is none.
std::filesystem::path find_sample_model();

}  // namespace ree::agent
