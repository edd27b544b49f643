#include "loaded_session.h"

#include <algorithm>
#include <exception>

#include "diff/topk.h"
#include "layout.h"
#include "runtime/error.h"

namespace ree::viewer {

const schema::Step* LoadedSession::step(uint64_t step) const {
  return reader->record(reader->steps()[step]).step();
}

StepLocation LoadedSession::locate(uint64_t step) const {
  const auto& turns = reader->turns();
  // The last turn whose first step is <= step.
  auto it = std::upper_bound(turns.begin(), turns.end(), step,
                             [](uint64_t s, const trace::TurnSpan& t) { return s < t.first_step; });
  if (it == turns.begin()) return {};
  --it;
  return {it->turn, static_cast<uint32_t>(step - it->first_step)};
}

std::optional<uint64_t> LoadedSession::global_step(uint32_t turn, uint32_t index) const {
  if (!usable() || turn >= reader->turns().size()) return std::nullopt;
  const trace::TurnSpan& span = reader->turns()[turn];
  if (index >= span.step_count) return std::nullopt;
  return span.first_step + index;
}

std::string LoadedSession::step_text(uint64_t index) const {
  const schema::Step* s = step(index);
  if (!s) return "<?>";
  std::string text = reader->step_text(*s);
  return text.empty() ? display_text(text, s->token()) : text;
}

std::optional<std::string> LoadedSession::piece_of(int32_t id) const {
  if (id < 0 || static_cast<size_t>(id) >= first_step_of_id.size() || first_step_of_id[id] == 0) return std::nullopt;
  const schema::Step* s = step(first_step_of_id[id] - 1);
  if (!s) return std::nullopt;
  return reader->step_text(*s);
}

namespace {

void compute_step_figures(LoadedSession& session) {
  const uint64_t n = session.step_count();
  session.margin.assign(n, 0.0f);
  session.entropy.assign(n, 0.0f);
  for (uint64_t i = 0; i < n; ++i) {
    const schema::Step* s = session.step(i);
    if (!s) continue;
    session.margin[i] = s->margin();
    if (const auto* logits = s->topk_logits())
      session.entropy[i] = diff::entropy(std::span<const float>(logits->data(), logits->size()));
    const int32_t id = s->token();
    if (id < 0 || id >= kMaxIndexedId || i >= UINT32_MAX) continue;
    if (static_cast<size_t>(id) >= session.first_step_of_id.size()) session.first_step_of_id.resize(static_cast<size_t>(id) + 1, 0);
    if (session.first_step_of_id[id] == 0) session.first_step_of_id[id] = static_cast<uint32_t>(i + 1);
  }
}

std::string status_problem(const trace::SessionReader& reader) {
  const trace::VerifyReport& report = reader.report();
  switch (report.status) {
    case trace::SessionStatus::Valid: return "";
    case trace::SessionStatus::Truncated:
      return "truncated: " + report.message + " (showing the " + std::to_string(reader.size()) + " intact records)";
    case trace::SessionStatus::Invalid:
      if (!reader.has_header()) return "INVALID: " + report.message;
      return "INVALID: " + report.message + " (showing the " + std::to_string(reader.size()) +
             " records before the first bad one)";
    case trace::SessionStatus::Unsupported: return "unsupported: " + report.message;
  }
  return report.message;
}

}  // namespace

LoadedSession load_session(const std::filesystem::path& path) {
  LoadedSession session;
  session.path = path;
  try {
    session.reader.emplace(path);
  } catch (const std::exception& e) {
    session.problem = std::string("cannot open: ") + e.what();
    return session;
  }
  session.problem = status_problem(*session.reader);
  if (!session.reader->has_header()) {
    if (session.problem.empty()) session.problem = "no readable header";
    return session;
  }
  compute_step_figures(session);
  return session;
}

}  // namespace ree::viewer
