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

// --- Decimal -----------------------------------------------------------------

Decimal::Decimal(bool negative, BigNat mantissa, int scale)
    : negative_(negative), mantissa_(std::move(mantissa)), scale_(scale) {
  normalize();
}

void Decimal::normalize() {
  // Strip trailing zeros so that equal values have one representation.
  const BigNat ten(10);
  while (scale_ > 0 && !mantissa_.is_zero()) {
    BigNat q, r;
    BigNat::divmod(mantissa_, ten, q, r);
    if (!r.is_zero()) break;
    mantissa_ = std::move(q);
    --scale_;
  }
  if (mantissa_.is_zero()) {
    negative_ = false;
    scale_ = 0;
  }
}

std::optional<Decimal> Decimal::parse(std::string_view text) {
  const size_t dot = text.find('.');
  std::string digits(text.substr(0, dot));
  std::string fraction;
  if (dot != std::string_view::npos) {
    fraction = std::string(text.substr(dot + 1));
    if (fraction.find('.') != std::string::npos) return std::nullopt;
  }
  if (digits.empty() && fraction.empty()) return std::nullopt;
  auto mantissa = BigNat::from_digits(digits + fraction);
  if (!mantissa) return std::nullopt;
  return Decimal(false, std::move(*mantissa), int(fraction.size()));
}

Decimal Decimal::negated() const { return Decimal(!negative_, mantissa_, scale_); }

std::string Decimal::to_string() const {
  std::string digits = mantissa_.to_string();
  if (scale_ > 0) {
    if (int(digits.size()) <= scale_) digits.insert(0, size_t(scale_ - int(digits.size()) + 1), '0');
    const size_t point = digits.size() - size_t(scale_);
    digits = digits.substr(0, point) + '.' + digits.substr(point);
  }
  return negative_ ? "-" + digits : digits;
}

namespace {
// Both mantissas brought to the larger of the two scales.
void align(const BigNat& am, int as, const BigNat& bm, int bs, BigNat& a_out, BigNat& b_out, int& scale) {
  scale = std::max(as, bs);
  a_out = as < scale ? am * BigNat::pow10(scale - as) : am;
  b_out = bs < scale ? bm * BigNat::pow10(scale - bs) : bm;
}
}  // namespace

Decimal operator+(const Decimal& a, const Decimal& b) {
  BigNat x, y;
  int scale = 0;
  align(a.mantissa_, a.scale_, b.mantissa_, b.scale_, x, y, scale);
  if (a.negative_ == b.negative_) return Decimal(a.negative_, x + y, scale);
  // Opposite signs: subtract the smaller magnitude from the larger.
  if (compare(x, y) >= 0) return Decimal(a.negative_, x - y, scale);
  return Decimal(b.negative_, y - x, scale);
}

Decimal operator-(const Decimal& a, const Decimal& b) { return a + b.negated(); }

Decimal operator*(const Decimal& a, const Decimal& b) {
  return Decimal(a.negative_ != b.negative_, a.mantissa_ * b.mantissa_, a.scale_ + b.scale_);
}

std::optional<Decimal> Decimal::divide(const Decimal& a, const Decimal& b) {
  if (b.is_zero()) return std::nullopt;
  if (a.is_zero()) return Decimal{};
  // a/b = N/D with N = a.m * 10^b.s and D = b.m * 10^a.s (integers).
  const BigNat n = a.mantissa_ * BigNat::pow10(b.scale_);
  const BigNat d = b.mantissa_ * BigNat::pow10(a.scale_);
  // Choose k so that Q = floor(N * 10^k / D) has exactly kDivisionDigits
  // digits: N/D lies in [10^(dn-dd-1), 10^(dn-dd+1)), so start with the
  // larger guess and step down once if Q came out one digit too long.
  int k = kDivisionDigits - (n.digit_count() - d.digit_count());
  BigNat q, r;
  for (;;) {
    const BigNat num = k >= 0 ? n * BigNat::pow10(k) : n;
    const BigNat den = k >= 0 ? d : d * BigNat::pow10(-k);
    BigNat::divmod(num, den, q, r);
    if (q.digit_count() <= kDivisionDigits) {
      // Round half to even on the remainder: compare 2r with the divisor.
      const int c = compare(r + r, den);
      if (c > 0 || (c == 0 && q.is_odd())) q = q + BigNat(1);
      break;
    }
    --k;
  }
  const bool negative = a.negative_ != b.negative_;
  if (k >= 0) return Decimal(negative, std::move(q), k);
  return Decimal(negative, q * BigNat::pow10(-k), 0);
}

}  // namespace ree::agent
