#pragma once
// Chat templates at the token level (docs/chat-templates.md). A template
// turns one message into token ids, says which tokens end an assistant
// message, and how an assistant message that stopped without one is closed.
// The agent and replay both render through this file, so a session's
// recorded prompt tokens can be re-derived from its messages exactly.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/model.h"

namespace ree::agent {

enum class ChatRole : uint8_t { System = 0, User = 1, Assistant = 2, Tool = 3 };
const char* chat_role_name(ChatRole);

enum class TemplateKind : uint8_t { ReeSampleV1, ChatMl, Llama2, Zephyr };

// Stable template ids: recorded in session headers (chat_template_id).
const char* template_id(TemplateKind);
std::optional<TemplateKind> parse_template_id(std::string_view id);  // also accepts "tinyllama"
std::string known_template_ids();  // "ree-sample-v1, chatml, llama-2, zephyr"

// A template bound to one tokenizer: the special ids it needs, resolved once.
struct ChatTemplate {
  TemplateKind kind = TemplateKind::ChatMl;
  int32_t bos = -1;                  // -1: the template adds no BOS
  int32_t message_end = -1;          // token closing every message (<|end|>, <|im_end|>, </s>), or -1
  int32_t im_start = -1;             // ChatML's <|im_start|> when the vocabulary has it
  std::vector<int32_t> stop_tokens;  // generation of an assistant message stops at any of these
};

// Where the template choice came from, for messages and `--json`.
struct TemplateChoice {
  TemplateKind kind = TemplateKind::ChatMl;
  std::string reason;  // "--template", "chat_template.txt", "tokenizer_config.json", "vocabulary", "default"
};

// The model's own template: chat_template.txt (a template id) in the model
// directory, then Model::chat_template_hint (an id or template text,
// recognised by its markers), then special pieces in the vocabulary; ChatML
// when nothing says otherwise. Throws ree::Error for an unknown id.
TemplateChoice detect_template(const Model& model);

// Binds `kind` to the model's tokenizer. Throws ree::Error when the
// vocabulary lacks a token the template cannot do without (ree-sample-v1: <|end|>).
ChatTemplate make_template(TemplateKind kind, const Model& model);

// What has been rendered so far: the next message's tokens depend on it
// (BOS at the start, Llama-2's system block, closing an open assistant message).
struct RenderState {
  bool started = false;              // BOS (if any) already emitted
  std::optional<ChatRole> last_role; // role of the last message rendered or generated
  bool assistant_open = false;       // last assistant message stopped without a stop token
};

// Tokens to feed before the next message's generation: closes an open
// assistant message, renders `content` as a `role` message, and when
// `generate` appends the assistant prefix. Updates `state`.
std::vector<int32_t> render_turn(const ChatTemplate& t, const Tokenizer& tok, RenderState& state,
                                 ChatRole role, std::string_view content, bool generate);

// Records that an assistant message was generated; `ended_with_stop` says
// whether its last token was one of t.stop_tokens.
void note_generated(const ChatTemplate& t, RenderState& state, bool ended_with_stop);

bool is_stop_token(const ChatTemplate& t, int32_t token);

}  // namespace ree::agent
