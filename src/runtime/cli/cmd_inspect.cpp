// `ree inspect session.fb [--json] [--steps A:B]`: what a session holds —
// header, turns (generated text with token boundaries shown as |piece|),
// tool calls and results, checkpoints, and per-step detail for the steps
// A..B-1 (session-wide step numbers). Works on truncated files (the intact
// prefix is shown). Exit code: that of `ree verify` for the file.
#include <CLI/CLI.hpp>
#include <charconv>
#include <cinttypes>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "runtime/cli/commands.h"
#include "runtime/error.h"
#include "trace/json.h"
#include "trace/reader.h"

namespace ree::cli {
namespace {

struct InspectFlags {
  std::string path;
  std::string steps;
  bool json = false;
};

struct StepRange {
  size_t begin = 0;
  size_t end = SIZE_MAX;
  bool given = false;
  bool contains(size_t i) const { return i >= begin && i < end; }
};

bool parse_index(std::string_view text, size_t& out) {
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && ptr == text.data() + text.size();
}

// "A:B", "A:", ":B" or "A" (just step A).
StepRange parse_steps(const std::string& text) {
  StepRange range;
  if (text.empty()) return range;
  range.given = true;
  size_t colon = text.find(':');
  std::string_view s(text);
  bool ok = true;
  if (colon == std::string::npos) {
    ok = parse_index(s, range.begin);
    range.end = range.begin + 1;
  } else {
    if (colon > 0) ok = parse_index(s.substr(0, colon), range.begin);
    if (ok && colon + 1 < s.size()) ok = parse_index(s.substr(colon + 1), range.end);
  }
  if (!ok || range.end < range.begin) throw Error("--steps: expected A:B with 0 <= A <= B, got '" + text + "'");
  return range;
}

// Printable text: control characters and '|' escaped so token boundaries stay visible.
std::string escape(std::string_view text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      case '\\': out += "\\\\"; break;
      case '|': out += "\\|"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned char>(c));
          out += buf;
        } else {
          out += c;
        }
    }
  }
  return out;
}

std::string str(const flatbuffers::String* s) { return s ? s->str() : std::string(); }

// A float from header_to_json for reading: shortest form ("0.7", not the
// double expansion of the stored float), or the "inf"/"nan" string.
std::string short_float(const nlohmann::json& value) {
  if (!value.is_number()) return value.is_string() ? value.get<std::string>() : value.dump();
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", value.get<double>());
  return buf;
}

void print_header(const trace::SessionReader& session) {
  nlohmann::json h = trace::header_to_json(session);
  const auto& m = h["model"];
  const auto& c = h["config"];
  std::printf("format:   %s, contract %s\n", h["format_version"].get<std::string>().c_str(),
              h["contract_version"].get<std::string>().c_str());
  std::printf("model:    %s (%s) weights %s tokenizer %s template %s\n", m["name"].get<std::string>().c_str(),
              m["format"].get<std::string>().c_str(), m["weights_digest"].get<std::string>().substr(0, 16).c_str(),
              m["tokenizer_digest"].get<std::string>().substr(0, 16).c_str(),
              m["chat_template_id"].get<std::string>().c_str());
  std::printf("config:   mode %s, dtype %s, seed %s, temperature %s, top_k %s, top_p %s, max_tokens %s, "
              "top-k width %s, probes %s\n",
              c["mode"].get<std::string>().c_str(), c["dtype"].get<std::string>().c_str(), c["seed"].dump().c_str(),
              short_float(c["temperature"]).c_str(), c["top_k"].dump().c_str(), short_float(c["top_p"]).c_str(),
              c["max_tokens"].dump().c_str(), c["topk_width"].dump().c_str(), c["probes"].get<bool>() ? "on" : "off");
  if (h.contains("run")) {
    const auto& r = h["run"];
    std::printf("run:      %s, %s threads, prefill chunk %s\n", r["device"].get<std::string>().c_str(),
                r["threads"].dump().c_str(), r["prefill_chunk"].dump().c_str());
  }
  if (h.contains("environment")) {
    const auto& e = h["environment"];
    std::string gpu = e["gpu_name"].get<std::string>();
    std::printf("machine:  ree %s (%s), cpu %s, simd %s%s%s, os %s\n", e["ree_version"].get<std::string>().c_str(),
                e["git_revision"].get<std::string>().c_str(), e["cpu_model"].get<std::string>().c_str(),
                e["simd_path"].get<std::string>().c_str(), gpu.empty() ? "" : ", gpu ", gpu.c_str(),
                e["os"].get<std::string>().c_str());
  }
}

void print_step_detail(const trace::SessionReader& session, size_t ordinal, const trace::RecordView& r) {
  const schema::Step& s = *r.step();
  std::string top;
  if (s.topk_ids() && s.topk_logits()) {
    for (flatbuffers::uoffset_t k = 0; k < s.topk_ids()->size() && k < s.topk_logits()->size(); ++k) {
      char buf[48];
      std::snprintf(buf, sizeof buf, " %d:%.4g", s.topk_ids()->Get(k), s.topk_logits()->Get(k));
      top += buf;
    }
  }
  std::printf("  step %zu  turn %u #%u  pos %" PRId64 "  token %d |%s|  margin %.4g  logits %s  top%s\n", ordinal,
              s.turn(), s.index(), s.position(), s.token(), escape(session.step_text(s)).c_str(), s.margin(),
              trace::hex64(s.logits_hash()).c_str(), top.c_str());
}

void print_record(const trace::RecordView& r) {
  if (const auto* t = r.turn_start()) {
    std::printf("\nturn %u %s (%u prompt tokens): %s\n", t->turn(), std::string(trace::role_name(t->role())).c_str(),
                t->prompt_tokens() ? t->prompt_tokens()->size() : 0, escape(str(t->content())).c_str());
  } else if (const auto* e = r.turn_end()) {
    std::printf("  end of turn %u: %s, %u steps\n", e->turn(),
                std::string(trace::stop_reason_name(e->stop_reason())).c_str(), e->steps());
  } else if (const auto* c = r.tool_call()) {
    std::printf("tool call %u: %s %s%s\n", c->index(), str(c->name()).c_str(), escape(str(c->arguments())).c_str(),
                c->well_formed() ? "" : ("  (malformed: " + str(c->parse_error()) + ")").c_str());
  } else if (const auto* t = r.tool_result()) {
    std::printf("tool result %u: %s %s, exit %d, %.1f ms: %s\n", t->call_index(), str(t->name()).c_str(),
                std::string(trace::tool_status_name(t->status())).c_str(), t->exit_code(), r.duration_us() / 1000.0,
                escape(str(t->output())).c_str());
  } else if (const auto* c = r.checkpoint()) {
    std::printf("checkpoint \"%s\": position %" PRId64 ", kv %s, data %s\n", str(c->label()).c_str(), c->position(),
                trace::hex64(c->kv_hash()).c_str(), escape(str(c->data())).c_str());
  } else if (!r.known()) {
    std::printf("record of unknown kind %d (version %u): not interpreted\n", static_cast<int>(r.kind()), r.version());
  }
}

// Text of each turn's steps with token boundaries, then details of the range.
void print_text(const trace::SessionReader& session, const StepRange& range) {
  print_header(session);
  const auto& report = session.report();
  std::printf("status:   %s: %s\n", std::string(trace::status_name(report.status)).c_str(), report.message.c_str());
  std::string line;
  for (size_t i = 0; i < session.size(); ++i) {
    trace::RecordView r = session.record(i);
    if (const auto* s = r.step()) {
      if (line.empty()) line = "  |";
      line += escape(session.step_text(*s)) + "|";
      continue;
    }
    if (!line.empty()) {
      std::printf("%s\n", line.c_str());
      line.clear();
    }
    print_record(r);
  }
  if (!line.empty()) std::printf("%s\n", line.c_str());
  if (!range.given) return;
  std::printf("\nsteps %zu..%zu of %zu:\n", range.begin, std::min(range.end, session.steps().size()),
              session.steps().size());
  for (size_t k = range.begin; k < range.end && k < session.steps().size(); ++k) {
    print_step_detail(session, k, session.record(session.steps()[k]));
  }
}

void print_json(const trace::SessionReader& session, const StepRange& range) {
  nlohmann::json out = {{"path", session.path().string()}, {"verify", trace::report_to_json(session.report())}};
  out["header"] = trace::header_to_json(session);
  nlohmann::json records = nlohmann::json::array();
  size_t ordinal = 0;
  for (size_t i = 0; i < session.size(); ++i) {
    trace::RecordView r = session.record(i);
    if (r.step() && !range.contains(ordinal++)) continue;
    records.push_back(trace::record_to_json(session, r));
  }
  out["records"] = std::move(records);
  std::printf("%s\n", trace::dump_json(out).c_str());
}

int inspect_command(const InspectFlags& flags) {
  StepRange range = parse_steps(flags.steps);
  trace::SessionReader session(flags.path);
  if (!session.has_header()) {
    // Nothing to show: say why in verify's words.
    throw Error(flags.path + ": " + session.report().message,
                session.report().status == trace::SessionStatus::Unsupported ? ExitCode::InputError
                                                                             : ExitCode::Diverged);
  }
  if (flags.json) {
    print_json(session, range);
  } else {
    print_text(session, range);
  }
  return session.report().exit_code();
}

}  // namespace

void register_inspect(CLI::App& app, RunSlot& run) {
  auto flags = std::make_shared<InspectFlags>();
  CLI::App* cmd = app.add_subcommand("inspect", "Show what a session file holds (text with |token| boundaries)");
  cmd->add_option("session", flags->path, "session file")->required();
  cmd->add_option("--steps", flags->steps, "show per-step detail for session steps A..B-1 (A:B, A:, :B or A)");
  cmd->add_flag("--json", flags->json, "machine-readable output (with --steps: only those steps)");
  cmd->callback([flags, &run] { run = [flags] { return inspect_command(*flags); }; });
}

}  // namespace ree::cli
