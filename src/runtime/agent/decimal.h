#pragma once
// Exact numbers for the calc tool: big natural numbers and fractions of them.
// All arithmetic is exact; only printing rounds (a quotient that does not
// terminate is shown to kFractionDigits decimal places). No floating point
// anywhere, so the tool's answer never depends on the machine, and it is the
// answer samples/sample-model/tools.py gives (the sample model's training data).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ree::agent {

// Decimal places of a result that does not terminate (10/3 gives 3.3333333333),
// as in tools.py: the sample model was trained to read and repeat exactly this.
constexpr int kFractionDigits = 10;

// Magnitudes are capped so that a hostile expression ("9*9*9*..." or deep
// division chains) cannot make the agent spend unbounded memory or time.
constexpr int kMaxDigits = 1000;

// Non-negative big integer, little-endian limbs of base 10^9.
class BigNat {
 public:
  static constexpr uint32_t kBase = 1000000000u;
  BigNat() = default;
  explicit BigNat(uint64_t v);
  static BigNat pow10(int n);
  static std::optional<BigNat> from_digits(std::string_view digits);  // "0".."9" only

  bool is_zero() const { return limbs_.empty(); }
  bool is_odd() const { return !limbs_.empty() && (limbs_[0] & 1u); }
  bool is_one() const { return limbs_.size() == 1 && limbs_[0] == 1u; }
  int digit_count() const;  // 0 has one digit
  std::string to_string() const;

  friend int compare(const BigNat& a, const BigNat& b);
  friend BigNat operator+(const BigNat& a, const BigNat& b);
  friend BigNat operator-(const BigNat& a, const BigNat& b);  // requires a >= b
  friend BigNat operator*(const BigNat& a, const BigNat& b);
  // Quotient and remainder; the divisor must not be zero.
  static void divmod(const BigNat& a, const BigNat& b, BigNat& quotient, BigNat& remainder);
  static BigNat gcd(BigNat a, BigNat b);

 private:
  void trim();
  BigNat mul_small(uint32_t m) const;
  std::vector<uint32_t> limbs_;
};

// An exact rational number: what the calc tool computes with, as tools.py does
// with Python's Fraction. Never reduced until it is printed; operands are capped
// (kMaxDigits) so a hostile expression cannot grow it without bound.
class Fraction {
 public:
  Fraction() : denominator_(1) {}
  // Parses "123", "12.5", ".5", "007" (no sign, no exponent; "5." is not a number).
  static std::optional<Fraction> parse(std::string_view text);

  Fraction negated() const;
  bool is_zero() const { return numerator_.is_zero(); }
  // Digits of the larger of numerator and denominator (bounds the work).
  int digit_count() const;
  // tools.py's format_fraction: an exact plain decimal when the reduced denominator has
  // only the prime factors 2 and 5 ("84", "-7", "3.75"), else rounded half to even to
  // kFractionDigits places ("3.3333333333"); never an exponent, never trailing zeros,
  // never "-0".
  std::string to_string() const;

  friend Fraction operator+(const Fraction& a, const Fraction& b);
  friend Fraction operator-(const Fraction& a, const Fraction& b);
  friend Fraction operator*(const Fraction& a, const Fraction& b);
  // nullopt when b is zero.
  static std::optional<Fraction> divide(const Fraction& a, const Fraction& b);

 private:
  Fraction(bool negative, BigNat numerator, BigNat denominator);
  bool negative_ = false;
  BigNat numerator_;
  BigNat denominator_;  // > 0
};

}  // namespace ree::agent
