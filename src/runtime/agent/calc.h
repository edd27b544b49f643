#pragma once
// The calc tool: exact arithmetic on integers and decimals.
//   expression := term (('+' | '-') term)*
//   term       := unary (('*' | '/') unary)*
//   unary      := ('-' | '+') unary | primary
//   primary    := number | '(' expression ')'
//   number     := digits ['.' digits] | '.' digits
// Spaces are ignored. Results are printed in plain notation with trailing
// zeros stripped ("84", "3.75", "-0.5"); division follows Decimal::divide
// (exact, or 20 significant digits rounded half to even). Errors (bad
// syntax, division by zero, numbers beyond kMaxDigits) are results, not
// exceptions: the model is told what went wrong.
#include <string>
#include <string_view>

namespace ree::agent {

// Longest expression and deepest parenthesis nesting accepted: generous for
// arithmetic a person asks for, small enough to bound the work.
constexpr size_t kMaxExpressionLength = 1024;
constexpr int kMaxNesting = 64;

struct CalcResult {
  bool ok = false;
  std::string text;  // the value, or the error message (without "error: ")
};

CalcResult calc_evaluate(std::string_view expression);

}  // namespace ree::agent
