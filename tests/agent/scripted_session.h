#pragma once
// Recording a conversation whose assistant replies are scripted (see
// scripted_engine.h), with the sample model's tokenizer and template.
#include <optional>
#include <string>
#include <vector>

#include "agent_test_util.h"
#include "runtime/agent/agent.h"
#include "runtime/model.h"
#include "scripted_engine.h"

namespace ree::test {

// The sample model (for its tokenizer and ree-sample-v1), loaded once; null when absent.
inline const Model* sample_model_loaded() {
  static const std::optional<Model> model = []() -> std::optional<Model> {
    const auto path = sample_model();
    if (!path) return std::nullopt;
    return load_model(*path, LoadOptions{nullptr, false});
  }();
  return model ? &*model : nullptr;
}

// The token ids of a scripted reply: the text, then <|end|>.
inline std::vector<int32_t> scripted_reply(const Model& model, const std::string& text) {
  std::vector<int32_t> ids = model.tokenizer.encode(text);
  ids.push_back(model.tokenizer.piece_to_id("<|end|>"));
  return ids;
}

inline std::vector<std::vector<int32_t>> scripted_replies(const Model& model, const std::vector<std::string>& texts) {
  std::vector<std::vector<int32_t>> out;
  for (const auto& t : texts) out.push_back(scripted_reply(model, t));
  return out;
}

struct ScriptedRecording {
  std::vector<agent::Exchange> exchanges;
  std::vector<agent::TranscriptEntry> transcript;
};

// Records `user` messages answered by `replies` into `path`.
inline ScriptedRecording record_scripted(const Model& model, const std::filesystem::path& path,
                                         const std::vector<std::string>& replies, const std::vector<std::string>& user,
                                         agent::ToolConfig tools = {}, int max_tool_rounds = agent::kDefaultMaxToolRounds) {
  ScriptedEngine engine(model, scripted_replies(model, replies));
  agent::AgentOptions options;
  options.settings.chat_template = agent::TemplateKind::ReeSampleV1;
  options.settings.max_tokens = 128;
  options.max_tool_rounds = max_tool_rounds;
  agent::ToolBox box(std::move(tools));
  trace::WriterOptions wo;
  wo.existing = trace::ExistingFile::Overwrite;
  trace::SessionWriter writer(path, agent::make_session_header(model, engine, options.settings), wo);
  agent::Agent a(model, engine, box, options, &writer);
  a.system("You are a helpful assistant with tools: calc, now, read_file.");
  ScriptedRecording r;
  for (const auto& u : user) r.exchanges.push_back(a.ask(u));
  r.transcript = a.transcript();
  a.finish();
  return r;
}

}  // namespace ree::test
