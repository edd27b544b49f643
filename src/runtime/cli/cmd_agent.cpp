// `ree agent`: chat with a model (or answer one prompt) with tool calls,
// recorded as a session file (docs/agent.md). The loop itself is
// src/runtime/agent/agent.h; this file parses flags, wires signals, reads
// the user's lines and prints what happens.
#include <CLI/CLI.hpp>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <unistd.h>

#include "runtime/agent/agent.h"
#include "runtime/agent/sample_model.h"
#include "runtime/cli/commands.h"
#include "runtime/cli/engine_flags.h"
#include "runtime/error.h"
#include "trace/keys.h"
#include "trace/receipt.h"
#include "trace/writer.h"

namespace ree::cli {
namespace {

// Set by SIGINT/SIGTERM. A signal handler can only reach static storage, so
// this one flag is process-wide; the agent reads it through a pointer.
std::atomic<bool> g_interrupted{false};

extern "C" void on_interrupt_signal(int) { g_interrupted.store(true); }

// The first Ctrl-C asks for a clean stop (the step finishes, the session is
// sealed as interrupted); SA_RESETHAND makes a second one kill the process,
// which still leaves a valid truncated session. No SA_RESTART: a blocking
// read of the next chat line returns so that the chat can end.
void install_interrupt_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_interrupt_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESETHAND;
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);
}

struct AgentFlags {
  std::string model;
  std::string prompt;
  bool has_prompt = false;
  std::string system;
  std::string export_path;
  bool overwrite = false;
  bool stream = false;
  int64_t max_tokens = 256;
  uint64_t seed = 0;
  float temperature = 0.0f;
  int top_k = 0;
  float top_p = 1.0f;
  int record_top_k = 8;
  std::string probe = "none";
  std::vector<std::string> tools;
  double tool_timeout_s = 10.0;
  std::string read_dir;
  std::string template_name;
  std::string sign_key;
  int max_tool_rounds = agent::kDefaultMaxToolRounds;
  bool json = false;
  EngineFlags engine;
};

void print_err(const std::string& line) { std::fprintf(stderr, "%s\n", line.c_str()); }

agent::ToolConfig tool_config(const AgentFlags& f) {
  agent::ToolConfig c;
  for (const auto& t : f.tools) c.external.push_back(agent::parse_tool_flag(t));
  if (!(f.tool_timeout_s > 0.0) || f.tool_timeout_s > 86400.0)
    throw Error("--tool-timeout must be between 0 and 86400 seconds");
  c.limits.timeout = std::chrono::milliseconds(int64_t(f.tool_timeout_s * 1000.0 + 0.5));
  c.limits.interrupt = &g_interrupted;
  if (!f.read_dir.empty()) {
    std::error_code ec;
    if (!std::filesystem::is_directory(f.read_dir, ec)) throw file_error(f.read_dir, "--read-dir is not a directory");
    c.read_dir = std::filesystem::path(f.read_dir);
  }
  return c;
}

agent::SessionSettings session_settings(const AgentFlags& f, const Model& model, agent::TemplateKind kind) {
  agent::SessionSettings s;
  if (f.max_tokens <= 0) throw Error("--max-tokens must be positive");
  if (f.temperature < 0.0f) throw Error("--temperature must be >= 0");
  if (f.top_k < 0) throw Error("--top-k must be >= 0");
  if (!(f.top_p > 0.0f && f.top_p <= 1.0f)) throw Error("--top-p must be in (0, 1]");
  if (f.record_top_k < 0 || f.record_top_k > 1024) throw Error("--record-top-k must be in 0..1024");
  if (f.probe != "none" && f.probe != "layers") throw Error("--probe: expected 'layers' or 'none', got '" + f.probe + "'");
  s.sampling.temperature = f.temperature;
  s.sampling.top_k = f.top_k;
  s.sampling.top_p = f.top_p;
  s.sampling.seed = f.seed;
  s.max_tokens = f.max_tokens;
  s.record_top_k = f.record_top_k;
  s.probes = f.probe == "layers";
  s.chat_template = kind;
  s.prefill_chunk = f.engine.prefill_chunk;
  (void)model;
  return s;
}

// What the user sees while the agent works: streamed pieces on stdout, tool
// activity on stderr.
agent::AgentObserver make_observer(const AgentFlags& f, const agent::ChatTemplate& t) {
  agent::AgentObserver o;
  if (f.stream && !f.json) {
    o.on_step = [&t](const Step& s, const std::string& piece) {
      if (agent::is_stop_token(t, s.token)) return;
      std::fwrite(piece.data(), 1, piece.size(), stdout);
      std::fflush(stdout);
    };
    o.on_message_end = [] {
      std::fputc('\n', stdout);
      std::fflush(stdout);
    };
  }
  if (!f.json) {
    o.on_tool_call = [](const agent::ParsedToolCall& c) {
      if (c.well_formed) print_err("[tool call] " + c.name + " " + c.arguments);
      else print_err("[tool call] malformed: " + c.parse_error);
    };
    o.on_tool_result = [](const std::string& name, const agent::ToolOutcome& r) {
      print_err("[tool result] " + name + " (" + agent::tool_status_name(r.status) + "): " + r.output);
    };
  }
  return o;
}

void print_transcript(const agent::Agent& a, const trace::SessionWriter* writer) {
  for (const auto& e : a.transcript()) {
    using K = agent::TranscriptEntry::Kind;
    switch (e.kind) {
      case K::Message:
        if (e.role == agent::ChatRole::Assistant)
          std::printf("  turn %u assistant (%zu tokens, %s): %s\n", e.turn, e.steps, stop_reason_name(e.stop),
                      e.text.c_str());
        else
          std::printf("  turn %u %s (%zu prompt tokens): %s\n", e.turn, agent::chat_role_name(e.role),
                      e.prompt_tokens, e.text.c_str());
        break;
      case K::ToolCall: std::printf("  tool call%s: %s\n", e.ok ? "" : " (malformed)", e.text.c_str()); break;
      case K::ToolResult: std::printf("  tool result %s%s: %s\n", e.detail.c_str(), e.ok ? "" : " (error)", e.text.c_str()); break;
      case K::Checkpoint: std::printf("  checkpoint %s %s\n", e.text.c_str(), e.detail.c_str()); break;
    }
  }
  if (writer)
    std::printf("  session %s: %llu records, receipt so far %s\n", writer->path().c_str(),
                static_cast<unsigned long long>(writer->records()), trace::to_hex(writer->receipt_so_far()).c_str());
  else
    std::printf("  (not recorded: no --export)\n");
  std::fflush(stdout);
}

// One chat command ("/checkpoint LABEL [JSON]", "/show", "/quit"); false to quit.
bool chat_command(const std::string& line, agent::Agent& a, const trace::SessionWriter* writer) {
  std::string rest = line.substr(1);
  const size_t space = rest.find(' ');
  const std::string name = rest.substr(0, space);
  rest = space == std::string::npos ? "" : rest.substr(space + 1);
  if (name == "quit" || name == "exit") return false;
  if (name == "show") {
    print_transcript(a, writer);
  } else if (name == "checkpoint") {
    const size_t sp = rest.find(' ');
    const std::string label = rest.substr(0, sp);
    const std::string data = sp == std::string::npos ? "" : rest.substr(sp + 1);
    if (label.empty()) {
      print_err("usage: /checkpoint LABEL [JSON]");
      return true;
    }
    try {
      a.checkpoint(label, data);
      print_err("checkpoint '" + label + "' recorded");
    } catch (const Error& e) {
      print_err(std::string("error: ") + e.what());
    }
  } else {
    print_err("commands: /checkpoint LABEL [JSON], /show, /quit");
  }
  return true;
}

// Tokens generated and time spent generating, over every exchange.
struct Totals {
  int64_t steps = 0;
  std::chrono::nanoseconds generation_time{0};
  std::chrono::nanoseconds recording_time{0};
  std::chrono::nanoseconds step_recording_time{0};
  void add(const agent::Exchange& e) {
    steps += e.steps;
    generation_time += e.generation_time;
    recording_time += e.recording_time;
    step_recording_time += e.step_recording_time;
  }
};

// Reads chat lines until /quit, end of input or Ctrl-C.
void chat_loop(const AgentFlags& f, agent::Agent& a, const agent::AgentObserver& observer,
               const trace::SessionWriter* writer, agent::Exchange& last, Totals& totals) {
  const bool terminal = isatty(STDIN_FILENO) == 1;
  if (terminal) print_err("chat with the model; /checkpoint LABEL [JSON], /show, /quit (Ctrl-C ends the chat)");
  char* buf = nullptr;
  size_t cap = 0;
  for (;;) {
    if (terminal) {
      std::fputs("> ", stderr);
      std::fflush(stderr);
    }
    if (g_interrupted.load()) break;
    const ssize_t n = ::getline(&buf, &cap, stdin);
    if (n < 0 || g_interrupted.load()) break;
    std::string line(buf, size_t(n));
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
    if (line.empty()) continue;
    if (line[0] == '/') {
      if (!chat_command(line, a, writer)) break;
      continue;
    }
    last = a.ask(line, observer);
    totals.add(last);
    if (!f.stream && !f.json) std::printf("%s\n", last.answer.c_str());
    std::fflush(stdout);
    if (a.stopped()) break;
  }
  std::free(buf);
}

nlohmann::json transcript_json(const agent::Agent& a) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& e : a.transcript()) {
    using K = agent::TranscriptEntry::Kind;
    switch (e.kind) {
      case K::Message:
        if (e.role == agent::ChatRole::Assistant)
          out.push_back({{"kind", "message"}, {"turn", e.turn}, {"role", "assistant"}, {"text", e.text},
                         {"steps", e.steps}, {"stop", stop_reason_name(e.stop)}});
        else
          out.push_back({{"kind", "message"}, {"turn", e.turn}, {"role", agent::chat_role_name(e.role)},
                         {"text", e.text}, {"prompt_tokens", e.prompt_tokens}});
        break;
      case K::ToolCall:
        out.push_back({{"kind", "tool_call"}, {"name", e.detail}, {"raw", e.text}, {"well_formed", e.ok}});
        break;
      case K::ToolResult:
        out.push_back({{"kind", "tool_result"}, {"name", e.detail}, {"output", e.text}, {"ok", e.ok}});
        break;
      case K::Checkpoint: out.push_back({{"kind", "checkpoint"}, {"label", e.text}, {"data", e.detail}}); break;
    }
  }
  return out;
}

int agent_command(const AgentFlags& f) {
  const EngineOptions options = to_engine_options(f.engine);
  agent::ToolBox tools(tool_config(f));
  std::optional<trace::SecretKey> key;
  if (!f.sign_key.empty()) key = trace::read_secret_key(f.sign_key);

  LoadOptions load;
  load.show_progress = stderr_is_terminal();
  const std::filesystem::path model_path = f.model.empty() ? agent::find_sample_model() : std::filesystem::path(f.model);
  const Model model = load_model(model_path, load);
  agent::TemplateChoice choice = agent::detect_template(model);
  if (!f.template_name.empty()) {
    const auto kind = agent::parse_template_id(f.template_name);
    if (!kind) throw Error("--template: unknown template '" + f.template_name + "' (" + agent::known_template_ids() + ")");
    choice = {*kind, "--template"};
  }
  auto engine = make_engine(model, options);
  agent::AgentOptions ao;
  ao.settings = session_settings(f, model, choice.kind);
  ao.max_tool_rounds = f.max_tool_rounds;
  ao.interrupt = &g_interrupted;

  std::optional<trace::SessionWriter> writer;
  if (!f.export_path.empty()) {
    trace::WriterOptions wo;
    wo.existing = f.overwrite ? trace::ExistingFile::Overwrite : trace::ExistingFile::Refuse;
    wo.signing_key = key;
    writer.emplace(f.export_path, agent::make_session_header(model, *engine, ao.settings), wo);
  }
  agent::Agent a(model, *engine, tools, ao, writer ? &*writer : nullptr);
  if (!f.json) print_err(std::string("model ") + model.identity.name + ", template " + agent::template_id(choice.kind) +
                         " (" + choice.reason + ")" + (writer ? ", recording to " + f.export_path : ""));
  install_interrupt_handlers();
  const agent::AgentObserver observer = make_observer(f, a.chat_template());

  if (!f.system.empty()) a.system(f.system);
  agent::Exchange last;
  Totals totals;
  if (f.has_prompt) {
    last = a.ask(f.prompt, observer);
    totals.add(last);
    if (!f.stream && !f.json) std::printf("%s\n", last.answer.c_str());
  } else {
    chat_loop(f, a, observer, writer ? &*writer : nullptr, last, totals);
  }
  const bool interrupted = g_interrupted.load() && a.stopped();
  if (last.stop == StopReason::ContextFull && !f.json)
    print_err("the conversation filled the KV cache (" + std::to_string(engine->context()) +
              " positions): it ends here (--context sets the size)");
  const auto finished = a.finish();

  if (f.json) {
    nlohmann::json out = {{"model", model.identity.name},
                          {"weights_digest", model.identity.weights_digest},
                          {"template", agent::template_id(choice.kind)},
                          {"template_source", choice.reason},
                          {"mode", kernels::mode_name(options.mode)},
                          {"device", engine->device_description()},
                          {"threads", options.threads},
                          {"turns", a.turns()},
                          {"transcript", transcript_json(a)},
                          {"answer", last.answer},
                          {"stop", stop_reason_name(last.stop)},
                          {"steps", totals.steps},
                          {"generation_seconds", std::chrono::duration<double>(totals.generation_time).count()},
                          {"recording_seconds", std::chrono::duration<double>(totals.recording_time).count()},
                          {"step_recording_seconds", std::chrono::duration<double>(totals.step_recording_time).count()},
                          {"interrupted", interrupted}};
    // Over the whole session: generated tokens per second spent in generation
    // (prompt prefill included, model loading and tools excluded).
    if (totals.generation_time.count() > 0)
      out["tokens_per_second"] = double(totals.steps) / std::chrono::duration<double>(totals.generation_time).count();
    if (finished) {
      out["session"] = f.export_path;
      out["receipt"] = trace::to_hex(finished->receipt);
      out["records"] = finished->records;
      out["signed"] = finished->signed_seal;
    }
    std::printf("%s\n", out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
  } else if (finished) {
    print_err("session " + f.export_path + ": " + std::to_string(finished->records) + " records, receipt " +
              trace::to_hex(finished->receipt) + (interrupted ? " (interrupted)" : ""));
  }
  return interrupted ? int(ExitCode::Truncated) : 0;
}

}  // namespace

void register_agent(CLI::App& app, RunSlot& run) {
  auto f = std::make_shared<AgentFlags>();
  CLI::App* cmd = app.add_subcommand("agent", "Chat with a model (or answer --prompt once) with tool calls, recorded as a session");
  cmd->add_option("--model", f->model, "Hugging Face directory or GGUF file (default: the bundled sample model)");
  cmd->add_option("--prompt", f->prompt, "answer this one message (with any tool-call rounds) and exit");
  cmd->add_option("--system", f->system, "system message");
  cmd->add_option("--export", f->export_path, "record the session to this file");
  cmd->add_flag("--overwrite", f->overwrite, "replace an existing --export file");
  cmd->add_flag("--stream", f->stream, "print tokens as they are generated");
  cmd->add_option("--max-tokens", f->max_tokens, "most tokens per generated message")->capture_default_str();
  cmd->add_option("--seed", f->seed, "sampling seed (Philox key)")->capture_default_str();
  cmd->add_option("--temperature", f->temperature, "0: greedy")->capture_default_str();
  cmd->add_option("--top-k", f->top_k, "sample among the k best tokens (0: all)")->capture_default_str();
  cmd->add_option("--top-p", f->top_p, "nucleus sampling threshold (1: off)")->capture_default_str();
  cmd->add_option("--record-top-k", f->record_top_k, "top-k candidates recorded per step")->capture_default_str();
  cmd->add_option("--probe", f->probe, "'layers': record per-layer activation hashes (for replay --locate)")
      ->capture_default_str();
  cmd->add_option("--tool", f->tools, "external tool NAME=COMMAND (arguments JSON on stdin, stdout is the result)")
      ->allow_extra_args(false);  // one value per --tool, repeatable
  cmd->add_option("--tool-timeout", f->tool_timeout_s, "seconds an external tool may run")->capture_default_str();
  cmd->add_option("--read-dir", f->read_dir, "directory the read_file tool may read (disabled without it)");
  cmd->add_option("--template", f->template_name, "chat template: " + agent::known_template_ids());
  cmd->add_option("--sign", f->sign_key, "sign the session's receipt with this secret key (ree keygen)");
  cmd->add_option("--max-tool-rounds", f->max_tool_rounds, "tool calls one user message may trigger")
      ->capture_default_str();
  cmd->add_flag("--json", f->json, "print a JSON summary (transcript, receipt, tokens/s) at the end");
  add_engine_flags(cmd, f->engine);
  cmd->callback([f, cmd, &run] {
    f->has_prompt = cmd->count("--prompt") > 0;
    run = [f] { return agent_command(*f); };
  });
}

}  // namespace ree::cli
