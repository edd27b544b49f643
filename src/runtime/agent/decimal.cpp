#include "runtime/agent/decimal.h"

#include <algorithm>

namespace ree::agent {

// --- BigNat ------------------------------------------------------------------

BigNat::BigNat(uint64_t v) {
  while (v > 0) {
    limbs_.push_back(uint32_t(v % kBase));
    v /= kBase;
  }
}

void BigNat::trim() {
  while (!limbs_.empty() && limbs_.back() == 0) limbs_.pop_back();
}

BigNat BigNat::pow10(int n) {
  BigNat r;
  r.limbs_.assign(size_t(n / 9), 0u);
  uint32_t top = 1;
  for (int i = 0; i < n % 9; ++i) top *= 10;
  r.limbs_.push_back(top);
  return r;
}

std::optional<BigNat> BigNat::from_digits(std::string_view digits) {
  if (digits.empty()) return std::nullopt;
  BigNat r;
  // Groups of nine digits from the right end are the limbs.
  for (size_t end = digits.size(); end > 0;) {
    const size_t begin = end >= 9 ? end - 9 : 0;
    uint32_t limb = 0;
    for (size_t i = begin; i < end; ++i) {
      const char c = digits[i];
      if (c < '0' || c > '9') return std::nullopt;
      limb = limb * 10 + uint32_t(c - '0');
    }
    r.limbs_.push_back(limb);
    end = begin;
  }
  r.trim();
  return r;
}

int BigNat::digit_count() const {
  if (limbs_.empty()) return 1;
  int n = 9 * int(limbs_.size() - 1);
  for (uint32_t top = limbs_.back(); top > 0; top /= 10) ++n;
  return n;
}

std::string BigNat::to_string() const {
  if (limbs_.empty()) return "0";
  std::string s = std::to_string(limbs_.back());
  for (size_t i = limbs_.size() - 1; i-- > 0;) {
    const std::string part = std::to_string(limbs_[i]);
    s.append(9 - part.size(), '0');
    s += part;
  }
  return s;
}

int compare(const BigNat& a, const BigNat& b) {
  if (a.limbs_.size() != b.limbs_.size()) return a.limbs_.size() < b.limbs_.size() ? -1 : 1;
  for (size_t i = a.limbs_.size(); i-- > 0;)
    if (a.limbs_[i] != b.limbs_[i]) return a.limbs_[i] < b.limbs_[i] ? -1 : 1;
  return 0;
}

BigNat operator+(const BigNat& a, const BigNat& b) {
  BigNat r;
  const size_t n = std::max(a.limbs_.size(), b.limbs_.size());
  r.limbs_.resize(n + 1, 0u);
  uint32_t carry = 0;
  for (size_t i = 0; i < n; ++i) {
    uint32_t s = carry;
    if (i < a.limbs_.size()) s += a.limbs_[i];
    if (i < b.limbs_.size()) s += b.limbs_[i];
    carry = s >= BigNat::kBase ? 1u : 0u;
    r.limbs_[i] = s - carry * BigNat::kBase;
  }
  r.limbs_[n] = carry;
  r.trim();
  return r;
}

BigNat operator-(const BigNat& a, const BigNat& b) {
  BigNat r = a;
  int64_t borrow = 0;
  for (size_t i = 0; i < r.limbs_.size(); ++i) {
    int64_t d = int64_t(r.limbs_[i]) - borrow - (i < b.limbs_.size() ? int64_t(b.limbs_[i]) : 0);
    borrow = d < 0 ? 1 : 0;
    r.limbs_[i] = uint32_t(d + borrow * int64_t(BigNat::kBase));
  }
  r.trim();
  return r;
}

BigNat operator*(const BigNat& a, const BigNat& b) {
  if (a.is_zero() || b.is_zero()) return {};
  std::vector<uint64_t> acc(a.limbs_.size() + b.limbs_.size() + 1, 0u);
  for (size_t i = 0; i < a.limbs_.size(); ++i) {
    uint64_t carry = 0;
    for (size_t j = 0; j < b.limbs_.size(); ++j) {
      const uint64_t cur = acc[i + j] + uint64_t(a.limbs_[i]) * b.limbs_[j] + carry;
      acc[i + j] = cur % BigNat::kBase;
      carry = cur / BigNat::kBase;
    }
    for (size_t k = i + b.limbs_.size(); carry > 0; ++k) {
      const uint64_t cur = acc[k] + carry;
      acc[k] = cur % BigNat::kBase;
      carry = cur / BigNat::kBase;
    }
  }
  BigNat r;
  r.limbs_.assign(acc.begin(), acc.end());
  r.trim();
  return r;
}

BigNat BigNat::mul_small(uint32_t m) const {
  BigNat r;
  r.limbs_.resize(limbs_.size() + 1, 0u);
  uint64_t carry = 0;
  for (size_t i = 0; i < limbs_.size(); ++i) {
    const uint64_t cur = uint64_t(limbs_[i]) * m + carry;
    r.limbs_[i] = uint32_t(cur % kBase);
    carry = cur / kBase;
  }
  r.limbs_[limbs_.size()] = uint32_t(carry);
  r.trim();
  return r;
}

void BigNat::divmod(const BigNat& a, const BigNat& b, BigNat& quotient, BigNat& remainder) {
  // Schoolbook long division, one base-10^9 limb at a time. Each quotient
  // limb is found by binary search: slow in theory, but operands are capped
  // at kMaxDigits, so it is microseconds in practice and obviously correct.
  BigNat q, r;
  q.limbs_.assign(a.limbs_.size(), 0u);
  for (size_t i = a.limbs_.size(); i-- > 0;) {
    r.limbs_.insert(r.limbs_.begin(), a.limbs_[i]);
    r.trim();
    uint32_t lo = 0, hi = kBase - 1;
    while (lo < hi) {
      const uint32_t mid = lo + (hi - lo + 1) / 2;
      if (compare(b.mul_small(mid), r) <= 0) lo = mid;
      else hi = mid - 1;
    }
    q.limbs_[i] = lo;
    if (lo > 0) r = r - b.mul_small(lo);
  }
  q.trim();
  quotient = std::move(q);
  remainder = std::move(r);
}

BigNat BigNat::gcd(BigNat a, BigNat b) {
  while (!b.is_zero()) {
    BigNat q, r;
    divmod(a, b, q, r);
    a = std::move(b);
    b = std::move(r);
  }
  return a;
}

// --- Fraction ----------------------------------------------------------------

Fraction::Fraction(bool negative, BigNat numerator, BigNat denominator)
    : negative_(negative && !numerator.is_zero()), numerator_(std::move(numerator)),
      denominator_(std::move(denominator)) {}

std::optional<Fraction> Fraction::parse(std::string_view text) {
  const size_t dot = text.find('.');
  const std::string_view whole = text.substr(0, dot);
  std::string_view fraction;
  if (dot != std::string_view::npos) {
    fraction = text.substr(dot + 1);
    if (fraction.empty() || fraction.find('.') != std::string_view::npos) return std::nullopt;
  }
  if (whole.empty() && fraction.empty()) return std::nullopt;
  auto numerator = BigNat::from_digits(std::string(whole) + std::string(fraction));
  if (!numerator) return std::nullopt;
  return Fraction(false, std::move(*numerator), BigNat::pow10(int(fraction.size())));
}

Fraction Fraction::negated() const { return Fraction(!negative_, numerator_, denominator_); }

int Fraction::digit_count() const { return std::max(numerator_.digit_count(), denominator_.digit_count()); }

Fraction operator+(const Fraction& a, const Fraction& b) {
  const BigNat x = a.numerator_ * b.denominator_, y = b.numerator_ * a.denominator_;
  BigNat denominator = a.denominator_ * b.denominator_;
  if (a.negative_ == b.negative_) return Fraction(a.negative_, x + y, std::move(denominator));
  // Opposite signs: subtract the smaller magnitude from the larger.
  if (compare(x, y) >= 0) return Fraction(a.negative_, x - y, std::move(denominator));
  return Fraction(b.negative_, y - x, std::move(denominator));
}

Fraction operator-(const Fraction& a, const Fraction& b) { return a + b.negated(); }

Fraction operator*(const Fraction& a, const Fraction& b) {
  return Fraction(a.negative_ != b.negative_, a.numerator_ * b.numerator_, a.denominator_ * b.denominator_);
}

std::optional<Fraction> Fraction::divide(const Fraction& a, const Fraction& b) {
  if (b.is_zero()) return std::nullopt;
  return Fraction(a.negative_ != b.negative_, a.numerator_ * b.denominator_, a.denominator_ * b.numerator_);
}

namespace {
// How often `factor` divides n; n is divided by it that often.
int strip_factor(BigNat& n, uint32_t factor) {
  const BigNat f(factor);
  int count = 0;
  for (;;) {
    BigNat q, r;
    BigNat::divmod(n, f, q, r);
    if (!r.is_zero()) return count;
    n = std::move(q);
    ++count;
  }
}
}  // namespace

std::string Fraction::to_string() const {
  // Reduce, then decide whether the decimal expansion terminates: it does exactly
  // when the reduced denominator has no prime factor other than 2 and 5.
  const BigNat g = BigNat::gcd(numerator_, denominator_);
  BigNat num, den, unused;
  BigNat::divmod(numerator_, g, num, unused);
  BigNat::divmod(denominator_, g, den, unused);
  BigNat rest = den;
  const int twos = strip_factor(rest, 2), fives = strip_factor(rest, 5);
  int scale = 0;
  BigNat magnitude, remainder;
  if (rest.is_one()) {
    scale = std::max(twos, fives);
    BigNat::divmod(num * BigNat::pow10(scale), den, magnitude, remainder);  // exact: den divides 10^scale
  } else {
    scale = kFractionDigits;
    BigNat::divmod(num * BigNat::pow10(scale), den, magnitude, remainder);
    const int c = compare(remainder + remainder, den);  // round half to even
    if (c > 0 || (c == 0 && magnitude.is_odd())) magnitude = magnitude + BigNat(1);
  }
  std::string digits = magnitude.to_string();
  if (int(digits.size()) < scale + 1) digits.insert(0, size_t(scale + 1 - int(digits.size())), '0');
  const size_t point = digits.size() - size_t(scale);
  std::string whole = digits.substr(0, point), fraction = digits.substr(point);
  while (!fraction.empty() && fraction.back() == '0') fraction.pop_back();
  const bool minus = negative_ && !magnitude.is_zero();  // a result that rounds to 0 is "0", never "-0"
  return (minus ? "-" : "") + whole + (fraction.empty() ? "" : "." + fraction);
}

}  // namespace ree::agent
