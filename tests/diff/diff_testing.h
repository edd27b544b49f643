#pragma once
// Writing two specs and comparing them, for the diff tests.
#include <doctest/doctest.h>

#include "diff/compare.h"
#include "session_spec.h"
#include "test_util.h"

namespace ree::test {

// Writes a and b into `dir`, compares them, and checks that the cheap
// verdict (diff::identical) agrees with the full comparison's.
inline diff::Comparison compare_specs(const TempDir& dir, const SessionSpec& a, const SessionSpec& b,
                                      const diff::CompareOptions& options = {}) {
  write_spec(dir / "a.fb", a);
  write_spec(dir / "b.fb", b);
  trace::SessionReader ra(dir / "a.fb");
  trace::SessionReader rb(dir / "b.fb");
  diff::Comparison c = diff::compare_sessions(ra, rb, options);
  CHECK(diff::identical(ra, rb) == c.identical());
  return c;
}

inline size_t count_class(const diff::Comparison& c, diff::DiffClass kind) {
  return c.counts[static_cast<size_t>(kind)];
}

}  // namespace ree::test
