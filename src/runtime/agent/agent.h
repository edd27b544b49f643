#pragma once
// The agent loop (docs/agent.md): a conversation with one model in one KV
// cache, recorded record by record as it happens.
//
//   Agent agent(model, engine, tools, options, &writer);   // writer may be null
//   agent.system("You are ...");                           // optional, first
//   Exchange e = agent.ask("What is 12*7?", observer);     // user turn + tool rounds
//   agent.checkpoint("label", "{\"k\": 1}");
//   agent.finish();                                        // End record + seal
//
// The protocol (what is fed when) is the contract between the agent and
// replay; docs/agent.md, "Protocol", states it and src/replay follows it:
//  - every message is one turn: TurnStart{role, content, prompt_tokens},
//    where prompt_tokens = render_turn(...) are fed in prefill chunks;
//  - system messages generate nothing (TurnEnd eos, 0 steps); user and tool
//    messages are followed by the assistant's generated message;
//  - the generated tokens are fed one by one, the last one too (so the
//    cache holds the whole history); closing tokens of an assistant message
//    that stopped without a stop token open the next turn's prompt_tokens;
//  - the sampler's counter is (turn, step) with the session's turn index;
//  - every turn ends with a checkpoint "turn-end" (KV-cache state hash).
#include <atomic>
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "runtime/agent/chat_template.h"
#include "runtime/agent/recording.h"
#include "runtime/agent/tool_call.h"
#include "runtime/agent/tools.h"
#include "runtime/engine.h"
#include "runtime/generate.h"
#include "runtime/model.h"
#include "trace/writer.h"

namespace ree::agent {

// Tool-call rounds one user message may trigger before the agent stops
// running tools: a model that keeps calling tools would otherwise never answer.
constexpr int kDefaultMaxToolRounds = 8;

struct AgentOptions {
  SessionSettings settings;
  int max_tool_rounds = kDefaultMaxToolRounds;
  const std::atomic<bool>* interrupt = nullptr;  // set by a signal handler
};

// Callbacks for whoever shows the conversation (the CLI); all optional.
struct AgentObserver {
  std::function<void(const Step&, const std::string& piece)> on_step;
  std::function<void(const ParsedToolCall&)> on_tool_call;
  std::function<void(const std::string& tool, const ToolOutcome&)> on_tool_result;
  std::function<void()> on_message_end;  // after each generated message
};

// One entry of the conversation so far (`/show`, `--json`).
struct TranscriptEntry {
  enum class Kind : uint8_t { Message, ToolCall, ToolResult, Checkpoint };
  Kind kind = Kind::Message;
  uint32_t turn = 0;            // Message: its turn index
  ChatRole role = ChatRole::User;
  std::string text;             // message content, call raw text, tool output, checkpoint label
  std::string detail;           // tool name / checkpoint data
  size_t prompt_tokens = 0;     // Message: tokens fed before generating
  size_t steps = 0;             // Message (assistant): generated tokens
  StopReason stop = StopReason::Eos;
  bool ok = true;               // ToolCall: well formed; ToolResult: status ok
};

// What one ask() did.
struct Exchange {
  std::string answer;           // text of the last assistant message
  StopReason stop = StopReason::Eos;  // of the last generated message
  int tool_calls = 0;
  int64_t steps = 0;            // tokens generated in all its messages
  std::chrono::nanoseconds generation_time{0};  // in generate() (prefill + decode)
  // Spent recording: all of it (building records, the writer and its
  // turn-end fdatasync, the turn-end KV hash), and the per-step part, which
  // runs inside generate() and so is also in generation_time.
  std::chrono::nanoseconds recording_time{0};
  std::chrono::nanoseconds step_recording_time{0};
};

class Agent {
 public:
  // `writer` may be null: the conversation then is not recorded. The engine
  // must be fresh (position 0); the model, engine, tools and writer must
  // outlive the agent.
  Agent(const Model& model, Engine& engine, const ToolBox& tools, AgentOptions options,
        trace::SessionWriter* writer);

  // A system message; only before the first ask().
  void system(const std::string& text);
  // A user message, the assistant's answer and any tool-call rounds.
  Exchange ask(const std::string& text, const AgentObserver& observer = {});
  // A named checkpoint; `data_json` must be JSON text (empty: {}). Throws ree::Error otherwise.
  void checkpoint(const std::string& label, const std::string& data_json);
  // Writes the End record and seals the file (no-op without a writer).
  std::optional<trace::FinishedSession> finish();

  const std::vector<TranscriptEntry>& transcript() const { return transcript_; }
  const ChatTemplate& chat_template() const { return template_; }
  bool stopped() const { return stopped_; }   // interrupted or out of context: no further turns
  uint32_t turns() const { return next_turn_; }

 private:
  struct Generated {
    std::string text;
    StopReason stop = StopReason::Eos;
    int64_t steps = 0;
  };
  Generated run_turn(ChatRole role, const std::string& content, bool generate, const AgentObserver& observer,
                     Exchange& exchange);
  void turn_checkpoint(uint32_t turn, Exchange& exchange);
  ToolOutcome call_tool(const ParsedToolCall& call, bool over_limit, const AgentObserver& observer);

  const Model& model_;
  Engine& engine_;
  const ToolBox& tools_;
  AgentOptions options_;
  trace::SessionWriter* writer_;
  ChatTemplate template_;
  RenderState render_;
  uint32_t next_turn_ = 0;
  bool stopped_ = false;
  std::vector<TranscriptEntry> transcript_;
};

}  // namespace ree::agent
