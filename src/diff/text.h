#pragma once
// Small text helpers for one-line descriptions of differences.
#include <cstdint>
#include <string>
#include <string_view>

namespace ree::diff {

// `text` in double quotes with control characters, quotes and backslashes
// escaped, cut to about `max_chars` characters with "..." when longer.
std::string quote_text(std::string_view text, size_t max_chars = 48);

// "0x" followed by 16 lower-case hex digits.
std::string hex64(uint64_t value);

// Index of the first byte where a and b differ (the shorter length when one
// is a prefix of the other).
size_t first_difference(std::string_view a, std::string_view b);

// `text` around byte `at`: up to `radius` characters either side, quoted.
std::string excerpt(std::string_view text, size_t at, size_t radius = 16);

}  // namespace ree::diff
