#include "runtime/agent/tool_call.h"

#include <nlohmann/json.hpp>

namespace ree::agent {

namespace {
constexpr std::string_view kOpen = "<tool_call>";
constexpr std::string_view kClose = "</tool_call>";

// First line of a JSON parser message, without the library's prefix.
std::string short_json_error(const std::string& what) {
  std::string s = what;
  const auto bracket = s.find("] ");
  if (s.rfind("[json.exception", 0) == 0 && bracket != std::string::npos) s = s.substr(bracket + 2);
  return s;
}
}  // namespace

std::optional<ParsedToolCall> parse_tool_call(std::string_view text) {
  const size_t open = text.find(kOpen);
  if (open == std::string_view::npos) return std::nullopt;
  ParsedToolCall call;
  const size_t body_begin = open + kOpen.size();
  const size_t close = text.find(kClose, body_begin);
  if (close == std::string_view::npos) {
    call.raw_text = std::string(text.substr(open));
    call.parse_error = "missing </tool_call>";
    return call;
  }
  call.raw_text = std::string(text.substr(open, close + kClose.size() - open));
  const std::string_view body = text.substr(body_begin, close - body_begin);

  nlohmann::json json;
  try {
    json = nlohmann::json::parse(body);
  } catch (const nlohmann::json::exception& e) {
    call.parse_error = "not JSON: " + short_json_error(e.what());
    return call;
  }
  if (!json.is_object()) {
    call.parse_error = "the call is not a JSON object";
    return call;
  }
  const auto name = json.find("name");
  if (name == json.end() || !name->is_string() || name->get<std::string>().empty()) {
    call.parse_error = "no \"name\" string";
    return call;
  }
  call.name = name->get<std::string>();
  nlohmann::json arguments = nlohmann::json::object();
  if (const auto args = json.find("arguments"); args != json.end()) {
    if (!args->is_object()) {
      call.parse_error = "\"arguments\" is not an object";
      return call;
    }
    arguments = *args;
  }
  call.arguments = arguments.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  call.well_formed = true;
  return call;
}

}  // namespace ree::agent
