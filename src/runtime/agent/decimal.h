#pragma once
// Exact decimal numbers for the calc tool: a signed big integer mantissa
// scaled by a power of ten (value = mantissa / 10^scale). Addition,
// subtraction and multiplication are exact; division is exact whenever the
// quotient has at most kDivisionDigits significant digits and is otherwise
// rounded to that many (half to even). No floating point anywhere, so the
// tool's answer never depends on the machine.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ree::agent {

// Significant digits of a quotient that does not terminate (1/3 gives
// 0.33333333333333333333): more than a double holds, few enough to read.
constexpr int kDivisionDigits = 20;

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
  int digit_count() const;  // 0 has one digit
  std::string to_string() const;

  friend int compare(const BigNat& a, const BigNat& b);
  friend BigNat operator+(const BigNat& a, const BigNat& b);
  friend BigNat operator-(const BigNat& a, const BigNat& b);  // requires a >= b
  friend BigNat operator*(const BigNat& a, const BigNat& b);
  // Quotient and remainder; the divisor must not be zero.
  static void divmod(const BigNat& a, const BigNat& b, BigNat& quotient, BigNat& remainder);

 private:
  void trim();
  BigNat mul_small(uint32_t m) const;
  std::vector<uint32_t> limbs_;
};

class Decimal {
 public:
  Decimal() = default;
  // Parses "123", "12.5", ".5", "007" (no sign, no exponent).
  static std::optional<Decimal> parse(std::string_view text);

  Decimal negated() const;
  bool is_zero() const { return mantissa_.is_zero(); }
  int digit_count() const { return mantissa_.digit_count(); }
  std::string to_string() const;  // plain notation, trailing zeros stripped, "-" when negative

  friend Decimal operator+(const Decimal& a, const Decimal& b);
  friend Decimal operator-(const Decimal& a, const Decimal& b);
  friend Decimal operator*(const Decimal& a, const Decimal& b);
  // nullopt when b is zero.
  static std::optional<Decimal> divide(const Decimal& a, const Decimal& b);

 private:
  Decimal(bool negative, BigNat mantissa, int scale);
  void normalize();
  bool negative_ = false;
  BigNat mantissa_;
  int scale_ = 0;  // >= 0
};

}  // namespace ree::agent
