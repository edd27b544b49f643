// The replay loop (replay.h): walks the session plan, re-renders prompts,
// re-executes every generated message and compares with the record.
#include "replay/replay.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>

#include "replay/locate.h"
#include "replay/session_plan.h"
#include "runtime/agent/chat_template.h"
#include "runtime/agent/recording.h"
#include "runtime/agent/tool_call.h"
#include "runtime/error.h"
#include "runtime/generate.h"
#include "runtime/sampler.h"

namespace ree::replay {

const char* method_name(Method m) { return m == Method::TeacherForced ? "teacher-forced" : "regenerated"; }

const char* replay_status_name(ReplayStatus s) {
  switch (s) {
    case ReplayStatus::Verified: return "verified";
    case ReplayStatus::Diverged: return "diverged";
    case ReplayStatus::Truncated: return "truncated";
  }
  return "?";
}

const char* divergence_kind_name(DivergenceKind k) {
  switch (k) {
    case DivergenceKind::Prompt: return "prompt";
    case DivergenceKind::Token: return "token";
    case DivergenceKind::StepCount: return "step_count";
    case DivergenceKind::LogitsHash: return "logits_hash";
    case DivergenceKind::TopK: return "top_k";
    case DivergenceKind::Position: return "position";
    case DivergenceKind::StopReason: return "stop_reason";
    case DivergenceKind::Text: return "text";
    case DivergenceKind::ToolCall: return "tool_call";
    case DivergenceKind::ToolResult: return "tool_result";
    case DivergenceKind::Checkpoint: return "checkpoint";
  }
  return "?";
}

int ReplayReport::exit_code() const {
  switch (status) {
    case ReplayStatus::Verified: return int(ExitCode::Ok);
    case ReplayStatus::Diverged: return int(ExitCode::Diverged);
    case ReplayStatus::Truncated: return int(ExitCode::Truncated);
  }
  return int(ExitCode::Diverged);
}

kernels::Mode session_mode(const schema::BoundHeader& header) {
  return agent::mode_from_record(header.config()->mode());
}

namespace {

using Clock = std::chrono::steady_clock;

std::string str(const flatbuffers::String* s) { return s ? s->str() : std::string(); }

template <typename T>
std::vector<T> vec(const flatbuffers::Vector<T>* v) {
  return v ? std::vector<T>(v->begin(), v->end()) : std::vector<T>{};
}

bool same_float_bits(float a, float b) { return std::memcmp(&a, &b, sizeof a) == 0; }

// What the replay saw at one step.
struct Observation {
  int64_t position = 0;
  int32_t token = -1;      // chosen token, -1 for NaN logits
  uint64_t hash = 0;
  std::vector<TopEntry> top;  // at least the recorded width
};

// The stop the agent's generate() would have reached after these tokens,
// or nullopt when only an interruption explains why it ended there.
std::optional<StopReason> derived_stop(const agent::ChatTemplate& t, const std::vector<int32_t>& tokens,
                                       int64_t max_tokens, bool context_full) {
  if (!tokens.empty() && agent::is_stop_token(t, tokens.back())) return StopReason::Eos;
  if (int64_t(tokens.size()) >= max_tokens) return StopReason::MaxTokens;
  if (context_full) return StopReason::ContextFull;
  return std::nullopt;
}

class Replayer {
 public:
  Replayer(const trace::SessionReader& session, const Model& model, Engine& engine, const ReplayOptions& options)
      : session_(session), model_(model), engine_(engine), options_(options), tools_(options.tools) {
    const schema::BoundHeader& h = session.header();
    const std::string template_name = str(h.model()->chat_template_id());
    const auto kind = agent::parse_template_id(template_name);
    if (!kind)
      throw file_error(session.path().string(), "unknown chat template '" + template_name + "' in the header");
    template_ = agent::make_template(*kind, model);
    const schema::BoundConfig& c = *h.config();
    sampling_.temperature = c.sampling()->temperature();
    sampling_.top_k = c.sampling()->top_k();
    sampling_.top_p = c.sampling()->top_p();
    sampling_.seed = c.seed();
    max_tokens_ = c.max_tokens();
    topk_width_ = c.topk_width();
    const bool teacher_forcing_allowed = engine.options().mode == kernels::Mode::Reproducible;
    report_.method = options.regenerate || !teacher_forcing_allowed ? Method::Regenerated : Method::TeacherForced;
    report_.strict = options.strict;
    if (!options.regenerate && !teacher_forcing_allowed)
      report_.notes.push_back(std::string("mode ") + kernels::mode_name(engine.options().mode) +
                              " promises no batch invariance: regenerating token by token");
  }

  ReplayReport run() {
    const auto t0 = Clock::now();
    const SessionPlan plan = plan_session(session_);
    report_.session_steps = plan.steps;
    engine_.reset();
    for (const PlannedEvent& e : plan.events) {
      bool ok = true;
      switch (e.kind) {
        case PlannedEvent::Kind::Turn: ok = replay_turn(plan.turns[e.turn]); break;
        case PlannedEvent::Kind::ToolCall: ok = check_tool_call(*e.tool_call); break;
        case PlannedEvent::Kind::ToolResult: ok = check_tool_result(*e.tool_result); break;
        case PlannedEvent::Kind::Checkpoint: ok = check_checkpoint(*e.checkpoint); break;
      }
      if (!ok || stop_) break;
    }
    finish_status(plan);
    if (options_.locate) run_locate();
    report_.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    return std::move(report_);
  }

 private:
  // --- turns -------------------------------------------------------------------

  bool replay_turn(const PlannedTurn& t) {
    last_turn_ = t.turn;
    const agent::ChatRole role = agent::role_from_record(t.start->role());
    const std::string content = str(t.start->content());
    const bool generates = role != agent::ChatRole::System;
    if (options_.strict && role == agent::ChatRole::Tool && last_result_ && content != *last_result_) {
      Divergence d = at_turn(DivergenceKind::ToolResult, t.turn);
      d.expected_text = *last_result_;
      d.observed_text = content;
      d.message = "turn " + std::to_string(t.turn) + " feeds a tool message that is not the recorded tool result";
      return diverge(std::move(d));
    }
    pending_call_.reset();
    const std::vector<int32_t> prompt = agent::render_turn(template_, model_.tokenizer, render_, role, content, generates);
    if (!check_prompt(t, prompt)) return false;
    ++report_.counts.turns;
    ++report_.counts.prompts;
    turn_start_position_ = engine_.position();
    if (!generates) return replay_silent_turn(t, prompt);
    // The agent's context size is not in the header: where its cache was
    // full, the record says so (ContextFull), and replay follows the record.
    const bool fits = engine_.position() + int64_t(prompt.size()) <= engine_.context();
    if (!fits || (recorded_context_full(t) && t.steps.empty())) return replay_unfed_turn(t);
    const bool ok = report_.method == Method::TeacherForced ? teacher_force(t, prompt) : regenerate(t, prompt);
    if (!ok) return false;
    return check_turn_end(t);
  }

  bool check_prompt(const PlannedTurn& t, const std::vector<int32_t>& rendered) {
    const std::vector<int32_t> recorded = vec(t.start->prompt_tokens());
    if (recorded == rendered) return true;
    size_t i = 0;
    while (i < recorded.size() && i < rendered.size() && recorded[i] == rendered[i]) ++i;
    Divergence d = at_turn(DivergenceKind::Prompt, t.turn);
    d.step = uint32_t(i);
    d.position = engine_.position() + int64_t(i);
    if (i < recorded.size()) d.expected_token = recorded[i];
    if (i < rendered.size()) d.observed_token = rendered[i];
    d.expected_text = d.expected_token >= 0 ? piece(d.expected_token) : "(end of prompt)";
    d.observed_text = d.observed_token >= 0 ? piece(d.observed_token) : "(end of prompt)";
    d.context = context_before(fed_.size());
    for (size_t k = i >= 4 ? i - 4 : 0; k < i; ++k) d.context.push_back(piece(recorded[k]));
    d.message = "turn " + std::to_string(t.turn) + ": the re-rendered prompt (template " +
                agent::template_id(template_.kind) + ") differs from the recorded prompt at token " + std::to_string(i) +
                " (" + std::to_string(recorded.size()) + " recorded, " + std::to_string(rendered.size()) + " rendered)";
    return diverge(std::move(d));
  }

  // A system message: fed, nothing generated.
  bool replay_silent_turn(const PlannedTurn& t, const std::vector<int32_t>& prompt) {
    if (engine_.position() + int64_t(prompt.size()) <= engine_.context() && !prompt.empty()) {
      feed(engine_, prompt, options_.prefill_chunk, ForwardRequest{});
      fed_.insert(fed_.end(), prompt.begin(), prompt.end());
    }
    if (!t.steps.empty()) {
      Divergence d = at_turn(DivergenceKind::StepCount, t.turn);
      d.message = "turn " + std::to_string(t.turn) + " is a system message but records " +
                  std::to_string(t.steps.size()) + " generated tokens";
      return diverge(std::move(d));
    }
    return true;
  }

  static bool recorded_context_full(const PlannedTurn& t) {
    return t.end && t.end->stop_reason() == schema::StopReason::ContextFull;
  }

  // The prompt did not fit the KV cache: the agent generated nothing, and
  // the conversation could not go on.
  bool replay_unfed_turn(const PlannedTurn& t) {
    if (!t.steps.empty()) {
      Divergence d = at_turn(DivergenceKind::StepCount, t.turn);
      d.message = "turn " + std::to_string(t.turn) + "'s prompt does not fit this replay's context of " +
                  std::to_string(engine_.context()) + " positions (pass --context)";
      return diverge(std::move(d));
    }
    report_.notes.push_back("turn " + std::to_string(t.turn) + ": the prompt did not fit the context");
    stop_ = true;
    return true;
  }

  ForwardRequest step_request() const {
    ForwardRequest r;
    const int sampling_k = sampling_.greedy() ? 0 : sampling_.top_k;
    r.top_k = std::max({int(topk_width_), sampling_k, 2});
    r.full_logits = !sampling_.greedy() && sampling_.top_k <= 0;
    return r;
  }

  // The token generate() would choose from row `row` of `fr` (-1: NaN logits).
  int32_t choose(const ForwardResult& fr, int64_t row, uint32_t turn, uint32_t index) const {
    if (fr.argmax[size_t(row)] < 0) return -1;
    if (sampling_.greedy()) return fr.argmax[size_t(row)];
    try {
      if (sampling_.top_k > 0) {
        const TopEntry* top = fr.top.data() + row * fr.top_k;
        return choose_token(sampling_, {top, size_t(std::min(fr.top_k, sampling_.top_k))}, turn, index);
      }
      const int64_t vocab = model_.config.vocab_size;
      return choose_token(sampling_, sorted_candidates(fr.logits.data() + row * vocab, vocab), turn, index);
    } catch (const Error&) {
      return -1;
    }
  }

  // One batched forward pass per chunk over the turn's prompt tail and the
  // recorded tokens: row i holds the logits that chose step i.
  bool teacher_force(const PlannedTurn& t, const std::vector<int32_t>& prompt) {
    const std::vector<int32_t> generated = recorded_tokens(t);
    const size_t n = generated.size();
    const size_t p = prompt.size();
    if (p == 0) throw file_error(session_.path().string(), "turn " + std::to_string(t.turn) + " has an empty prompt");
    if (p > 1) feed(engine_, std::span(prompt).first(p - 1), 0, ForwardRequest{});
    // What the engine is fed is the prompt and the recorded tokens, whatever the model would choose.
    fed_.insert(fed_.end(), prompt.begin(), prompt.end());
    fed_.insert(fed_.end(), generated.begin(), generated.end());
    if (n == 0) {
      // The file stops before the turn's first step: the prompt's last token is fed, nothing else to check.
      const int32_t last[1] = {prompt.back()};
      engine_.forward(last, ForwardRequest{});
      return true;
    }
    // Row i of the pass over [last prompt token, g0 .. g(n-2)] holds the
    // logits that chose g(i). The agent also fed g(n-1) when the cache had
    // room: it rides along as one more row (its logits are not needed),
    // which saves a forward call per turn.
    // A recorded token outside the vocabulary cannot be fed: verify up to the
    // step that claims it (the model cannot have chosen it) and stop there.
    const size_t first_bad = size_t(std::find_if(generated.begin(), generated.end(), [&](int32_t id) {
                                      return id < 0 || id >= model_.config.vocab_size;
                                    }) - generated.begin());
    const bool feed_last =
        first_bad == n && engine_.position() + int64_t(n) < engine_.context() && !recorded_context_full(t);
    std::vector<int32_t> inputs;
    inputs.reserve(n + 1);
    inputs.push_back(prompt.back());
    const size_t fed_steps = first_bad < n ? first_bad : (feed_last ? n : n - 1);
    inputs.insert(inputs.end(), generated.begin(), generated.begin() + int64_t(fed_steps));
    const ForwardRequest request = [&] {
      ForwardRequest r = step_request();
      r.all_positions = true;
      return r;
    }();
    // Whole logits rows are big (vocab floats each): fewer rows per pass then.
    const int64_t chunk = request.full_logits ? std::min<int64_t>(engine_.options().max_batch, 32)
                                              : engine_.options().max_batch;
    for (size_t begin = 0; begin < inputs.size(); begin += size_t(chunk)) {
      const size_t count = std::min(inputs.size() - begin, size_t(chunk));
      const ForwardResult fr = engine_.forward(std::span(inputs).subspan(begin, count), request);
      for (size_t row = 0; row < count && begin + row < n && begin + row <= first_bad; ++row) {
        const uint32_t index = uint32_t(begin + row);
        Observation o;
        o.position = fr.first_position + int64_t(row);
        o.token = choose(fr, int64_t(row), t.turn, index);
        o.hash = fr.logits_hash[row];
        o.top.assign(fr.top.begin() + int64_t(row) * fr.top_k, fr.top.begin() + int64_t(row + 1) * fr.top_k);
        if (!check_step(t, index, o)) return false;
        if (index + 1 < n && !check_goes_on(t, index, generated[index])) return false;
      }
      progress();
    }
    return true;
  }

  // Token by token, exactly like the agent (generate(), same options); the
  // callback stops generation at the first difference or where the record stops.
  bool regenerate(const PlannedTurn& t, const std::vector<int32_t>& prompt) {
    const std::vector<int32_t> recorded = recorded_tokens(t);
    const size_t n = recorded.size();
    const bool record_stops_early =
        !t.end || t.end->stop_reason() == schema::StopReason::Interrupted ||
        t.end->stop_reason() == schema::StopReason::ContextFull;
    GenerateOptions o;
    o.turn = t.turn;
    o.max_tokens = max_tokens_;
    o.prefill_chunk = options_.prefill_chunk;
    o.record_top_k = topk_width_;
    o.sampling = sampling_;
    o.stop_tokens = template_.stop_tokens;
    o.feed_last = !recorded_context_full(t);  // a full cache took no more
    fed_.insert(fed_.end(), prompt.begin(), prompt.end());
    if (n == 0 && !t.end) {
      // The file stops before the turn's first step: only the prompt was fed.
      feed(engine_, prompt, options_.prefill_chunk, ForwardRequest{});
      return true;
    }
    std::atomic<bool> halt{false};
    o.interrupt = &halt;
    bool ok = true;
    uint32_t seen = 0;
    GenerateResult r;
    try {
      r = generate(engine_, prompt, o, [&](const Step& s) {
        seen = s.index + 1;
        if (!ok) return;
        if (s.index >= n) {
          ok = diverge_step_count(t, s.index, s.position, "the model goes on after the recorded message ends");
        } else {
          Observation obs{s.position, s.token, s.logits_hash, s.top};
          ok = check_step(t, s.index, obs);
          if (s.index + 1 == n && record_stops_early) halt.store(true);
        }
        if (!ok) halt.store(true);
        if ((s.index & 63) == 63) progress();
      });
    } catch (const Error& e) {
      // NaN logits: generate() refuses to choose; the recorded token cannot be reproduced.
      Divergence d = at_turn(DivergenceKind::Token, t.turn);
      d.step = seen;
      d.message = std::string("turn ") + std::to_string(t.turn) + ": " + e.what();
      return diverge(std::move(d));
    }
    fed_.insert(fed_.end(), r.tokens.begin(), r.tokens.end());
    if (!ok) return false;
    if (r.tokens.size() < n)
      return diverge_step_count(t, uint32_t(r.tokens.size()), turn_start_position_ + int64_t(prompt.size() + r.tokens.size()) - 1,
                                std::string("the model stops (") + stop_reason_name(r.stop) + ") where the record goes on");
    progress();
    return true;
  }

  // Step `index` (not the turn's last) was recorded with more after it: the
  // agent would have stopped on a stop token or at max_tokens.
  bool check_goes_on(const PlannedTurn& t, uint32_t index, int32_t token) {
    if (agent::is_stop_token(template_, token))
      return diverge_step_count(t, index + 1, t.steps[index]->position() + 1,
                                "the record goes on after a stop token");
    if (int64_t(index) + 1 >= max_tokens_)
      return diverge_step_count(t, index + 1, t.steps[index]->position() + 1,
                                "the record goes on past max_tokens " + std::to_string(max_tokens_));
    return true;
  }

  bool check_step(const PlannedTurn& t, uint32_t index, const Observation& o) {
    const schema::Step& rec = *t.steps[index];
    ++report_.counts.steps;
    const bool hash_ok = rec.logits_hash() == o.hash;
    if (hash_ok) ++report_.counts.logits_matched;
    else if (!report_.first_drift) report_.first_drift = StepRef{t.turn, index, o.position, rec.logits_hash(), o.hash};
    // NaN logits choose no token at all, whatever the record says.
    if (o.token < 0 || o.token != rec.token()) return diverge(step_divergence(DivergenceKind::Token, t, index, o));
    if (!options_.strict) return true;
    if (rec.position() != o.position) {
      Divergence d = step_divergence(DivergenceKind::Position, t, index, o);
      d.message = "turn " + std::to_string(t.turn) + " step " + std::to_string(index) + " was recorded at position " +
                  std::to_string(rec.position()) + ", replayed at " + std::to_string(o.position);
      return diverge(std::move(d));
    }
    if (!hash_ok) return diverge(step_divergence(DivergenceKind::LogitsHash, t, index, o));
    const auto* ids = rec.topk_ids();
    const auto* logits = rec.topk_logits();
    const size_t width = ids ? ids->size() : 0;
    for (size_t k = 0; k < width; ++k) {
      if (k >= o.top.size() || ids->Get(flatbuffers::uoffset_t(k)) != o.top[k].id ||
          !same_float_bits(logits->Get(flatbuffers::uoffset_t(k)), o.top[k].logit))
        return diverge(step_divergence(DivergenceKind::TopK, t, index, o));
    }
    return true;
  }

  bool check_turn_end(const PlannedTurn& t) {
    if (!t.end) return true;  // cut off by truncation: nothing recorded to compare
    const std::vector<int32_t> tokens = recorded_tokens(t);
    const bool ended_with_stop = !tokens.empty() && agent::is_stop_token(template_, tokens.back());
    agent::note_generated(template_, render_, ended_with_stop);
    std::vector<int32_t> content = tokens;
    if (ended_with_stop) content.pop_back();
    const std::string text = model_.tokenizer.decode(content);
    const auto derived = derived_stop(template_, tokens, max_tokens_, engine_.position() >= engine_.context());
    const schema::StopReason recorded = t.end->stop_reason();
    if (!derived && recorded != schema::StopReason::Interrupted && recorded != schema::StopReason::ContextFull &&
        recorded != schema::StopReason::Error) {
      const int64_t pos = t.steps.empty() ? engine_.position() : t.steps.back()->position() + 1;
      return diverge_step_count(t, uint32_t(tokens.size()), pos,
                                "the record ends the message (" + std::string(trace::stop_reason_name(recorded)) +
                                    ") where the model goes on");
    }
    std::optional<agent::ParsedToolCall> call;
    StopReason expected = derived.value_or(StopReason::Interrupted);
    if (derived == StopReason::Eos || derived == StopReason::MaxTokens) {
      call = agent::parse_tool_call(text);
      if (call) expected = StopReason::ToolCall;
    }
    pending_call_ = call;
    if (!options_.strict) return true;
    const bool recorded_cut = recorded == schema::StopReason::Interrupted || recorded == schema::StopReason::ContextFull;
    if (agent::stop_reason_record(expected) != recorded && !(recorded_cut && (!derived || *derived == StopReason::ContextFull))) {
      Divergence d = at_turn(DivergenceKind::StopReason, t.turn);
      d.step = uint32_t(tokens.size());
      d.expected_text = std::string(trace::stop_reason_name(recorded));
      d.observed_text = stop_reason_name(expected);
      d.message = "turn " + std::to_string(t.turn) + " was recorded as stopping by " + d.expected_text +
                  ", the replay stops by " + d.observed_text;
      return diverge(std::move(d));
    }
    if (str(t.end->text()) != text) {
      Divergence d = at_turn(DivergenceKind::Text, t.turn);
      d.expected_text = str(t.end->text());
      d.observed_text = text;
      d.message = "turn " + std::to_string(t.turn) + "'s recorded text is not the text of its tokens";
      return diverge(std::move(d));
    }
    return true;
  }

  // --- tools and checkpoints ---------------------------------------------------------

  bool check_tool_call(const schema::ToolCall& c) {
    ++report_.counts.tool_calls;
    calls_.push_back(&c);
    if (!options_.strict) return true;
    const std::string recorded = str(c.name()) + " " + str(c.arguments()) + (c.well_formed() ? "" : " (malformed)");
    std::string observed = "(no tool call)";
    bool same = false;
    if (pending_call_) {
      const agent::ParsedToolCall& p = *pending_call_;
      observed = p.name + " " + p.arguments + (p.well_formed ? "" : " (malformed)");
      same = p.name == str(c.name()) && p.arguments == str(c.arguments()) && p.well_formed == c.well_formed() &&
             p.raw_text == str(c.raw_text()) && p.parse_error == str(c.parse_error());
    }
    pending_call_.reset();
    if (same) return true;
    Divergence d;
    d.kind = DivergenceKind::ToolCall;
    d.turn = last_turn_;
    d.expected_text = recorded;
    d.observed_text = observed;
    d.message = "tool call " + std::to_string(c.index()) + " was recorded as " + recorded + ", the replayed message makes " +
                observed;
    return diverge(std::move(d));
  }

  bool check_tool_result(const schema::ToolResult& r) {
    ++report_.counts.tool_results;
    last_result_ = str(r.output());
    if (options_.rerun_tools) rerun_tool(r);
    return true;
  }

  void rerun_tool(const schema::ToolResult& r) {
    ToolRerun rerun;
    rerun.call_index = r.call_index();
    rerun.name = str(r.name());
    rerun.recorded = str(r.output());
    const schema::ToolCall* call = r.call_index() < calls_.size() ? calls_[r.call_index()] : nullptr;
    if (!call || !call->well_formed()) {
      rerun.reason = "the call was malformed";
    } else if (!tools_.deterministic(rerun.name)) {
      rerun.reason = "'" + rerun.name + "' is not deterministic";
    } else if (!tools_.has(rerun.name)) {
      rerun.reason = "'" + rerun.name + "' is not available here (pass --tool " + rerun.name + "=COMMAND)";
    } else if (rerun.recorded.rfind("error: too many tool calls", 0) == 0) {
      rerun.reason = "the agent did not run it (tool-call limit)";
    } else {
      const agent::ToolOutcome out = tools_.run(rerun.name, str(call->arguments()));
      rerun.ran = true;
      rerun.observed = out.output;
      rerun.same = out.output == rerun.recorded;
    }
    if (rerun.ran && !rerun.same) {
      Divergence d;
      d.kind = DivergenceKind::ToolResult;
      d.turn = last_turn_;
      d.expected_text = rerun.recorded;
      d.observed_text = rerun.observed;
      d.message = "tool '" + rerun.name + "' (call " + std::to_string(rerun.call_index) +
                  ") answers differently when run again";
      // Tool results are fed from the record, so the model check goes on.
      note_divergence(std::move(d));
    }
    report_.tool_reruns.push_back(std::move(rerun));
  }

  bool check_checkpoint(const schema::Checkpoint& c) {
    ++report_.counts.checkpoints;
    if (!options_.strict) return true;
    const uint64_t kv = engine_.kv_state_hash();
    if (kv == c.kv_hash() && engine_.position() == c.position()) return true;
    Divergence d;
    d.kind = DivergenceKind::Checkpoint;
    d.turn = last_turn_;
    d.position = c.position();
    d.expected_hash = c.kv_hash();
    d.observed_hash = kv;
    d.message = "checkpoint '" + str(c.label()) + "' differs: KV state at position " + std::to_string(engine_.position()) +
                " (recorded " + std::to_string(c.position()) + ")" + (kv == c.kv_hash() ? "" : ", other KV-cache hash");
    return diverge(std::move(d));
  }

  // --- reporting ---------------------------------------------------------------------

  std::vector<int32_t> recorded_tokens(const PlannedTurn& t) const {
    std::vector<int32_t> out;
    out.reserve(t.steps.size());
    for (const auto* s : t.steps) out.push_back(s->token());
    return out;
  }

  std::string piece(int32_t id) const {
    if (id < 0 || id >= model_.tokenizer.vocab_size()) return "<" + std::to_string(id) + ">";
    return model_.tokenizer.piece_text(id);
  }

  // Pieces of up to 8 fed tokens before absolute position `position`.
  std::vector<std::string> context_before(size_t position) const {
    std::vector<std::string> out;
    const size_t begin = position >= 8 ? position - 8 : 0;
    for (size_t i = begin; i < position && i < fed_.size(); ++i) out.push_back(piece(fed_[i]));
    return out;
  }

  Divergence at_turn(DivergenceKind kind, uint32_t turn) {
    last_turn_ = turn;
    Divergence d;
    d.kind = kind;
    d.turn = turn;
    return d;
  }

  Divergence step_divergence(DivergenceKind kind, const PlannedTurn& t, uint32_t index, const Observation& o) const {
    const schema::Step& rec = *t.steps[index];
    Divergence d;
    d.kind = kind;
    d.turn = t.turn;
    d.step = index;
    d.position = o.position;
    d.expected_token = rec.token();
    d.observed_token = o.token;
    d.expected_text = piece(rec.token());
    d.observed_text = o.token >= 0 ? piece(o.token) : "(NaN logits)";
    d.expected_hash = rec.logits_hash();
    d.observed_hash = o.hash;
    const auto* ids = rec.topk_ids();
    const auto* logits = rec.topk_logits();
    for (size_t k = 0; ids && k < ids->size(); ++k)
      d.expected_top.push_back({ids->Get(flatbuffers::uoffset_t(k)), logits->Get(flatbuffers::uoffset_t(k))});
    d.observed_top.assign(o.top.begin(), o.top.begin() + int64_t(std::min(o.top.size(), d.expected_top.size())));
    if (report_.first_drift && (report_.first_drift->turn != t.turn || report_.first_drift->step != index))
      d.earlier_drift = report_.first_drift;
    // Context: the fed history up to this turn, then the turn's recorded tokens before the step.
    const size_t turn_fed = size_t(turn_start_position_) + vec(t.start->prompt_tokens()).size();
    std::vector<std::string> ctx;
    for (size_t i = turn_fed >= 6 ? turn_fed - 6 : 0; i < turn_fed && i < fed_.size(); ++i) ctx.push_back(piece(fed_[i]));
    for (uint32_t k = index >= 6 ? index - 6 : 0; k < index; ++k) ctx.push_back(piece(t.steps[k]->token()));
    if (ctx.size() > 8) ctx.erase(ctx.begin(), ctx.end() - 8);
    d.context = std::move(ctx);
    const std::string where = "turn " + std::to_string(t.turn) + " step " + std::to_string(index) + " (position " +
                              std::to_string(o.position) + ")";
    switch (kind) {
      case DivergenceKind::Token:
        d.message = where + ": recorded token " + std::to_string(rec.token()) + " '" + d.expected_text + "', replay chose " +
                    (o.token >= 0 ? std::to_string(o.token) + " '" + d.observed_text + "'" : d.observed_text);
        break;
      case DivergenceKind::LogitsHash: d.message = where + ": same token, different logits (hash)"; break;
      case DivergenceKind::TopK: d.message = where + ": same token and logits hash, different top-k"; break;
      default: d.message = where; break;
    }
    return d;
  }

  bool diverge_step_count(const PlannedTurn& t, uint32_t index, int64_t position, const std::string& why) {
    Divergence d = at_turn(DivergenceKind::StepCount, t.turn);
    d.step = index;
    d.position = position;
    d.message = "turn " + std::to_string(t.turn) + " step " + std::to_string(index) + ": " + why;
    return diverge(std::move(d));
  }

  // Records the first divergence; replay stops there.
  bool diverge(Divergence d) {
    note_divergence(std::move(d));
    stop_ = true;
    return false;
  }

  void note_divergence(Divergence d) {
    if (!report_.divergence) report_.divergence = std::move(d);
  }

  void progress() {
    if (options_.on_progress) options_.on_progress(report_.counts.steps, report_.session_steps);
  }

  void finish_status(const SessionPlan& plan) {
    if (report_.divergence) {
      report_.status = ReplayStatus::Diverged;
      return;
    }
    report_.status = plan.complete ? ReplayStatus::Verified : ReplayStatus::Truncated;
    if (!plan.complete)
      report_.notes.push_back("the session file is truncated: its complete prefix (" + std::to_string(plan.steps) +
                              " steps) was verified");
    for (const PlannedTurn& t : plan.turns)
      if (t.end && t.end->stop_reason() == schema::StopReason::Interrupted)
        report_.notes.push_back("the recording was interrupted in turn " + std::to_string(t.turn));
    if (report_.first_drift && !options_.strict)
      report_.notes.push_back("tokens match, but the logits hash differs from turn " +
                              std::to_string(report_.first_drift->turn) + " step " +
                              std::to_string(report_.first_drift->step) + " on (silent drift; --strict fails on it)");
  }

  void run_locate() {
    // The first step whose logits differ: the divergence itself, or an earlier silent drift.
    std::optional<StepRef> target = report_.first_drift;
    if (!target && report_.divergence && report_.divergence->position >= 0 &&
        report_.divergence->expected_hash != report_.divergence->observed_hash)
      target = StepRef{report_.divergence->turn, report_.divergence->step, report_.divergence->position,
                       report_.divergence->expected_hash, report_.divergence->observed_hash};
    LocateRequest req;
    req.tokens = &fed_;
    req.target = target;
    req.against = options_.against;
    report_.locate = locate_divergence(session_, model_, engine_, req);
  }

  const trace::SessionReader& session_;
  const Model& model_;
  Engine& engine_;
  const ReplayOptions& options_;
  agent::ToolBox tools_;
  agent::ChatTemplate template_;
  agent::RenderState render_;
  SamplingParams sampling_;
  int64_t max_tokens_ = 0;
  uint16_t topk_width_ = 0;
  ReplayReport report_;
  std::vector<int32_t> fed_;              // every token fed to the engine, in order
  int64_t turn_start_position_ = 0;
  uint32_t last_turn_ = 0;
  std::optional<agent::ParsedToolCall> pending_call_;
  std::optional<std::string> last_result_;
  std::vector<const schema::ToolCall*> calls_;
  bool stop_ = false;
};

}  // namespace

ReplayReport replay_session(const trace::SessionReader& session, const Model& model, Engine& engine,
                            const ReplayOptions& options) {
  const auto& status = session.report().status;
  if (status == trace::SessionStatus::Invalid || status == trace::SessionStatus::Unsupported || !session.has_header())
    throw file_error(session.path().string(), "cannot replay: " + session.report().message);
  Replayer r(session, model, engine, options);
  return r.run();
}

}  // namespace ree::replay
