#pragma once
// Field-by-field comparison of two session headers. Fields are enumerated
// from the schema's own reflection tables (flatc --reflect-names), so a
// field appended to schemas/session.fbs is compared without a change here:
// no header field is ever silently ignored.
#include <vector>

#include "diff/comparison.h"
#include "trace/reader.h"

namespace ree::diff {

// Every field that differs, in schema order: format, the bound header
// (contract, model, tokenizer, template, configuration), run settings,
// environment. Both readers must have a header.
std::vector<HeaderField> compare_headers(const trace::SessionReader& a, const trace::SessionReader& b);

// One printable field of a header, for display (ree-view's header panel).
struct HeaderValue {
  HeaderSection section = HeaderSection::Environment;
  std::string path;
  std::string value;
  bool content = false;
};
// All fields of one header, present or not, in schema order.
std::vector<HeaderValue> header_values(const trace::SessionReader& session);

}  // namespace ree::diff
