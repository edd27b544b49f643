#include "runtime/agent/tools.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <nlohmann/json.hpp>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/agent/calc.h"
#include "runtime/error.h"

namespace ree::agent {

const char* tool_status_name(ToolStatus s) {
  switch (s) {
    case ToolStatus::Ok: return "ok";
    case ToolStatus::Error: return "error";
    case ToolStatus::Timeout: return "timeout";
  }
  return "?";
}

namespace {

using Clock = std::chrono::steady_clock;

ToolOutcome failure(const std::string& message, ToolStatus status = ToolStatus::Error) {
  return {"error: " + message, status, 0, {}};
}

// The arguments object, or nullopt when the text is not a JSON object.
std::optional<nlohmann::json> arguments_object(const std::string& text) {
  try {
    auto json = nlohmann::json::parse(text.empty() ? "{}" : text);
    if (json.is_object()) return json;
  } catch (const nlohmann::json::exception&) {
  }
  return std::nullopt;
}

// The arguments of a built-in hold exactly `key` (tools.py: anything else is
// "error: invalid arguments"); the value itself is checked by the tool. The
// pointer is into `args`, which must outlive it.
const nlohmann::json* only_argument(const std::optional<nlohmann::json>& args, const char* key) {
  if (!args || args->size() != 1) return nullptr;
  const auto it = args->find(key);
  return it == args->end() ? nullptr : &*it;
}

// The texts below are samples/sample-model/tools.py's, word for word: the sample
// model was trained on them (docs/agent.md, "Tools").
const char kInvalidArguments[] = "invalid arguments";

bool inside(const std::filesystem::path& base, const std::filesystem::path& target) {
  auto b = base.begin(), t = target.begin();
  for (; b != base.end(); ++b, ++t)
    if (t == target.end() || *b != *t) return false;
  return true;
}

std::string first_line(const std::string& text) {
  size_t begin = text.find_first_not_of(" \t\r\n");
  if (begin == std::string::npos) return {};
  size_t end = text.find('\n', begin);
  return text.substr(begin, end == std::string::npos ? std::string::npos : end - begin);
}

std::string seconds_text(std::chrono::milliseconds ms) {
  if (ms.count() % 1000 == 0) return std::to_string(ms.count() / 1000) + " s";
  return std::to_string(ms.count()) + " ms";
}

ToolOutcome external_outcome(const ExternalTool& tool, const ProcessOutcome& p, const ProcessLimits& limits) {
  ToolOutcome r;
  r.duration = p.duration;
  r.exit_code = p.exit_code;
  const std::string who = "tool '" + tool.name + "'";
  switch (p.end) {
    case ProcessEnd::Exited:
      if (p.exit_code == 0) {
        r.output = p.stdout_text;
        // `echo` and friends end with a newline that is not part of the answer.
        if (!r.output.empty() && r.output.back() == '\n') r.output.pop_back();
        return r;
      } else {
        std::string why = first_line(p.stderr_text);
        if (why.empty()) why = first_line(p.stdout_text);
        r = failure(who + " exited with status " + std::to_string(p.exit_code) + (why.empty() ? "" : ": " + why));
        r.exit_code = p.exit_code;
      }
      break;
    case ProcessEnd::Signaled:
      r = failure(who + " was killed by signal " + std::to_string(p.exit_code - 128));
      r.exit_code = p.exit_code;
      break;
    case ProcessEnd::TimedOut:
      r = failure(who + " timed out after " + seconds_text(limits.timeout), ToolStatus::Timeout);
      r.exit_code = -1;
      break;
    case ProcessEnd::OutputLimit:
      // Flagged by status Error; the part that fits is still given to the model.
      r.output = p.stdout_text + "\n[truncated: the output of " + who + " exceeded " +
                 std::to_string(limits.max_output_bytes) + " bytes]";
      r.status = ToolStatus::Error;
      r.exit_code = p.exit_code;
      break;
    case ProcessEnd::Interrupted:
      r = failure(who + " was stopped: the agent was interrupted");
      r.exit_code = -1;
      break;
    case ProcessEnd::StartFailed:
      r = failure("could not start " + who + ": " + p.error);
      r.exit_code = -1;
      break;
  }
  r.duration = p.duration;
  return r;
}

}  // namespace

ExternalTool parse_tool_flag(const std::string& flag) {
  const size_t eq = flag.find('=');
  if (eq == std::string::npos || eq == 0)
    throw Error("--tool '" + flag + "': expected NAME=COMMAND");
  ExternalTool tool{flag.substr(0, eq), flag.substr(eq + 1)};
  for (char c : tool.name) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-'))
      throw Error("--tool '" + flag + "': the name may hold only letters, digits, '_' and '-'");
  }
  if (tool.command.empty()) throw Error("--tool '" + flag + "': empty command");
  return tool;
}

ToolOutcome run_calc(const std::string& arguments_json) {
  const auto start = Clock::now();
  const auto args = arguments_object(arguments_json);
  const nlohmann::json* expression = only_argument(args, "expression");
  if (!expression) return failure(kInvalidArguments);
  ToolOutcome out;
  if (!expression->is_string()) {
    out = {"error: invalid expression", ToolStatus::Error, 0, {}};
  } else {
    const CalcResult r = calc_evaluate(expression->get<std::string>());
    out = {r.text, r.ok ? ToolStatus::Ok : ToolStatus::Error, 0, {}};
  }
  out.duration = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start);
  return out;
}

ToolOutcome run_now(const std::string& arguments_json) {
  const auto args = arguments_object(arguments_json);
  if (!args || !args->empty()) return failure(kInvalidArguments);
  return run_now();
}

ToolOutcome run_now() {
  const std::time_t t = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&t, &utc);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return {buf, ToolStatus::Ok, 0, {}};
}

ToolOutcome run_read_file(const std::string& arguments_json, const std::optional<std::filesystem::path>& read_dir) {
  if (!read_dir) return failure("read_file is disabled (the agent was started without --read-dir)");
  const auto args = arguments_object(arguments_json);
  const nlohmann::json* path_value = only_argument(args, "path");
  if (!path_value || !path_value->is_string()) return failure(kInvalidArguments);
  const auto path = std::make_optional(path_value->get<std::string>());
  // An empty path or one with a NUL byte names no file (tools.py: not in the file table).
  if (path->empty() || path->find('\0') != std::string::npos) return failure("no such file: " + *path);
  std::error_code ec;
  const auto base = std::filesystem::canonical(*read_dir, ec);
  if (ec) return failure("read_file: the read directory is not accessible");
  // canonical() resolves every symlink and "..", so the containment check
  // sees where the file really is.
  const auto target = std::filesystem::canonical(base / *path, ec);
  if (ec) return failure("no such file: " + *path);
  if (!inside(base, target)) return failure("read_file: " + *path + " is outside the readable directory");
  const int fd = ::open(target.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return failure("read_file: cannot open " + *path + ": " + std::strerror(errno));
  struct stat st {};
  std::string content;
  std::string problem;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    problem = "read_file: " + *path + " is not a regular file";
  } else if (uint64_t(st.st_size) > kMaxReadFileBytes) {
    problem = "read_file: " + *path + " is " + std::to_string(st.st_size) + " bytes, more than the limit of " +
              std::to_string(kMaxReadFileBytes);
  } else {
    char buf[8192];
    ssize_t n;
    while ((n = ::read(fd, buf, sizeof buf)) > 0 && content.size() <= kMaxReadFileBytes) content.append(buf, size_t(n));
    if (n < 0) problem = "read_file: cannot read " + *path;
    if (content.size() > kMaxReadFileBytes) problem = "read_file: " + *path + " grew past the size limit";
  }
  ::close(fd);
  if (!problem.empty()) return failure(problem);
  return {content, ToolStatus::Ok, 0, {}};
}

ToolBox::ToolBox(ToolConfig config) : config_(std::move(config)) {}

const ExternalTool* ToolBox::external(const std::string& name) const {
  // The last --tool of a name wins, like repeated flags usually do.
  for (auto it = config_.external.rbegin(); it != config_.external.rend(); ++it)
    if (it->name == name) return &*it;
  return nullptr;
}

bool ToolBox::has(const std::string& name) const {
  return external(name) || name == "calc" || name == "now" || name == "read_file";
}

std::vector<std::string> ToolBox::names() const {
  std::vector<std::string> out = {"calc", "now", "read_file"};
  for (const auto& t : config_.external)
    if (std::find(out.begin(), out.end(), t.name) == out.end()) out.push_back(t.name);
  return out;
}

bool ToolBox::deterministic(const std::string& name) const { return external(name) || name != "now"; }

ToolOutcome ToolBox::run(const std::string& name, const std::string& arguments_json) const {
  const auto start = Clock::now();
  ToolOutcome out;
  if (const ExternalTool* tool = external(name)) {
    return external_outcome(*tool, run_process(tool->command, arguments_json, config_.limits), config_.limits);
  } else if (name == "calc") {
    out = run_calc(arguments_json);
  } else if (name == "now") {
    out = run_now(arguments_json);
  } else if (name == "read_file") {
    out = run_read_file(arguments_json, config_.read_dir);
  } else {
    out = failure("unknown tool: " + name);
  }
  out.duration = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start);
  return out;
}

}  // namespace ree::agent
