#include "runtime/agent/calc.h"

#include <optional>
#include <stdexcept>

#include "runtime/agent/decimal.h"

namespace ree::agent {
namespace {

// Thrown inside the parser only; calc_evaluate turns it into a result.
struct CalcError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text) {}

  Decimal parse_all() {
    Decimal v = expression();
    skip_spaces();
    if (pos_ < text_.size()) fail("unexpected '" + std::string(1, text_[pos_]) + "'");
    return v;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw CalcError(what + " at position " + std::to_string(pos_ + 1));
  }

  void skip_spaces() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' || text_[pos_] == '\n'))
      ++pos_;
  }

  bool accept(char c) {
    skip_spaces();
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }

  static Decimal checked(Decimal v) {
    if (v.digit_count() > kMaxDigits)
      throw CalcError("a result has more than " + std::to_string(kMaxDigits) + " digits");
    return v;
  }

  Decimal expression() {
    Decimal v = term();
    for (;;) {
      if (accept('+')) v = checked(v + term());
      else if (accept('-')) v = checked(v - term());
      else return v;
    }
  }

  Decimal term() {
    Decimal v = unary();
    for (;;) {
      if (accept('*')) {
        v = checked(v * unary());
      } else if (accept('/')) {
        const size_t at = pos_;
        const Decimal divisor = unary();
        auto q = Decimal::divide(v, divisor);
        if (!q) throw CalcError("division by zero at position " + std::to_string(at));
        v = checked(*q);
      } else {
        return v;
      }
    }
  }

  Decimal unary() {
    if (accept('-')) return nested([this] { return unary().negated(); });
    if (accept('+')) return nested([this] { return unary(); });
    return primary();
  }

  // Unary signs and parentheses both recurse: one depth budget covers them.
  template <typename F>
  Decimal nested(F&& f) {
    if (++depth_ > kMaxNesting) fail("nesting deeper than " + std::to_string(kMaxNesting));
    Decimal v = f();
    --depth_;
    return v;
  }

  Decimal primary() {
    skip_spaces();
    if (pos_ >= text_.size()) fail("expected a number");
    if (accept('(')) {
      Decimal v = nested([this] { return expression(); });
      if (!accept(')')) fail("expected ')'");
      return v;
    }
    const size_t begin = pos_;
    while (pos_ < text_.size() && ((text_[pos_] >= '0' && text_[pos_] <= '9') || text_[pos_] == '.'))
      ++pos_;
    if (pos_ == begin) fail("unexpected '" + std::string(1, text_[pos_]) + "'");
    const std::string_view literal = text_.substr(begin, pos_ - begin);
    if (literal.size() > size_t(kMaxDigits)) fail("number too long");
    auto v = Decimal::parse(literal);
    if (!v) {
      pos_ = begin;
      fail("malformed number '" + std::string(literal) + "'");
    }
    return *v;
  }

  std::string_view text_;
  size_t pos_ = 0;
  int depth_ = 0;
};

}  // namespace

CalcResult calc_evaluate(std::string_view expression) {
  if (expression.size() > kMaxExpressionLength)
    return {false, "expression longer than " + std::to_string(kMaxExpressionLength) + " characters"};
  bool blank = true;
  for (char c : expression) blank = blank && (c == ' ' || c == '\t' || c == '\n');
  if (blank) return {false, "empty expression"};
  try {
    Parser parser(expression);
    return {true, parser.parse_all().to_string()};
  } catch (const CalcError& e) {
    return {false, e.what()};
  }
}

}  // namespace ree::agent
