#include "diff/text.h"

#include <algorithm>
#include <cstdio>

namespace ree::diff {

std::string quote_text(std::string_view text, size_t max_chars) {
  std::string out = "\"";
  size_t shown = 0;
  for (unsigned char c : text) {
    if (shown >= max_chars) {
      out += "...";
      break;
    }
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default:
        if (c < 0x20 || c == 0x7f) {
          char escaped[8];
          std::snprintf(escaped, sizeof escaped, "\\x%02x", c);
          out += escaped;
        } else {
          out += static_cast<char>(c);
        }
    }
    // Count characters, not bytes: UTF-8 continuation bytes are free.
    if ((c & 0xC0) != 0x80) ++shown;
  }
  return out + "\"";
}

std::string hex64(uint64_t value) {
  char text[24];
  std::snprintf(text, sizeof text, "0x%016llx", static_cast<unsigned long long>(value));
  return text;
}

size_t first_difference(std::string_view a, std::string_view b) {
  const size_t n = std::min(a.size(), b.size());
  for (size_t i = 0; i < n; ++i)
    if (a[i] != b[i]) return i;
  return n;
}

std::string excerpt(std::string_view text, size_t at, size_t radius) {
  const size_t from = at > radius ? at - radius : 0;
  const size_t to = std::min(text.size(), at + radius);
  std::string shown = (from > 0 ? "..." : "") + quote_text(text.substr(from, to - from), 2 * radius + 4);
  if (to < text.size()) shown += "...";
  return shown;
}

}  // namespace ree::diff
