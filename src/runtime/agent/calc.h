#pragma once
// The calc tool: exact arithmetic on integers and decimals, exactly as
// samples/sample-model/tools.py computes it (the sample model was trained on
// that script's outputs, so ree's tool must answer the same, byte for byte):
//   expression := term (('+' | '-') term)*
//   term       := factor (('*' | '/') factor)*
//   factor     := ('+' | '-') factor | number | '(' expression ')'
//   number     := digits ['.' digits] | '.' digits        (ASCII digits)
// Only spaces may separate tokens. Arithmetic is exact (fractions); the result is
// printed by Fraction::to_string (exact decimal, or rounded half to even to 10
// places when it does not terminate). Errors are results, not exceptions, with
// tools.py's two texts: "error: division by zero" and "error: invalid expression"
// (bad syntax, more than kMaxExpressionLength characters, factors nested deeper
// than kMaxNesting).
#include <string>
#include <string_view>

namespace ree::agent {

// tools.py's MAX_EXPRESSION_CHARS (counted in code points) and MAX_NESTING (a
// factor inside 32 others is refused: at most 31 nested brackets or signs).
constexpr size_t kMaxExpressionLength = 200;
constexpr int kMaxNesting = 32;

struct CalcResult {
  bool ok = false;
  std::string text;  // the value, or the whole error text ("error: ...")
};

CalcResult calc_evaluate(std::string_view expression);

}  // namespace ree::agent
