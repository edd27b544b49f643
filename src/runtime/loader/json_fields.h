#pragma once
// Reading JSON written by someone else (config.json, safetensors headers,
// index files) with one-line errors: every failure names the file and the
// field, and text copied from the file into a message is made printable.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace ree {

// `text` with control bytes escaped (\xNN) and cut to about `max_len` bytes,
// so that a message quoting a file always stays one line.
std::string printable(std::string_view text, size_t max_len = 120);

// A JSON value as compact text for an error message (never throws, one line).
std::string short_dump(const nlohmann::json& value, size_t max_len = 60);

// Parses `text`; throws ree::file_error(origin, "<what> is not valid JSON: ...").
nlohmann::json parse_json(std::string_view text, const std::string& origin, const std::string& what);

// Field accessors on a JSON object. Absent (or null) fields give nullopt;
// a field of the wrong type, or an integer outside [lo, hi], throws
// ree::file_error(origin, "<key>: ...").
std::optional<int64_t> int_field(const nlohmann::json& object, const std::string& key,
                                 const std::string& origin, int64_t lo, int64_t hi);
std::optional<double> number_field(const nlohmann::json& object, const std::string& key,
                                   const std::string& origin);
std::optional<bool> bool_field(const nlohmann::json& object, const std::string& key,
                               const std::string& origin);
std::optional<std::string> string_field(const nlohmann::json& object, const std::string& key,
                                        const std::string& origin);

// An integer JSON value inside [lo, hi], or nullopt when it is not one.
std::optional<int64_t> as_int(const nlohmann::json& value, int64_t lo, int64_t hi);

}  // namespace ree
