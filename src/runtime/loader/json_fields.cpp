#include "runtime/loader/json_fields.h"

#include <cstdio>

#include "runtime/error.h"

namespace ree {

std::string printable(std::string_view text, size_t max_len) {
  std::string out;
  for (const char c : text) {
    if (out.size() >= max_len) {
      out += "...";
      break;
    }
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\x%02x", byte);
      out += escaped;
    } else {
      out += c;
    }
  }
  return out;
}

std::string short_dump(const nlohmann::json& value, size_t max_len) {
  return printable(value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), max_len);
}

nlohmann::json parse_json(std::string_view text, const std::string& origin, const std::string& what) {
  try {
    return nlohmann::json::parse(text.begin(), text.end());
  } catch (const nlohmann::json::exception& e) {
    throw file_error(origin, what + " is not valid JSON: " + printable(e.what(), 200));
  }
}

std::optional<int64_t> as_int(const nlohmann::json& value, int64_t lo, int64_t hi) {
  if (value.is_number_unsigned()) {
    const uint64_t v = value.get<uint64_t>();
    if (hi < 0 || v > static_cast<uint64_t>(hi)) return std::nullopt;
    const auto s = static_cast<int64_t>(v);
    if (s < lo) return std::nullopt;
    return s;
  }
  if (value.is_number_integer()) {
    const int64_t v = value.get<int64_t>();
    if (v < lo || v > hi) return std::nullopt;
    return v;
  }
  return std::nullopt;
}

namespace {
const nlohmann::json* find_field(const nlohmann::json& object, const std::string& key) {
  if (!object.is_object()) return nullptr;
  const auto it = object.find(key);
  if (it == object.end() || it->is_null()) return nullptr;
  return &*it;
}
}  // namespace

std::optional<int64_t> int_field(const nlohmann::json& object, const std::string& key,
                                 const std::string& origin, int64_t lo, int64_t hi) {
  const nlohmann::json* value = find_field(object, key);
  if (value == nullptr) return std::nullopt;
  const std::optional<int64_t> v = as_int(*value, lo, hi);
  if (!v) {
    throw file_error(origin, key + " must be an integer in [" + std::to_string(lo) + ", " +
                                 std::to_string(hi) + "], got " + short_dump(*value));
  }
  return v;
}

std::optional<double> number_field(const nlohmann::json& object, const std::string& key,
                                   const std::string& origin) {
  const nlohmann::json* value = find_field(object, key);
  if (value == nullptr) return std::nullopt;
  if (!value->is_number()) {
    throw file_error(origin, key + " must be a number, got " + short_dump(*value));
  }
  return value->get<double>();
}

std::optional<bool> bool_field(const nlohmann::json& object, const std::string& key,
                               const std::string& origin) {
  const nlohmann::json* value = find_field(object, key);
  if (value == nullptr) return std::nullopt;
  if (!value->is_boolean()) {
    throw file_error(origin, key + " must be true or false, got " + short_dump(*value));
  }
  return value->get<bool>();
}

std::optional<std::string> string_field(const nlohmann::json& object, const std::string& key,
                                        const std::string& origin) {
  const nlohmann::json* value = find_field(object, key);
  if (value == nullptr) return std::nullopt;
  if (!value->is_string()) {
    throw file_error(origin, key + " must be a string, got " + short_dump(*value));
  }
  return value->get<std::string>();
}

}  // namespace ree
