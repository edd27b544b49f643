// `ree replay session.fb`: re-execute a session and say whether it
// reproduces here; on divergence, where and why (docs/replay.md). The work
// is src/replay; this file parses flags and prints the report.
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <memory>

#include "replay/replay.h"
#include "replay/report_format.h"
#include "runtime/cli/commands.h"
#include "runtime/cli/engine_flags.h"
#include "runtime/error.h"
#include "trace/reader.h"

namespace ree::cli {
namespace {

struct ReplayFlags {
  std::string session;
  std::string model;
  bool strict = false;
  bool regenerate = false;
  bool rerun_tools = false;
  bool locate = false;
  std::string against_device;
  std::string against_mode;
  bool allow_model_mismatch = false;
  bool json = false;
  bool mode_given = false;
  std::vector<std::string> tools;
  std::string read_dir;
  double tool_timeout_s = 10.0;
  EngineFlags engine;
};

// "\rreplay: N/M steps" on a terminal, at most ten times a second.
std::function<void(uint64_t, uint64_t)> progress_printer() {
  if (!stderr_is_terminal()) return {};
  auto last = std::make_shared<std::chrono::steady_clock::time_point>();
  return [last](uint64_t done, uint64_t total) {
    const auto now = std::chrono::steady_clock::now();
    if (now - *last < std::chrono::milliseconds(100)) return;
    *last = now;
    std::fprintf(stderr, "\rreplay: %llu/%llu steps", static_cast<unsigned long long>(done),
                 static_cast<unsigned long long>(total));
    std::fflush(stderr);
  };
}

std::optional<EngineOptions> against_options(const ReplayFlags& f, const EngineOptions& base) {
  if (f.against_device.empty() && f.against_mode.empty()) return std::nullopt;
  if (!f.locate) throw Error("--against-device/--against-mode go with --locate");
  EngineFlags other = f.engine;
  if (!f.against_device.empty()) other.device = f.against_device;
  other.mode = f.against_mode.empty() ? kernels::mode_name(base.mode) : f.against_mode;
  return to_engine_options(other);
}

agent::ToolConfig tool_config(const ReplayFlags& f) {
  agent::ToolConfig c;
  for (const auto& t : f.tools) c.external.push_back(agent::parse_tool_flag(t));
  if (!(f.tool_timeout_s > 0.0) || f.tool_timeout_s > 86400.0)
    throw Error("--tool-timeout must be between 0 and 86400 seconds");
  c.limits.timeout = std::chrono::milliseconds(int64_t(f.tool_timeout_s * 1000.0 + 0.5));
  if (!f.read_dir.empty()) c.read_dir = std::filesystem::path(f.read_dir);
  return c;
}

int replay_command(const ReplayFlags& f) {
  trace::SessionReader session(f.session);
  const trace::VerifyReport& verified = session.report();
  if (verified.status == trace::SessionStatus::Invalid || verified.status == trace::SessionStatus::Unsupported ||
      !session.has_header())
    throw file_error(f.session, std::string(trace::status_name(verified.status)) + ": " + verified.message +
                                    " (ree verify says more)");
  const schema::BoundHeader& header = session.header();

  EngineFlags ef = f.engine;
  if (!f.mode_given) ef.mode = kernels::mode_name(replay::session_mode(header));
  const EngineOptions options = to_engine_options(ef);
  const auto against = against_options(f, options);

  LoadOptions load;
  load.show_progress = stderr_is_terminal();
  const auto model_path = replay::find_session_model(
      header, f.session, f.model.empty() ? std::nullopt : std::optional<std::filesystem::path>(f.model));
  const Model model = load_model(model_path, load);
  const std::vector<std::string> mismatches = replay::check_model_identity(header, model, f.allow_model_mismatch);
  auto engine = make_engine(model, options);

  replay::ReplayOptions ro;
  ro.strict = f.strict;
  ro.regenerate = f.regenerate;
  ro.rerun_tools = f.rerun_tools;
  ro.locate = f.locate;
  ro.against = against;
  ro.prefill_chunk = f.engine.prefill_chunk;
  ro.tools = tool_config(f);
  ro.on_progress = progress_printer();
  replay::ReplayReport report = replay::replay_session(session, model, *engine, ro);
  if (ro.on_progress) std::fprintf(stderr, "\r\033[K");
  for (const auto& m : mismatches) report.notes.insert(report.notes.begin(), "model mismatch allowed: " + m);

  if (f.json) {
    nlohmann::json j = replay::report_json(report);
    j["session"] = f.session;
    j["session_status"] = trace::status_name(verified.status);
    j["model"] = model_path.string();
    j["mode"] = kernels::mode_name(options.mode);
    j["device"] = engine->device_description();
    j["threads"] = options.threads;
    std::printf("%s\n", j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
  } else {
    std::fputs(replay::format_report(report).c_str(), stdout);
  }
  return report.exit_code();
}

}  // namespace

void register_replay(CLI::App& app, RunSlot& run) {
  auto f = std::make_shared<ReplayFlags>();
  CLI::App* cmd = app.add_subcommand(
      "replay", "Re-execute a session and verify it: exit 0 verified, 1 diverged, 2 bad input, 3 truncated (prefix verified)");
  cmd->add_option("session", f->session, "session file (.fb)")->required();
  cmd->add_option("--model", f->model, "the model to replay with (default: the one the header names)");
  cmd->add_flag("--strict", f->strict,
                "also check every logits hash, top-k, stop reason, tool call and checkpoint (default: every token)");
  cmd->add_flag("--regenerate", f->regenerate, "re-generate token by token instead of one batched pass per turn");
  cmd->add_flag("--rerun-tools", f->rerun_tools, "run deterministic tools again and report different results");
  cmd->add_flag("--locate", f->locate, "name the first layer and sub-block where the first differing step parts ways");
  cmd->add_option("--against-device", f->against_device, "--locate between this device and --device");
  cmd->add_option("--against-mode", f->against_mode, "--locate between this mode and --mode");
  cmd->add_flag("--allow-model-mismatch", f->allow_model_mismatch, "replay even if the model's digests differ");
  cmd->add_option("--tool", f->tools, "external tool NAME=COMMAND for --rerun-tools")
      ->allow_extra_args(false);  // one value per --tool, repeatable
  cmd->add_option("--read-dir", f->read_dir, "read_file's directory for --rerun-tools");
  cmd->add_option("--tool-timeout", f->tool_timeout_s, "seconds an external tool may run")->capture_default_str();
  cmd->add_flag("--json", f->json, "print the full report as JSON");
  add_engine_flags(cmd, f->engine);
  cmd->callback([f, cmd, &run] {
    f->mode_given = cmd->count("--mode") > 0;
    run = [f] { return replay_command(*f); };
  });
}

}  // namespace ree::cli
