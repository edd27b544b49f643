#include "runtime/agent/chat_template.h"

#include <algorithm>
#include <cctype>
#include <fstream>

#include "runtime/error.h"

namespace ree::agent {

const char* chat_role_name(ChatRole r) {
  switch (r) {
    case ChatRole::System: return "system";
    case ChatRole::User: return "user";
    case ChatRole::Assistant: return "assistant";
    case ChatRole::Tool: return "tool";
  }
  return "?";
}

const char* template_id(TemplateKind k) {
  switch (k) {
    case TemplateKind::ReeSampleV1: return "ree-sample-v1";
    case TemplateKind::ChatMl: return "chatml";
    case TemplateKind::Llama2: return "llama-2";
    case TemplateKind::Zephyr: return "zephyr";
  }
  return "?";
}

std::optional<TemplateKind> parse_template_id(std::string_view id) {
  if (id == "ree-sample-v1") return TemplateKind::ReeSampleV1;
  if (id == "chatml") return TemplateKind::ChatMl;
  if (id == "llama-2" || id == "llama2") return TemplateKind::Llama2;
  if (id == "zephyr" || id == "tinyllama") return TemplateKind::Zephyr;
  return std::nullopt;
}

std::string known_template_ids() { return "ree-sample-v1, chatml, llama-2, zephyr (alias tinyllama)"; }

namespace {

std::string trimmed(std::string s) {
  const auto not_space = [](unsigned char c) { return !std::isspace(c); };
  s.erase(s.begin(), std::find_if(s.begin(), s.end(), not_space));
  s.erase(std::find_if(s.rbegin(), s.rend(), not_space).base(), s.end());
  return s;
}

bool contains(std::string_view text, std::string_view what) { return text.find(what) != std::string_view::npos; }

// Jinja templates are recognised by the markers they emit, not parsed.
std::optional<TemplateKind> kind_from_template_text(std::string_view text) {
  if (contains(text, "<|im_start|>")) return TemplateKind::ChatMl;
  if (contains(text, "[INST]")) return TemplateKind::Llama2;
  if (contains(text, "<|end|>") && contains(text, "<|assistant|>")) return TemplateKind::ReeSampleV1;
  if (contains(text, "<|user|>") && contains(text, "<|assistant|>")) return TemplateKind::Zephyr;
  return std::nullopt;
}

bool has_piece(const Tokenizer& tok, std::string_view piece) { return tok.piece_to_id(piece) >= 0; }

// Text segments go through the tokenizer; a special marker becomes its one
// id when the vocabulary has it, and is encoded as text otherwise.
void append_text(std::vector<int32_t>& out, const Tokenizer& tok, std::string_view text) {
  if (text.empty()) return;
  const auto ids = tok.encode(text);
  out.insert(out.end(), ids.begin(), ids.end());
}

void append_marker(std::vector<int32_t>& out, const Tokenizer& tok, int32_t id, std::string_view text) {
  if (id >= 0) out.push_back(id);
  else append_text(out, tok, text);
}

// Closing tokens of the last generated assistant message, before the next message.
void append_closer(std::vector<int32_t>& out, const ChatTemplate& t, const Tokenizer& tok,
                   const RenderState& s) {
  if (s.last_role != ChatRole::Assistant) return;
  switch (t.kind) {
    case TemplateKind::ReeSampleV1:
    case TemplateKind::Llama2:
      if (s.assistant_open) out.push_back(t.message_end);
      return;
    case TemplateKind::ChatMl:
      if (s.assistant_open) append_marker(out, tok, t.message_end, "<|im_end|>");
      append_text(out, tok, "\n");
      return;
    case TemplateKind::Zephyr:
      if (s.assistant_open) out.push_back(t.message_end);
      append_text(out, tok, "\n");
      return;
  }
}

void render_ree_sample(std::vector<int32_t>& out, const ChatTemplate& t, const Tokenizer& tok,
                       ChatRole role, std::string_view content) {
  append_text(out, tok, std::string("<|") + chat_role_name(role) + "|>");
  append_text(out, tok, content);
  out.push_back(t.message_end);
}

void render_chatml(std::vector<int32_t>& out, const ChatTemplate& t, const Tokenizer& tok, ChatRole role,
                   std::string_view content) {
  append_marker(out, tok, t.im_start, "<|im_start|>");
  append_text(out, tok, std::string(chat_role_name(role)) + "\n" + std::string(content));
  append_marker(out, tok, t.message_end, "<|im_end|>");
  append_text(out, tok, "\n");
}

// Llama-2 has no system or tool message of its own: the system block opens
// the first [INST], tool results are wrapped in an [INST] of their own.
void render_llama2(std::vector<int32_t>& out, const ChatTemplate& t, const Tokenizer& tok,
                   const RenderState& s, ChatRole role, std::string_view content) {
  const std::string c(content);
  if (role == ChatRole::System) {
    out.push_back(t.bos);
    append_text(out, tok, "[INST] <<SYS>>\n" + c + "\n<</SYS>>\n\n");
    return;
  }
  const bool after_system = s.last_role == ChatRole::System;
  if (!after_system) out.push_back(t.bos);
  const std::string body = role == ChatRole::Tool ? "[TOOL_RESULT] " + c + " [/TOOL_RESULT]" : c;
  append_text(out, tok, (after_system ? "" : "[INST] ") + body + " [/INST]");
}

void render_zephyr(std::vector<int32_t>& out, const ChatTemplate& t, const Tokenizer& tok, ChatRole role,
                   std::string_view content) {
  append_text(out, tok, std::string("<|") + chat_role_name(role) + "|>\n" + std::string(content));
  out.push_back(t.message_end);
  append_text(out, tok, "\n");
}

void render_assistant_prefix(std::vector<int32_t>& out, const ChatTemplate& t, const Tokenizer& tok) {
  switch (t.kind) {
    case TemplateKind::ReeSampleV1: append_text(out, tok, "<|assistant|>"); return;
    case TemplateKind::ChatMl:
      append_marker(out, tok, t.im_start, "<|im_start|>");
      append_text(out, tok, "assistant\n");
      return;
    case TemplateKind::Llama2: return;  // the answer follows [/INST] directly
    case TemplateKind::Zephyr: append_text(out, tok, "<|assistant|>\n"); return;
  }
}

}  // namespace

TemplateChoice detect_template(const Model& model) {
  std::error_code ec;
  const auto file = model.source / "chat_template.txt";
  if (std::filesystem::is_directory(model.source, ec) && std::filesystem::exists(file, ec)) {
    std::ifstream in(file);
    std::string line;
    std::getline(in, line);
    line = trimmed(line);
    const auto kind = parse_template_id(line);
    if (!kind)
      throw file_error(file.string(), "unknown chat template id '" + line + "' (known: " + known_template_ids() + ")");
    return {*kind, "chat_template.txt"};
  }
  const std::string hint = trimmed(model.chat_template_hint);
  if (!hint.empty()) {
    if (auto kind = parse_template_id(hint)) return {*kind, "model metadata"};
    if (auto kind = kind_from_template_text(hint)) return {*kind, "tokenizer_config.json chat_template"};
  }
  const Tokenizer& tok = model.tokenizer;
  if (has_piece(tok, "<|end|>") && has_piece(tok, "<|assistant|>")) return {TemplateKind::ReeSampleV1, "vocabulary"};
  if (has_piece(tok, "<|im_start|>") && has_piece(tok, "<|im_end|>")) return {TemplateKind::ChatMl, "vocabulary"};
  return {TemplateKind::ChatMl, "default (the model names no template)"};
}

ChatTemplate make_template(TemplateKind kind, const Model& model) {
  const Tokenizer& tok = model.tokenizer;
  ChatTemplate t;
  t.kind = kind;
  const int32_t eos = model.config.eos_id;
  switch (kind) {
    case TemplateKind::ReeSampleV1:
      t.bos = model.config.bos_id;
      t.message_end = tok.piece_to_id("<|end|>");
      if (t.message_end < 0)
        throw Error("chat template ree-sample-v1 needs the piece <|end|>, which the vocabulary of " +
                    model.identity.name + " lacks (choose another with --template)");
      t.stop_tokens = {t.message_end};
      break;
    case TemplateKind::ChatMl:
      t.im_start = tok.piece_to_id("<|im_start|>");
      t.message_end = tok.piece_to_id("<|im_end|>");
      if (t.message_end >= 0) t.stop_tokens.push_back(t.message_end);
      if (eos >= 0 && eos != t.message_end) t.stop_tokens.push_back(eos);
      break;
    case TemplateKind::Llama2:
    case TemplateKind::Zephyr:
      t.bos = model.config.bos_id;
      t.message_end = eos;
      t.stop_tokens = {eos};
      break;
  }
  return t;
}

std::vector<int32_t> render_turn(const ChatTemplate& t, const Tokenizer& tok, RenderState& state, ChatRole role,
                                 std::string_view content, bool generate) {
  std::vector<int32_t> out;
  append_closer(out, t, tok, state);
  // Llama-2 opens every exchange with its own BOS; the others open the conversation with one.
  if (!state.started && t.bos >= 0 && t.kind != TemplateKind::Llama2) out.push_back(t.bos);
  switch (t.kind) {
    case TemplateKind::ReeSampleV1: render_ree_sample(out, t, tok, role, content); break;
    case TemplateKind::ChatMl: render_chatml(out, t, tok, role, content); break;
    case TemplateKind::Llama2: render_llama2(out, t, tok, state, role, content); break;
    case TemplateKind::Zephyr: render_zephyr(out, t, tok, role, content); break;
  }
  if (generate) render_assistant_prefix(out, t, tok);
  state.started = true;
  state.last_role = role;
  state.assistant_open = false;
  return out;
}

void note_generated(const ChatTemplate&, RenderState& state, bool ended_with_stop) {
  state.last_role = ChatRole::Assistant;
  state.assistant_open = !ended_with_stop;
}

bool is_stop_token(const ChatTemplate& t, int32_t token) {
  return std::find(t.stop_tokens.begin(), t.stop_tokens.end(), token) != t.stop_tokens.end();
}

}  // namespace ree::agent
