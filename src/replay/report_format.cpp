#include "replay/report_format.h"

#include <cinttypes>
#include <cstdio>

namespace ree::replay {

std::string hex64(uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016" PRIx64, v);
  return buf;
}

namespace {

std::string printable(const std::string& piece) {
  std::string out;
  for (unsigned char c : piece) {
    if (c == '\n') out += "\\n";
    else if (c == '\t') out += "\\t";
    else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else out += char(c);
  }
  return out;
}

std::string top_line(const std::vector<TopEntry>& top, size_t k) {
  if (k >= top.size()) return "";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%7d %12.6g", top[k].id, double(top[k].logit));
  return buf;
}

bool about_a_step(DivergenceKind k) {
  return k == DivergenceKind::Token || k == DivergenceKind::LogitsHash || k == DivergenceKind::TopK ||
         k == DivergenceKind::Position || k == DivergenceKind::StepCount;
}

std::string counts_line(const ReplayReport& r) {
  const ReplayCounts& c = r.counts;
  std::string s = std::to_string(c.turns) + " turns, " + std::to_string(c.steps) + " tokens";
  if (r.strict) s += " (logits hash, top-k checked)";
  else s += " (" + std::to_string(c.logits_matched) + " with identical logits)";
  s += ", " + std::to_string(c.prompts) + " prompts, " + std::to_string(c.tool_calls) + " tool calls, " +
       std::to_string(c.checkpoints) + " checkpoints";
  return s;
}

std::string mode_line(const ReplayReport& r) {
  char secs[32];
  std::snprintf(secs, sizeof secs, "%.3f s", r.seconds);
  return std::string(method_name(r.method)) + (r.strict ? ", strict" : ", tokens") + ", " + secs;
}

// Appends the pieces in order (plain appends: GCC 12 warns falsely about
// `"literal" + std::string` temporaries here).
template <typename... Parts>
void put(std::string& out, const Parts&... parts) {
  (out.append(parts), ...);
}

void append_divergence(std::string& out, const Divergence& d) {
  put(out, "  ", d.message, "\n");
  if (d.expected_token >= 0 || d.observed_token >= 0) {
    put(out, "  expected: ", std::to_string(d.expected_token), " '", printable(d.expected_text), "'\n");
    put(out, "  observed: ", d.observed_token >= 0 ? std::to_string(d.observed_token) : std::string("-"), " '",
        printable(d.observed_text), "'\n");
  } else if (!d.expected_text.empty() || !d.observed_text.empty()) {
    put(out, "  recorded: ", printable(d.expected_text), "\n");
    put(out, "  replayed: ", printable(d.observed_text), "\n");
  }
  if (d.expected_hash != d.observed_hash)
    put(out, d.kind == DivergenceKind::Checkpoint ? "  KV-cache hash: recorded " : "  logits hash: recorded ",
        hex64(d.expected_hash), ", replayed ", hex64(d.observed_hash), "\n");
  if (d.earlier_drift)
    put(out, "  silent drift: the logits hash already differed at turn ", std::to_string(d.earlier_drift->turn),
        " step ", std::to_string(d.earlier_drift->step), " (position ", std::to_string(d.earlier_drift->position),
        "), where the tokens still matched\n");
  else if (d.kind == DivergenceKind::Token)
    put(out, "  no earlier drift: every earlier step had identical logits\n");
  if (!d.context.empty()) {
    put(out, "  context: ");
    for (const auto& p : d.context) put(out, "|", printable(p));
    put(out, "|\n");
  }
  if (!d.expected_top.empty() || !d.observed_top.empty()) {
    put(out, "  top-k   recorded: id        logit  |  replayed: id        logit\n");
    const size_t n = std::max(d.expected_top.size(), d.observed_top.size());
    for (size_t k = 0; k < n; ++k) {
      char buf[160];
      std::snprintf(buf, sizeof buf, "  %2zu  %-22s |  %-22s\n", k + 1, top_line(d.expected_top, k).c_str(),
                    top_line(d.observed_top, k).c_str());
      out += buf;
    }
  }
}

nlohmann::json top_json(const std::vector<TopEntry>& top) {
  nlohmann::json a = nlohmann::json::array();
  for (const auto& e : top) a.push_back({{"id", e.id}, {"logit", e.logit}});
  return a;
}

nlohmann::json step_ref_json(const StepRef& s) {
  return {{"turn", s.turn}, {"step", s.step}, {"position", s.position},
          {"expected_hash", hex64(s.expected_hash)}, {"observed_hash", hex64(s.observed_hash)}};
}

}  // namespace

std::string format_report(const ReplayReport& r) {
  std::string out;
  switch (r.status) {
    case ReplayStatus::Verified: out += "VERIFIED: " + counts_line(r) + " [" + mode_line(r) + "]\n"; break;
    case ReplayStatus::Truncated:
      out += "TRUNCATED (prefix verified): " + counts_line(r) + " [" + mode_line(r) + "]\n";
      break;
    case ReplayStatus::Diverged: {
      const Divergence& d = *r.divergence;
      out += "DIVERGED at turn " + std::to_string(d.turn);
      if (about_a_step(d.kind) && d.position >= 0)
        out += ", step " + std::to_string(d.step) + ", position " + std::to_string(d.position);
      else if (d.kind == DivergenceKind::Prompt)
        out += ", prompt token " + std::to_string(d.step);
      out += ": " + std::string(divergence_kind_name(d.kind)) + " [" + mode_line(r) + "]\n";
      append_divergence(out, d);
      out += "  checked up to it: " + counts_line(r) + "\n";
      break;
    }
  }
  if (r.locate) out += "locate (" + r.locate->against + "): " + r.locate->message + "\n";
  for (const auto& t : r.tool_reruns) {
    if (!t.ran) out += "tool " + t.name + " (call " + std::to_string(t.call_index) + "): not re-run, " + t.reason + "\n";
    else if (t.same) out += "tool " + t.name + " (call " + std::to_string(t.call_index) + "): same result\n";
    else
      out += "tool " + t.name + " (call " + std::to_string(t.call_index) + "): DIFFERENT result: recorded '" +
             printable(t.recorded) + "', now '" + printable(t.observed) + "'\n";
  }
  for (const auto& n : r.notes) out += "note: " + n + "\n";
  return out;
}

nlohmann::json report_json(const ReplayReport& r) {
  nlohmann::json j;
  j["status"] = replay_status_name(r.status);
  j["exit_code"] = r.exit_code();
  j["method"] = method_name(r.method);
  j["strict"] = r.strict;
  j["seconds"] = r.seconds;
  j["session_steps"] = r.session_steps;
  j["counts"] = {{"turns", r.counts.turns},         {"steps", r.counts.steps},
                 {"logits_matched", r.counts.logits_matched}, {"prompts", r.counts.prompts},
                 {"tool_calls", r.counts.tool_calls}, {"tool_results", r.counts.tool_results},
                 {"checkpoints", r.counts.checkpoints}};
  if (r.seconds > 0) j["steps_per_second"] = double(r.counts.steps) / r.seconds;
  if (r.divergence) {
    const Divergence& d = *r.divergence;
    nlohmann::json dj = {{"kind", divergence_kind_name(d.kind)},
                         {"turn", d.turn},
                         {"step", d.step},
                         {"position", d.position},
                         {"expected_token", d.expected_token},
                         {"observed_token", d.observed_token},
                         {"expected_text", d.expected_text},
                         {"observed_text", d.observed_text},
                         {"expected_hash", hex64(d.expected_hash)},
                         {"observed_hash", hex64(d.observed_hash)},
                         {"expected_top", top_json(d.expected_top)},
                         {"observed_top", top_json(d.observed_top)},
                         {"context", d.context},
                         {"message", d.message}};
    dj["earlier_drift"] = d.earlier_drift ? step_ref_json(*d.earlier_drift) : nlohmann::json(nullptr);
    j["divergence"] = dj;
  } else {
    j["divergence"] = nullptr;
  }
  j["first_drift"] = r.first_drift ? step_ref_json(*r.first_drift) : nlohmann::json(nullptr);
  if (r.locate) {
    const LocateResult& l = *r.locate;
    j["locate"] = {{"found", l.found}, {"turn", l.turn},   {"step", l.step},         {"position", l.position},
                   {"layer", l.layer}, {"point", l.found ? probe_point_name(l.point) : ""},
                   {"against", l.against}, {"message", l.message}};
  }
  nlohmann::json tools = nlohmann::json::array();
  for (const auto& t : r.tool_reruns)
    tools.push_back({{"call_index", t.call_index}, {"name", t.name}, {"ran", t.ran}, {"same", t.same},
                     {"recorded", t.recorded}, {"observed", t.observed}, {"reason", t.reason}});
  j["tool_reruns"] = tools;
  j["notes"] = r.notes;
  return j;
}

}  // namespace ree::replay
