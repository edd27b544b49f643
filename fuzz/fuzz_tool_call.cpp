// libFuzzer target: what the agent does with text a model wrote — finding a
// tool call in an assistant message (tool_call.cpp) and evaluating a calc
// expression (calc.cpp, decimal.cpp; exact fractions over big integers). The
// model's text is untrusted input, and replaying a session received from
// someone else with --rerun-tools runs the same code on the recorded calls.
// Properties beyond "no crash, no sanitizer report, no hang":
//  - a well-formed call has a non-empty name, arguments that parse as a JSON
//    object, and raw text that starts with <tool_call>;
//  - calc answers either one of tools.py's two error texts or a plain decimal
//    (optional '-', digits, optional '.' and digits without a trailing zero,
//    never "-0");
//  - calc is a function: the same text gives the same answer, and a value it
//    printed (when short enough to be an expression) evaluates to itself.
#include <cstdint>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "runtime/agent/calc.h"
#include "runtime/agent/tool_call.h"

namespace {

bool plain_decimal(const std::string& s) {
  size_t i = 0;
  if (i < s.size() && s[i] == '-') ++i;
  const size_t int_begin = i;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
  if (i == int_begin) return false;
  if (i - int_begin > 1 && s[int_begin] == '0') return false;  // no leading zeros
  if (i < s.size()) {
    if (s[i] != '.') return false;
    const size_t frac_begin = ++i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    if (i == frac_begin || i != s.size() || s.back() == '0') return false;
  }
  return s != "-0";
}

void check_calc(std::string_view expression) {
  const ree::agent::CalcResult r = ree::agent::calc_evaluate(expression);
  if (r.ok) {
    if (!plain_decimal(r.text)) std::abort();
    if (r.text.size() <= ree::agent::kMaxExpressionLength) {
      const ree::agent::CalcResult again = ree::agent::calc_evaluate(r.text);
      if (!again.ok || again.text != r.text) std::abort();
    }
  } else if (r.text != "error: division by zero" && r.text != "error: invalid expression") {
    std::abort();
  }
  const ree::agent::CalcResult twice = ree::agent::calc_evaluate(expression);
  if (twice.ok != r.ok || twice.text != r.text) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  check_calc(text);
  const auto call = ree::agent::parse_tool_call(text);
  if (!call || !call->well_formed) return 0;
  if (call->name.empty() || call->raw_text.rfind("<tool_call>", 0) != 0) std::abort();
  const auto args = nlohmann::json::parse(call->arguments, nullptr, false);
  if (args.is_discarded() || !args.is_object()) std::abort();
  const auto it = args.find("expression");
  if (call->name == "calc" && it != args.end() && it->is_string()) check_calc(it->get<std::string>());
  return 0;
}
