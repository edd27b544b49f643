// calc: exact decimal arithmetic. Expected values are derived independently:
// random integer expressions against __int128 arithmetic, decimals against
// integers scaled by powers of ten, division against long division done
// digit by digit here, and the documented rounding rule checked as a property.
#include <doctest/doctest.h>

// GCC 12 reports -Wrestrict falsely for `"literal" + std::string` chains
// (GCC bug 105651); this file builds many such expressions.
#pragma GCC diagnostic ignored "-Wrestrict"

#include <random>
#include <string>

#include "runtime/agent/calc.h"
#include "runtime/agent/decimal.h"

using ree::agent::calc_evaluate;

namespace {

std::string i128_to_string(__int128 v) {
  if (v == 0) return "0";
  const bool neg = v < 0;
  unsigned __int128 u = neg ? -(unsigned __int128)v : (unsigned __int128)v;
  std::string s;
  while (u > 0) {
    s.insert(s.begin(), char('0' + int(u % 10)));
    u /= 10;
  }
  return neg ? std::string("-") + s : s;
}

// value / 10^scale in plain notation with trailing zeros stripped.
std::string scaled_to_string(__int128 value, int scale) {
  const bool neg = value < 0;
  std::string digits = i128_to_string(neg ? -value : value);
  if (scale > 0) {
    while (int(digits.size()) <= scale) digits.insert(digits.begin(), '0');
    digits.insert(digits.end() - scale, '.');
    while (digits.back() == '0') digits.pop_back();
    if (digits.back() == '.') digits.pop_back();
  }
  if (digits == "0") return "0";
  return neg ? std::string("-") + digits : digits;
}

std::string ok(const std::string& expr) {
  const auto r = calc_evaluate(expr);
  INFO("expression: " << expr << " -> " << r.text);
  REQUIRE(r.ok);
  return r.text;
}

}  // namespace

TEST_CASE("calc: the examples the sample model was trained on") {
  CHECK(ok("12*7") == "84");
  CHECK(ok("15/4") == "3.75");
  CHECK(ok("2.5 + 0.25") == "2.75");
  CHECK(ok("(3 + 4) * 2 - 1") == "13");
  CHECK(ok("-(3.5 - 10) * 2") == "13");
  CHECK(ok("0.1 + 0.2") == "0.3");  // exact, not binary floating point
  CHECK(ok("5 - 5") == "0");
  CHECK(ok("-0 * 3") == "0");
  CHECK(ok(".5 + .5") == "1");
  CHECK(ok("1.50") == "1.5");
}

TEST_CASE("calc: random integer expressions agree with __int128 arithmetic") {
  std::mt19937_64 rng(20261122);
  std::uniform_int_distribution<int64_t> small(-999999, 999999);
  for (int i = 0; i < 2000; ++i) {
    const int64_t a = small(rng), b = small(rng), c = small(rng);
    const __int128 expected = (__int128)a * b - c + (__int128)a * (b + c);
    const std::string expr = "(" + std::to_string(a) + ")*(" + std::to_string(b) + ") - (" + std::to_string(c) +
                             ") + (" + std::to_string(a) + ")*((" + std::to_string(b) + ")+(" + std::to_string(c) + "))";
    REQUIRE(ok(expr) == i128_to_string(expected));
  }
}

TEST_CASE("calc: decimals agree with integers scaled by powers of ten") {
  std::mt19937_64 rng(7);
  std::uniform_int_distribution<int64_t> mant(-9999999, 9999999);
  std::uniform_int_distribution<int> scale(0, 6);
  for (int i = 0; i < 2000; ++i) {
    const int64_t ma = mant(rng), mb = mant(rng);
    const int sa = scale(rng), sb = scale(rng);
    const std::string a = scaled_to_string(ma, sa), b = scaled_to_string(mb, sb);
    // Sum at the larger scale, product at the sum of scales: both exact.
    const int s = std::max(sa, sb);
    __int128 pa = ma, pb = mb;
    for (int k = sa; k < s; ++k) pa *= 10;
    for (int k = sb; k < s; ++k) pb *= 10;
    REQUIRE(ok("(" + a + ") + (" + b + ")") == scaled_to_string(pa + pb, s));
    REQUIRE(ok("(" + a + ") - (" + b + ")") == scaled_to_string(pa - pb, s));
    REQUIRE(ok("(" + a + ") * (" + b + ")") == scaled_to_string((__int128)ma * mb, sa + sb));
  }
}

TEST_CASE("calc: division is exact when the quotient terminates within 20 digits") {
  std::mt19937_64 rng(11);
  std::uniform_int_distribution<int64_t> q(-99999999, 99999999);
  std::uniform_int_distribution<int64_t> d(1, 99999);
  for (int i = 0; i < 2000; ++i) {
    const int64_t quotient = q(rng), divisor = d(rng);
    const __int128 dividend = (__int128)quotient * divisor;
    REQUIRE(ok(i128_to_string(dividend) + "/" + std::to_string(divisor)) == std::to_string(quotient));
  }
  // Powers of two and five terminate: 1/2^k has k fractional digits.
  std::string expected = "0.5";
  __int128 pow2 = 2;
  for (int k = 1; k <= 20; ++k) {
    // 1/2^k = 5^k / 10^k
    __int128 five = 1;
    for (int j = 0; j < k; ++j) five *= 5;
    REQUIRE(ok("1/" + i128_to_string(pow2)) == scaled_to_string(five, k));
    pow2 *= 2;
  }
}

TEST_CASE("calc: non-terminating quotients have 20 significant digits, rounded half to even") {
  // Long division done here, digit by digit, to 21 digits; then the rule.
  auto reference = [](int64_t num, int64_t den) {
    std::string digits;
    int64_t rem = num % den;
    int64_t integer = num / den;
    std::string int_part = std::to_string(integer);
    int frac_digits = integer == 0 ? 0 : -int(int_part.size());
    // Collect fractional digits until 20 significant digits and one more are known.
    std::string frac;
    std::string sig = integer == 0 ? "" : int_part;
    while (sig.size() < 21) {
      rem *= 10;
      const int64_t digit = rem / den;
      rem %= den;
      frac += char('0' + digit);
      if (!sig.empty() || digit != 0) sig += char('0' + digit);
    }
    (void)frac_digits;
    // Round the 21st significant digit (no exact ties here: the remainder is non-zero).
    const bool up = sig[20] >= '5';
    std::string kept = frac.substr(0, frac.size() - 1);
    std::string all = (integer == 0 ? "" : int_part) + kept;
    // Add one at the last kept digit.
    if (up) {
      int i = int(all.size()) - 1;
      while (i >= 0 && all[size_t(i)] == '9') all[size_t(i--)] = '0';
      if (i >= 0) ++all[size_t(i)];
      else all.insert(all.begin(), '1');
    }
    const size_t int_len = all.size() - kept.size();
    std::string out = int_len == 0 ? "0" : all.substr(0, int_len);
    std::string f = all.substr(int_len);
    while (!f.empty() && f.back() == '0') f.pop_back();
    return f.empty() ? out : out + "." + f;
  };
  CHECK(ok("1/3") == "0.33333333333333333333");
  CHECK(ok("2/3") == "0.66666666666666666667");
  for (int64_t den : {3, 7, 11, 13, 17, 19, 23, 97, 101, 9973}) {
    for (int64_t num : {1, 2, 5, 10, 22, 1000, 123457}) {
      if (num % den == 0) continue;
      INFO(num << "/" << den);
      CHECK(ok(std::to_string(num) + "/" + std::to_string(den)) == reference(num, den));
      CHECK(ok(std::string("-") + std::to_string(num) + "/" + std::to_string(den)) == std::string("-") + reference(num, den));
    }
  }
  // An exact tie at the 21st digit rounds to even: 0.5 * 10^-20 steps.
  CHECK(ok("100000000000000000001/2") == "50000000000000000000");  // 5.00000000000000000005e19 -> even
  CHECK(ok("100000000000000000003/2") == "50000000000000000002");  // ...015 -> ...02 (half to even)
}

TEST_CASE("calc: errors are results, not exceptions") {
  struct Case {
    const char* expr;
    const char* message_part;
  };
  for (const Case c : {Case{"1/0", "division by zero"}, Case{"1/(2-2)", "division by zero"},
                       Case{"", "empty"}, Case{"   ", "empty"}, Case{"1 +", "expected a number"},
                       Case{"(1", "expected ')'"}, Case{"1)", "unexpected ')'"}, Case{"2^3", "unexpected '^'"},
                       Case{"1e5", "unexpected 'e'"}, Case{"1.2.3", "malformed number"}, Case{".", "malformed number"},
                       Case{"abc", "unexpected 'a'"}}) {
    const auto r = calc_evaluate(c.expr);
    INFO(c.expr << " -> " << r.text);
    CHECK_FALSE(r.ok);
    CHECK(r.text.find(c.message_part) != std::string::npos);
  }
}

TEST_CASE("calc: limits bound the work a hostile expression can cause") {
  std::string deep(ree::agent::kMaxNesting + 5, '(');
  deep += "1";
  deep += std::string(ree::agent::kMaxNesting + 5, ')');
  auto r = calc_evaluate(deep);
  CHECK_FALSE(r.ok);
  CHECK(r.text.find("nesting") != std::string::npos);

  std::string minus(200, '-');
  r = calc_evaluate(minus + "1");
  CHECK_FALSE(r.ok);

  r = calc_evaluate(std::string(ree::agent::kMaxExpressionLength + 1, '1'));
  CHECK_FALSE(r.ok);

  // Each (1/3) has a 20-digit mantissa 3.3e19; 60 of them multiply to ~1170 digits: refused.
  std::string big = "(1/3)";
  for (int i = 0; i < 59; ++i) big += "*(1/3)";
  REQUIRE(big.size() < ree::agent::kMaxExpressionLength);
  r = calc_evaluate(big);
  CHECK_FALSE(r.ok);
  CHECK(r.text.find("more than 1000 digits") != std::string::npos);

  // Just under the limit is fine: (10^100)^9 has 901 digits.
  std::string p(101, '0');
  p[0] = '1';
  std::string e = p;
  for (int i = 0; i < 8; ++i) {
    e += '*';
    e += p;
  }
  const auto ok900 = calc_evaluate(e);
  REQUIRE(ok900.ok);
  std::string expected(901, '0');
  expected[0] = '1';
  CHECK(ok900.text == expected);
}

TEST_CASE("decimal: BigNat division agrees with multiplication") {
  using ree::agent::BigNat;
  std::mt19937_64 rng(3);
  for (int i = 0; i < 300; ++i) {
    std::string a_digits, b_digits;
    const int na = 1 + int(rng() % 60), nb = 1 + int(rng() % 30);
    for (int k = 0; k < na; ++k) a_digits += char('0' + rng() % 10);
    for (int k = 0; k < nb; ++k) b_digits += char('0' + rng() % 10);
    b_digits[0] = char('1' + rng() % 9);
    const BigNat a = *BigNat::from_digits(a_digits), b = *BigNat::from_digits(b_digits);
    BigNat q, r;
    BigNat::divmod(a, b, q, r);
    // a == q*b + r and r < b.
    CHECK(compare(q * b + r, a) == 0);
    CHECK(compare(r, b) < 0);
  }
}
