#include "runtime/agent/calc.h"

#include <optional>

#include "runtime/agent/decimal.h"

namespace ree::agent {
namespace {

const char kDivisionByZero[] = "error: division by zero";
const char kInvalid[] = "error: invalid expression";

// Thrown inside the parser only; calc_evaluate turns it into a result.
struct CalcError {
  const char* text;
};

// A recursive-descent parser that follows tools.py's _Parser step by step, so
// that every input, malformed ones included, gets the same answer (which error
// comes first depends on the order in which the two parsers look at things).
class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text) {}

  Fraction parse() {
    Fraction value = expr();
    skip_spaces();
    if (pos_ != text_.size()) throw CalcError{kInvalid};
    return value;
  }

 private:
  void skip_spaces() {
    while (pos_ < text_.size() && text_[pos_] == ' ') ++pos_;
  }

  char peek() {
    skip_spaces();
    return pos_ < text_.size() ? text_[pos_] : '\0';
  }

  static Fraction checked(Fraction v) {
    // Unreachable within kMaxExpressionLength; a guard should the limits change.
    if (v.digit_count() > kMaxDigits) throw CalcError{kInvalid};
    return v;
  }

  Fraction expr() {
    Fraction value = term();
    for (char op = peek(); op == '+' || op == '-'; op = peek()) {
      ++pos_;
      const Fraction rhs = term();
      value = checked(op == '+' ? value + rhs : value - rhs);
    }
    return value;
  }

  Fraction term() {
    Fraction value = factor();
    for (char op = peek(); op == '*' || op == '/'; op = peek()) {
      ++pos_;
      const Fraction rhs = factor();
      if (op == '*') {
        value = checked(value * rhs);
      } else {
        auto quotient = Fraction::divide(value, rhs);
        if (!quotient) throw CalcError{kDivisionByZero};
        value = checked(*quotient);
      }
    }
    return value;
  }

  Fraction factor() {
    if (++depth_ > kMaxNesting) throw CalcError{kInvalid};
    Fraction value;
    const char c = peek();
    if (c == '+' || c == '-') {
      ++pos_;
      const Fraction inner = factor();
      value = c == '+' ? inner : inner.negated();
    } else if (c == '(') {
      ++pos_;
      value = expr();
      if (peek() != ')') throw CalcError{kInvalid};
      ++pos_;
    } else {
      value = number();
    }
    --depth_;
    return value;
  }

  bool digit_at(size_t i) const { return i < text_.size() && text_[i] >= '0' && text_[i] <= '9'; }

  Fraction number() {
    const size_t start = pos_;
    while (digit_at(pos_)) ++pos_;
    if (pos_ < text_.size() && text_[pos_] == '.') {
      ++pos_;
      const size_t fraction_start = pos_;
      while (digit_at(pos_)) ++pos_;
      if (pos_ == fraction_start) throw CalcError{kInvalid};
    }
    auto value = Fraction::parse(text_.substr(start, pos_ - start));
    if (!value) throw CalcError{kInvalid};
    return *value;
  }

  std::string_view text_;
  size_t pos_ = 0;
  int depth_ = 0;
};

// Python's len(): code points, not bytes (UTF-8 continuation bytes do not count).
size_t code_points(std::string_view text) {
  size_t n = 0;
  for (const char c : text) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

}  // namespace

CalcResult calc_evaluate(std::string_view expression) {
  if (code_points(expression) > kMaxExpressionLength) return {false, kInvalid};
  try {
    return {true, Parser(expression).parse().to_string()};
  } catch (const CalcError& e) {
    return {false, e.text};
  }
}

}  // namespace ree::agent
