#pragma once
// A Comparison as JSON: what `ree diff --json` prints (docs/diff.md,
// "JSON report"). 64-bit hashes stay inside the one-line descriptions;
// indices are plain numbers; absent values are null.
#include <nlohmann/json.hpp>

#include "diff/comparison.h"

namespace ree::diff {

nlohmann::json comparison_to_json(const Comparison& comparison);

}  // namespace ree::diff
