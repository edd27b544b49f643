#pragma once
// Comparing two recorded sessions without re-executing anything
// (docs/diff.md). Turns are aligned by index; within a turn, steps by
// index, and tool calls, tool results and checkpoints by their order among
// records of their kind.
//
//   trace::SessionReader a(path_a), b(path_b);
//   diff::Comparison c = diff::compare_sessions(a, b);
//   if (!c.identical()) ... c.first->what ...
//
// or, when only the verdict matters, diff::identical(a, b) (constant time
// once both files are open).
#include <cstddef>

#include "diff/comparison.h"
#include "trace/reader.h"

namespace ree::diff {

struct CompareOptions {
  float near_tie_margin = kNearTieMargin;  // see topk.h
  size_t context_steps = 8;                // shared steps shown before the token divergence
};

// Compares the intact prefixes of two sessions (a truncated or invalid file
// is compared as far as it can be read; its status is in the summary).
// Throws ree::Error (exit code 2) when either file has no readable header.
Comparison compare_sessions(const trace::SessionReader& a, const trace::SessionReader& b,
                            const CompareOptions& options = {});

// True when the two sessions have the same content: the same receipt chain
// over the header's bound part and every record of the intact prefix, which
// is what the contract makes equal across devices, thread counts and
// environments. Implies compare_sessions(a, b).identical().
bool identical(const trace::SessionReader& a, const trace::SessionReader& b);

}  // namespace ree::diff
