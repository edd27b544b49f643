#include "runtime/agent/agent.h"

#include <nlohmann/json.hpp>

#include "runtime/error.h"

namespace ree::agent {

namespace {
using Clock = std::chrono::steady_clock;

// Adds the time from construction to destruction to `total`.
class Stopwatch {
 public:
  explicit Stopwatch(std::chrono::nanoseconds& total) : total_(total), start_(Clock::now()) {}
  ~Stopwatch() { total_ += Clock::now() - start_; }
  Stopwatch(const Stopwatch&) = delete;
  Stopwatch& operator=(const Stopwatch&) = delete;

 private:
  std::chrono::nanoseconds& total_;
  Clock::time_point start_;
};
}  // namespace

Agent::Agent(const Model& model, Engine& engine, const ToolBox& tools, AgentOptions options,
             trace::SessionWriter* writer)
    : model_(model),
      engine_(engine),
      tools_(tools),
      options_(std::move(options)),
      writer_(writer),
      template_(make_template(options_.settings.chat_template, model)) {
  if (engine_.position() != 0) throw Error("the agent needs an empty KV cache", ExitCode(4));
}

void Agent::system(const std::string& text) {
  if (next_turn_ != 0) throw Error("a system message must come first");
  Exchange unused;
  run_turn(ChatRole::System, text, false, {}, unused);
}

Agent::Generated Agent::run_turn(ChatRole role, const std::string& content, bool generate_reply,
                                 const AgentObserver& observer, Exchange& exchange) {
  const SessionSettings& s = options_.settings;
  const std::vector<int32_t> prompt = render_turn(template_, model_.tokenizer, render_, role, content, generate_reply);
  const uint32_t turn = next_turn_++;
  if (writer_) {
    Stopwatch timing(exchange.recording_time);
    schema::TurnStartT start;
    start.role = role_record(role);
    start.content = content;
    start.prompt_tokens = prompt;
    writer_->begin_turn(start);
  }
  TranscriptEntry entry{TranscriptEntry::Kind::Message, turn, role, content, "", prompt.size()};
  transcript_.push_back(entry);

  Generated g;
  if (!generate_reply) {
    if (engine_.position() + int64_t(prompt.size()) > engine_.context()) {
      g.stop = StopReason::ContextFull;
      stopped_ = true;
    } else if (!prompt.empty()) {
      feed(engine_, prompt, s.prefill_chunk, ForwardRequest{});
    }
  } else {
    GenerateOptions o;
    o.turn = turn;
    o.max_tokens = s.max_tokens;
    o.prefill_chunk = s.prefill_chunk;
    o.record_top_k = topk_width(model_, s.record_top_k);
    o.probes = s.probes;
    o.sampling = s.sampling;
    o.stop_tokens = template_.stop_tokens;
    o.feed_last = true;
    o.interrupt = options_.interrupt;
    const auto t0 = Clock::now();
    const GenerateResult r = generate(engine_, prompt, o, [&](const Step& step) {
      const std::string piece = model_.tokenizer.piece_text(step.token);
      if (writer_) {
        const auto t = Clock::now();
        writer_->step(step_record(step, piece));
        const auto spent = Clock::now() - t;
        exchange.recording_time += spent;
        exchange.step_recording_time += spent;
      }
      if (observer.on_step) observer.on_step(step, piece);
    });
    exchange.generation_time += Clock::now() - t0;
    const bool ended_with_stop = !r.tokens.empty() && is_stop_token(template_, r.tokens.back());
    note_generated(template_, render_, ended_with_stop);
    std::vector<int32_t> content_tokens = r.tokens;
    if (ended_with_stop) content_tokens.pop_back();
    g.text = model_.tokenizer.decode(content_tokens);
    g.steps = int64_t(r.tokens.size());
    g.stop = r.stop;
    const bool complete = r.stop == StopReason::Eos || r.stop == StopReason::MaxTokens;
    if (complete && parse_tool_call(g.text)) g.stop = StopReason::ToolCall;
    if (r.stop == StopReason::Interrupted || r.stop == StopReason::ContextFull) stopped_ = true;
    transcript_.push_back({TranscriptEntry::Kind::Message, turn, ChatRole::Assistant, g.text, "", 0,
                           size_t(g.steps), g.stop, true});
    if (observer.on_message_end) observer.on_message_end();
  }
  if (writer_) {
    Stopwatch timing(exchange.recording_time);
    schema::TurnEndT end;
    end.stop_reason = stop_reason_record(g.stop);
    end.text = g.text;
    writer_->end_turn(end);
  }
  turn_checkpoint(turn, exchange);
  return g;
}

void Agent::turn_checkpoint(uint32_t turn, Exchange& exchange) {
  if (!writer_) return;
  Stopwatch timing(exchange.recording_time);
  schema::CheckpointT c;
  c.label = kTurnEndCheckpoint;
  c.data = nlohmann::json{{"turn", turn}}.dump();
  c.kv_hash = engine_.kv_state_hash();
  c.position = engine_.position();
  writer_->checkpoint(c);
}

ToolOutcome Agent::call_tool(const ParsedToolCall& call, bool over_limit, const AgentObserver& observer) {
  if (observer.on_tool_call) observer.on_tool_call(call);
  uint32_t index = 0;
  if (writer_) {
    schema::ToolCallT record;
    record.name = call.name;
    record.arguments = call.arguments;
    record.raw_text = call.raw_text;
    record.well_formed = call.well_formed;
    record.parse_error = call.parse_error;
    index = writer_->tool_call(record);
  }
  transcript_.push_back({TranscriptEntry::Kind::ToolCall, 0, ChatRole::Assistant, call.raw_text, call.name, 0, 0,
                         StopReason::ToolCall, call.well_formed});
  ToolOutcome outcome;
  if (!call.well_formed) {
    outcome = {"error: malformed tool call: " + call.parse_error, ToolStatus::Error, 0, {}};
  } else if (over_limit) {
    outcome = {"error: too many tool calls for one message (limit " + std::to_string(options_.max_tool_rounds) + ")",
               ToolStatus::Error, 0, {}};
  } else {
    outcome = tools_.run(call.name, call.arguments);
  }
  if (writer_) {
    schema::ToolResultT record;
    record.call_index = index;
    record.name = call.name;
    record.output = outcome.output;
    record.status = tool_status_record(outcome.status);
    record.exit_code = outcome.exit_code;
    writer_->tool_result(record, outcome.duration);
  }
  transcript_.push_back({TranscriptEntry::Kind::ToolResult, 0, ChatRole::Tool, outcome.output, call.name, 0, 0,
                         StopReason::Eos, outcome.status == ToolStatus::Ok});
  if (observer.on_tool_result) observer.on_tool_result(call.name, outcome);
  return outcome;
}

Exchange Agent::ask(const std::string& text, const AgentObserver& observer) {
  if (stopped_) throw Error("the conversation has ended (interrupted or out of context)");
  Exchange exchange;
  ChatRole role = ChatRole::User;
  std::string content = text;
  for (int round = 0;; ++round) {
    const Generated g = run_turn(role, content, true, observer, exchange);
    exchange.answer = g.text;
    exchange.stop = g.stop;
    exchange.steps += g.steps;
    if (g.stop != StopReason::ToolCall) return exchange;
    const auto call = parse_tool_call(g.text);
    ++exchange.tool_calls;
    const bool over_limit = round >= options_.max_tool_rounds;
    const ToolOutcome outcome = call_tool(*call, over_limit, observer);
    // Past the limit, or interrupted while the tool ran: the result is
    // recorded but not fed, and the exchange ends here.
    if (over_limit) return exchange;
    if (options_.interrupt && options_.interrupt->load()) {
      stopped_ = true;
      exchange.stop = StopReason::Interrupted;
      return exchange;
    }
    role = ChatRole::Tool;
    content = outcome.output;
  }
}

void Agent::checkpoint(const std::string& label, const std::string& data_json) {
  std::string data = data_json.empty() ? "{}" : data_json;
  try {
    data = nlohmann::json::parse(data).dump();
  } catch (const nlohmann::json::exception&) {
    throw Error("checkpoint data is not JSON: " + data_json);
  }
  transcript_.push_back({TranscriptEntry::Kind::Checkpoint, 0, ChatRole::User, label, data});
  if (!writer_) return;
  schema::CheckpointT c;
  c.label = label;
  c.data = data;
  c.kv_hash = engine_.kv_state_hash();
  c.position = engine_.position();
  writer_->checkpoint(c);
}

std::optional<trace::FinishedSession> Agent::finish() {
  if (!writer_) return std::nullopt;
  return writer_->finish();
}

}  // namespace ree::agent
